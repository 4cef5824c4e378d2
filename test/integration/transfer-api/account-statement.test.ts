import { derivedUetr } from '../../../lib/record/transfer-identifiers';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { pino } from 'pino';
import type { EventStore } from '../../../lib/events/event-store';
import { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { buildTransferApi } from '../../../services/transfer-api/app';
import { hashApiKey } from '../../../services/transfer-api/config';
import { BankAccounts } from '../../../services/transfer-api/gateways/bank-accounts';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import { portFake } from '../../support/fakes/port-fake';
import { FakeReconciliations } from '../../support/fakes/reconciliations';
import { FakeTransferWorkflows } from '../../support/fakes/transfer-workflows';
import { http, type HttpAnswer } from '../../support/http';
import { xsdErrors } from '../../support/xsd-validation';

jest.setTimeout(300_000);

const dayMs = 86_400_000;
const operatorKey = 'operator-statement-key-000000000000';
const clientKey = 'client-statement-key-0000000000000';
const uetr = '5b1f0f0e-3c4d-4a5b-8c6d-7e8f9a0b1c2d';

type Entry = { sequence: number; createdAt: string };

/** Opening and closing balances and each entry's signed minor units, read back from the served document (EUR: two decimals). */
function figures(xml: string): { opening: bigint; closing: bigint; entries: bigint[]; references: string[] } {
  const minor = (amount: string, direction: string) => (direction === 'DBIT' ? -1n : 1n) * BigInt(amount.replace('.', ''));
  const balance = (code: string) => {
    const match = new RegExp(`<Cd>${code}</Cd>[\\s\\S]*?<Amt Ccy="EUR">([^<]*)</Amt>\\s*<CdtDbtInd>(CRDT|DBIT)</CdtDbtInd>`).exec(xml);
    if (!match) throw new Error(`no ${code} balance in the statement`);
    return minor(match[1] as string, match[2] as string);
  };
  const entries = [...xml.matchAll(/<Ntry>[\s\S]*?<Amt Ccy="EUR">([^<]*)<\/Amt>\s*<CdtDbtInd>(CRDT|DBIT)<\/CdtDbtInd>/g)].map((match) => minor(match[1] as string, match[2] as string));
  const references = [...xml.matchAll(/<AcctSvcrRef>([^<]*)<\/AcctSvcrRef>/g)].map((match) => match[1] as string);
  return { opening: balance('OPBD'), closing: balance('CLBD'), entries, references };
}

/**
 * The statement route of the transfer API, in process, against a real account service on a real
 * FerretDB whose clock is moved between bookings (TEST_CLOCK_OFFSET_MS), so that the money moves on
 * three different days; the transfer record is a real store on the same FerretDB.
 */
describe('transfer API: camt.053 account statement against a real account service', () => {
  let bank: AccountServiceFixture;
  let server: Server;
  let baseUrl: string;
  const days = { first: '', empty: '', second: '', today: '' };
  const sequences: Record<string, number> = {};

  const statement = (path: string, key = operatorKey): Promise<HttpAnswer> => http(`${baseUrl}${path}`, { headers: { authorization: `Bearer ${key}` } });
  const stella = (query: string) => statement(`/v1/banks/bank-a/accounts/stella/statement?${query}`);

  async function book(path: string, body: unknown, status = 200): Promise<Entry> {
    const answer = await bank.call('POST', path, body);
    expect(answer.status).toBe(status);
    return ((answer.body as { entry?: Entry }).entry ?? answer.body) as Entry;
  }

  beforeAll(async () => {
    bank = await startAccountServiceFixture('transfer-api-statement', 'bank-a', { ALLOW_TEST_CLOCK: 'true', TEST_CLOCK_OFFSET_MS: String(-3 * dayMs) });
    const records = new TransferRecordStore(bank.db.client.db('transfer_api_statement'));
    // A transfer the record knows, with the references the statement names; the others it does not know.
    // t-known holds them on the record, t-other in its request, t-today not at all (recorded before references existed).
    const transfers = bank.db.client.db('transfer_api_statement').collection<{ _id: string; client: string; createdAt: string } & Record<string, unknown>>('transfers');
    await transfers.insertMany([
      { _id: 't-known', client: 'client-a', uetr, endToEndId: 'E2E-KNOWN-1', createdAt: new Date().toISOString() },
      { _id: 't-other', client: 'client-a', request: { endToEndId: 'E2E-IN-REQUEST' }, createdAt: new Date().toISOString() },
      { _id: 't-today', client: 'client-a', request: {}, createdAt: new Date().toISOString() },
    ]);
    const { app } = buildTransferApi({
      logger: pino({ level: 'silent' }),
      apiKeys: [
        { name: 'operator', role: 'operator', keyHash: hashApiKey(operatorKey) },
        { name: 'client-a', role: 'client', keyHash: hashApiKey(clientKey) },
      ],
      workflows: new FakeTransferWorkflows(),
      records,
      banks: new BankAccounts([{ bankId: 'bank-a', url: bank.url }], testSigningKey, 30_000),
      reconciliations: new FakeReconciliations(),
      policy: { approvalThresholdMinor: '1000000', approvalTimeoutMs: 60_000, amountMaxMinor: '100000000000', banks: ['bank-a'], refundAttentionAfterAttempts: 3 },
      authority: { clientMandates: new Map([['client-a', { kind: 'banks', banks: new Set(['bank-a']) }]]), approvalFourEyes: true },
      rateLimitPerMinute: 1_000,
      transferOverdueAfterMs: 60_000,
      events: portFake<EventStore>('EventStore', {}),
      allowedWebhookHosts: [],
    });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(0, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(listening)));
    });
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    // Three days ago: the account opens, 1000.00 comes in, 25.50 goes out, a debit past the balance is refused (a zero-amount entry).
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'stella', owner: 'Stella & Co <Statements>', currency: 'EUR' })).status).toBe(201);
    const deposit = await book('/v1/accounts/stella/deposits', { depositId: 'dep-1', amountMinor: '100000', currency: 'EUR' });
    sequences.deposit = deposit.sequence;
    sequences.known = (await book('/v1/accounts/stella/debits', { transferId: 't-known', amountMinor: '2550', currency: 'EUR' })).sequence;
    await book('/v1/accounts/stella/debits', { transferId: 't-refused', amountMinor: '999999999', currency: 'EUR' }, 422);
    days.first = deposit.createdAt.slice(0, 10);
    days.empty = new Date(Date.parse(`${days.first}T00:00:00.000Z`) + dayMs).toISOString().slice(0, 10);

    // Yesterday: 70.00 comes in by a transfer, and the first debit is refunded.
    await bank.restart({ TEST_CLOCK_OFFSET_MS: String(-dayMs) });
    const credit = await book('/v1/accounts/stella/credits', { transferId: 't-other', amountMinor: '7000', currency: 'EUR' });
    sequences.credit = credit.sequence;
    sequences.refund = (await book('/v1/accounts/stella/refunds', { transferId: 't-known' })).sequence;
    days.second = credit.createdAt.slice(0, 10);

    // Today: 10.00 goes out.
    await bank.restart({ TEST_CLOCK_OFFSET_MS: '0' });
    const today = await book('/v1/accounts/stella/debits', { transferId: 't-today', amountMinor: '1000', currency: 'EUR' });
    sequences.today = today.sequence;
    days.today = today.createdAt.slice(0, 10);
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await bank?.stop();
  });

  test('when the statement covers the first day, then it opens at 0, books the deposit and the debit (not the refusal) with the record references, and is valid camt.053', async () => {
    const answer = await stella(`from=${days.first}&to=${days.first}`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/xml/);
    expect(await xsdErrors(answer.text, 'camt.053.001.08')).toEqual([]);
    expect(figures(answer.text)).toEqual({ opening: 0n, closing: 97_450n, entries: [100_000n, -2_550n], references: [String(sequences.deposit), String(sequences.known)] });
    expect(answer.text).toContain(`<UETR>${uetr}</UETR>`);
    expect(answer.text).toContain('<EndToEndId>E2E-KNOWN-1</EndToEndId>');
    expect(answer.text).toContain('<AddtlTxInf>Transfer t-known</AddtlTxInf>');
    expect(answer.text).toContain('<Nm>Stella &amp; Co &lt;Statements&gt;</Nm>');
    expect(answer.text).toContain(`<Dt>${days.first}</Dt>`);
  });

  test('when the statement covers a day without bookings, then the opening and closing balances are the balance of that day and there is no entry', async () => {
    const answer = await stella(`from=${days.empty}&to=${days.empty}`);
    expect(answer.status).toBe(200);
    expect(await xsdErrors(answer.text, 'camt.053.001.08')).toEqual([]);
    expect(figures(answer.text)).toEqual({ opening: 97_450n, closing: 97_450n, entries: [], references: [] });
  });

  test('when the statement covers yesterday, then it opens at the first day close and books the credit and the refund', async () => {
    const answer = await stella(`from=${days.second}&to=${days.second}`);
    expect(answer.status).toBe(200);
    expect(await xsdErrors(answer.text, 'camt.053.001.08')).toEqual([]);
    expect(figures(answer.text)).toEqual({ opening: 97_450n, closing: 107_000n, entries: [7_000n, 2_550n], references: [String(sequences.credit), String(sequences.refund)] });
    expect(answer.text).toContain('<AddtlTxInf>Transfer t-other</AddtlTxInf>');
    expect(answer.text).toContain('<EndToEndId>E2E-IN-REQUEST</EndToEndId>');
    expect(answer.text).toContain(`<UETR>${uetr}</UETR>`);
  });

  test('when the statement covers every day up to today, then opening + every entry = closing = the account balance', async () => {
    const answer = await stella(`from=${days.first}&to=${days.today}`);
    expect(answer.status).toBe(200);
    expect(await xsdErrors(answer.text, 'camt.053.001.08')).toEqual([]);
    const served = figures(answer.text);
    expect(served).toEqual({ opening: 0n, closing: 106_000n, entries: [100_000n, -2_550n, 7_000n, 2_550n, -1_000n], references: [sequences.deposit, sequences.known, sequences.credit, sequences.refund, sequences.today].map(String) });
    expect(served.opening + served.entries.reduce((sum, entry) => sum + entry, 0n)).toBe(served.closing);
    expect(((await bank.call('GET', '/v1/accounts/stella')).body as { balanceMinor: string }).balanceMinor).toBe('106000');
    // Five bookings, four of them legs of recorded transfers; t-today's record is older than UETRs and shows the one derived from its id.
    expect(answer.text.match(/<Refs>/g)).toHaveLength(4);
    expect(answer.text).toContain('<AddtlTxInf>Transfer t-today</AddtlTxInf>');
    expect(answer.text).toContain(`<UETR>${derivedUetr('t-today')}</UETR>`);
  });

  test.each([
    ['from is missing', `to=2026-11-30`, 'from'],
    ['to is missing', `from=2026-11-01`, 'to'],
    ['from is no calendar date', `from=2026-02-30&to=2026-03-01`, 'from'],
    ['to is not YYYY-MM-DD', `from=2026-11-01&to=2026-11-1`, 'to'],
    ['to is before from', `from=2026-11-02&to=2026-11-01`, 'to'],
    ['the span is 32 days', `from=2026-01-01&to=2026-02-01`, 'to'],
    ['the query has an unknown parameter', `from=2026-11-01&to=2026-11-01&page=2`, 'page'],
  ])('when %s, then 400 VALIDATION_FAILED names the field', async (_case, query, field) => {
    const answer = await stella(query);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  test('when the span is exactly 31 days, then the statement is served', async () => {
    const from = new Date(Date.parse(`${days.today}T00:00:00.000Z`) - 30 * dayMs).toISOString().slice(0, 10);
    const answer = await stella(`from=${from}&to=${days.today}`);
    expect(answer.status).toBe(200);
    expect(figures(answer.text).closing).toBe(106_000n);
  });

  test('when the account id is longer than the 34 characters camt.053 holds, then 400 VALIDATION_FAILED names accountId', async () => {
    const answer = await statement(`/v1/banks/bank-a/accounts/${'a'.repeat(35)}/statement?from=2026-11-01&to=2026-11-01`);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'accountId' });
  });

  test('when the account or the bank is unknown, then 404 ACCOUNT_NOT_FOUND or BANK_NOT_FOUND', async () => {
    const account = await statement(`/v1/banks/bank-a/accounts/nobody/statement?from=${days.first}&to=${days.first}`);
    expect(account.status).toBe(404);
    expect(account.body.error).toMatchObject({ code: 'ACCOUNT_NOT_FOUND' });
    const bankAnswer = await statement(`/v1/banks/bank-z/accounts/stella/statement?from=${days.first}&to=${days.first}`);
    expect(bankAnswer.status).toBe(404);
    expect(bankAnswer.body.error).toMatchObject({ code: 'BANK_NOT_FOUND', field: 'bankId' });
  });

  test('when a client key asks, then 403 FORBIDDEN, as for the account entries', async () => {
    const answer = await statement(`/v1/banks/bank-a/accounts/stella/statement?from=${days.first}&to=${days.first}`, clientKey);
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'FORBIDDEN' });
  });
});
