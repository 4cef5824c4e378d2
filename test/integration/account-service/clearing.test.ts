import { Registry } from 'prom-client';
import { entryPageSchema, ledgerEntryViewSchema, type LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { Ledger } from '../../../services/account-service/ledger/ledger';
import { createLedgerMetrics } from '../../../services/account-service/ledger/ledger-metrics';
import { LedgerStore } from '../../../services/account-service/ledger/ledger-store';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(300_000);

/**
 * Double entry at a bank, on a real account service and a real FerretDB: every applied interbank
 * customer leg has its counterpart on the bank's clearing account, booked once however often the
 * leg is asked for, and booked late when a crash came between the two entries.
 */
describe('account service: the clearing account', () => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-clearing', 'bank-a');
    for (const [accountId, funds] of [['alice', '10000'], ['bob', undefined], ['carol', '10000']] as const) {
      expect((await bank.call('POST', '/v1/accounts', { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (funds) expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: funds, currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await bank?.stop();
  });

  const leg = (kind: 'debits' | 'credits', accountId: string, transferId: string, amountMinor: string, clearing = true) =>
    bank.call('POST', `/v1/accounts/${accountId}/${kind}`, { transferId, amountMinor, currency: 'EUR', ...(clearing ? { clearing: true } : {}) });
  const undo = (kind: 'refunds' | 'credit-voids', accountId: string, transferId: string) => bank.call('POST', `/v1/accounts/${accountId}/${kind}`, { transferId });
  const clearingChain = async (): Promise<LedgerEntryView[]> => entryPageSchema.parse((await bank.call('GET', '/v1/accounts/clearing.EUR/entries?limit=500')).body).data;
  const counterparts = async (): Promise<Array<[string, string]>> => (await clearingChain()).filter((entry) => entry.kind === 'clearing').map((entry) => [entry.operationId, entry.amountMinor]);
  const balanceOf = async (accountId: string): Promise<string> => ((await bank.call('GET', `/v1/accounts/${accountId}`)).body as { balanceMinor: string }).balanceMinor;

  test('when interbank legs apply, replay, refund and are voided, then the clearing account holds exactly one counterpart per applied leg and the bank balances', async () => {
    const debit = await leg('debits', 'alice', 'x-1', '200');
    expect(debit.status).toBe(200);
    expect(ledgerEntryViewSchema.parse(debit.body)).toMatchObject({ amountMinor: '-200', clearingAccountId: 'clearing.EUR' });
    expect((await leg('debits', 'alice', 'x-1', '200')).body).toEqual(debit.body);
    expect((await leg('credits', 'bob', 'x-2', '300')).status).toBe(200);
    // A credit the void answers with (the credit holds its slot) keeps its one counterpart.
    expect(ledgerEntryViewSchema.parse((await undo('credit-voids', 'bob', 'x-2')).body)).toMatchObject({ kind: 'credit', amountMinor: '300' });
    const refunded = await undo('refunds', 'alice', 'x-1');
    expect(ledgerEntryViewSchema.parse(refunded.body)).toMatchObject({ kind: 'refund', amountMinor: '200', clearingAccountId: 'clearing.EUR' });
    expect((await undo('refunds', 'alice', 'x-1')).body).toEqual(refunded.body);

    // Not cleared: within one bank, or refused (nothing moved), or a refund of a refused debit.
    expect(ledgerEntryViewSchema.parse((await leg('debits', 'carol', 'x-3', '50', false)).body)).not.toHaveProperty('clearingAccountId');
    expect((await leg('debits', 'bob', 'x-4', '999999')).status).toBe(422);
    expect(ledgerEntryViewSchema.parse((await undo('refunds', 'bob', 'x-4')).body)).toMatchObject({ outcome: 'NOTHING_TO_REFUND' });

    expect(await counterparts()).toEqual([
      ['x-1:debit', '200'],
      ['x-2:credit', '-300'],
      ['x-1:refund', '-200'],
    ]);
    expect(await balanceOf('clearing.EUR')).toBe('-300');
    // The bank's books: customers and clearing together hold exactly the deposits, less carol's one-bank debit to nowhere.
    const total = (await Promise.all(['alice', 'bob', 'carol', 'clearing.EUR'].map(balanceOf))).reduce((sum, balance) => sum + BigInt(balance), 0n);
    expect(total).toBe(20_000n - 50n);
  });

  test('when 20 copies of one cleared debit race, then one leg and one counterpart are booked', async () => {
    const answers = await Promise.all(Array.from({ length: 20 }, () => leg('debits', 'carol', 'race-1', '70')));
    expect(new Set(answers.map((answer) => answer.status))).toEqual(new Set([200]));
    expect(await bank.db.collection('entries').countDocuments({ accountId: 'carol', operationId: 'race-1:debit' })).toBe(1);
    expect(await bank.db.collection('entries').countDocuments({ accountId: 'clearing.EUR', operationId: 'race-1:debit' })).toBe(1);
  });

  describe('when a crash came between a leg and its counterpart', () => {
    /** What a kill -9 between the two inserts leaves: the leg applied, naming its clearing account, and no counterpart. */
    async function legWithoutCounterpart(accountId: string, kind: 'debit' | 'credit', transferId: string, amountMinor: bigint): Promise<void> {
      const ledger = new Ledger(new LedgerStore(bank.db), () => new Date(), createLedgerMetrics(new Registry()));
      const entry = await ledger.apply(accountId, { operationId: `${transferId}:${kind}`, kind, amountMinor, currency: 'EUR', clearingAccountId: 'clearing.EUR' });
      expect(entry).toMatchObject({ outcome: 'APPLIED', clearingAccountId: 'clearing.EUR' });
      expect(await bank.db.collection('entries').countDocuments({ accountId: 'clearing.EUR', operationId: `${transferId}:${kind}` })).toBe(0);
    }
    const counterpartOf = async (operationId: string) => (await counterparts()).filter(([id]) => id === operationId);

    test('then the retried leg books it', async () => {
      await legWithoutCounterpart('alice', 'debit', 'gap-1', 40n);
      expect((await leg('debits', 'alice', 'gap-1', '40')).status).toBe(200);
      expect(await counterpartOf('gap-1:debit')).toEqual([['gap-1:debit', '40']]);
    });

    test('then the refund books the debit counterpart before its own', async () => {
      await legWithoutCounterpart('alice', 'debit', 'gap-2', 60n);
      expect((await undo('refunds', 'alice', 'gap-2')).status).toBe(200);
      const chain = (await clearingChain()).map((entry) => entry.operationId);
      expect(chain.indexOf('gap-2:debit')).toBeGreaterThan(0);
      expect(chain.indexOf('gap-2:refund')).toBe(chain.indexOf('gap-2:debit') + 1);
      expect([...(await counterpartOf('gap-2:debit')), ...(await counterpartOf('gap-2:refund'))]).toEqual([
        ['gap-2:debit', '60'],
        ['gap-2:refund', '-60'],
      ]);
    });

    test('then the credit-void that finds the credit books it', async () => {
      await legWithoutCounterpart('bob', 'credit', 'gap-3', 25n);
      expect(ledgerEntryViewSchema.parse((await undo('credit-voids', 'bob', 'gap-3')).body)).toMatchObject({ kind: 'credit', amountMinor: '25' });
      expect(await counterpartOf('gap-3:credit')).toEqual([['gap-3:credit', '-25']]);
    });
  });

  test('when a caller names the clearing account for money or administration, then it is unknown to them and nothing is written; reading it works', async () => {
    const before = await bank.db.collection('entries').countDocuments({ accountId: 'clearing.EUR' });
    const writes: Array<[string, unknown]> = [
      ['/v1/accounts/clearing.EUR/debits', { transferId: 'c-1', amountMinor: '1', currency: 'EUR' }],
      ['/v1/accounts/clearing.EUR/credits', { transferId: 'c-2', amountMinor: '1', currency: 'EUR', clearing: true }],
      ['/v1/accounts/clearing.EUR/refunds', { transferId: 'x-1' }],
      ['/v1/accounts/clearing.EUR/credit-voids', { transferId: 'x-2' }],
      ['/v1/accounts/clearing.EUR/deposits', { depositId: 'd-1', amountMinor: '1', currency: 'EUR' }],
      ['/v1/accounts/clearing.EUR/freeze', { changeId: 'f-1' }],
      ['/v1/accounts/clearing.EUR/close', { changeId: 'k-1' }],
      ['/v1/accounts/clearing.EUR/overdraft-limit', { changeId: 'o-1', overdraftLimitMinor: '5' }],
    ];
    for (const [path, body] of writes) {
      const answer = await bank.call('POST', path, body);
      expect([path, answer.status, (answer.body as { error: { code: string } }).error.code]).toEqual([path, 404, 'ACCOUNT_NOT_FOUND']);
    }
    const open = await bank.call('POST', '/v1/accounts', { accountId: 'clearing.USD', owner: 'someone', currency: 'USD' });
    expect([open.status, (open.body as { error: { code: string; field: string } }).error]).toEqual([400, expect.objectContaining({ code: 'VALIDATION_FAILED', field: 'accountId' })]);
    expect(await bank.db.collection('accounts').countDocuments({ _id: 'clearing.USD' } as never)).toBe(0);
    expect(await bank.db.collection('entries').countDocuments({ accountId: 'clearing.EUR' })).toBe(before);
    expect((await bank.call('GET', '/v1/accounts/clearing.EUR')).status).toBe(200);
  });
});
