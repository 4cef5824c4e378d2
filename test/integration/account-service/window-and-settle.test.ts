import { accountViewSchema, entryPageSchema, ledgerEntryViewSchema, type LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import type { SigningKey } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import type { HttpAnswer } from '../../support/http';

jest.setTimeout(300_000);

/** The transfer API's kind of key: it administers accounts and reads them, it may not move money. */
const adminKey: SigningKey = { keyId: 'api-1', secret: 'a'.repeat(40) };
/** The worker's kind of key: it moves money and reads. */
const ledgerKey: SigningKey = { keyId: 'worker-1', secret: 'w'.repeat(40) };

type EntryView = LedgerEntryView;

/**
 * A settlement bank's two window operations on a real account service on a real FerretDB: window
 * markers, ordered with debits by the account's chain so that every debit says which window it
 * was decided in, and settlement moves, which land past the overdraft limit (the Net Debit Cap).
 */
describe('account service: settlement windows and settlement moves', () => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-window-and-settle', 'settlement', {
      SERVICE_KEYS: `${testSigningKey.keyId}:${testSigningKey.secret},${adminKey.keyId}:${adminKey.secret}:admin|read,${ledgerKey.keyId}:${ledgerKey.secret}:ledger|read`,
    });
  });

  afterAll(async () => {
    await bank?.stop();
  });

  const send = (key: SigningKey, path: string, payload: unknown): Promise<HttpAnswer> => bank.sendAs(key, path, payload);

  async function open(accountId: string, overdraftLimitMinor: string, fundsMinor?: string): Promise<void> {
    expect((await bank.call('POST', '/v1/accounts', { accountId, owner: `Owner ${accountId}`, currency: 'EUR', overdraftLimitMinor })).status).toBe(201);
    if (fundsMinor !== undefined) expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: fundsMinor, currency: 'EUR' })).status).toBe(200);
  }

  const mark = (accountId: string, windowId: string, key: SigningKey = ledgerKey) => send(key, `/v1/accounts/${accountId}/windows`, { windowId });
  const settle = (accountId: string, settlementId: string, amountMinor: string, currency = 'EUR', key: SigningKey = ledgerKey) =>
    send(key, `/v1/accounts/${accountId}/settlements`, { settlementId, amountMinor, currency });
  const debit = (accountId: string, transferId: string, amountMinor = '100') => send(ledgerKey, `/v1/accounts/${accountId}/debits`, { transferId, amountMinor, currency: 'EUR' });
  const account = async (accountId: string): Promise<Record<string, unknown>> => (await bank.call('GET', `/v1/accounts/${accountId}`)).body as Record<string, unknown>;
  const chain = async (accountId: string): Promise<EntryView[]> => entryPageSchema.parse((await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=500`)).body).data;
  const entryCount = (accountId: string): Promise<number> => bank.db.collection('entries').countDocuments({ accountId });

  describe('window markers', () => {
    const accountId = 'position-bank-b';
    let opened: HttpAnswer;
    let marked: HttpAnswer;

    beforeAll(async () => {
      await open(accountId, '1000', '100000');
      opened = await mark(accountId, 'w-1');
    });

    test('when a chain has no marker, then neither its entries nor the account carry a window', async () => {
      await open('no-window', '0', '500');
      expect((await debit('no-window', 'plain-1')).body).not.toHaveProperty('windowId');
      expect((await chain('no-window')).some((entry) => 'windowId' in entry)).toBe(false);
      expect(await account('no-window')).not.toHaveProperty('windowId');
    });

    test('when a window is marked, then 200 with a zero-amount window entry, and the account is in that window', async () => {
      expect(opened.status).toBe(200);
      expect(ledgerEntryViewSchema.parse(opened.body)).toMatchObject({ operationId: 'w-1:window', kind: 'window', outcome: 'APPLIED', amountMinor: '0', balanceAfterMinor: '100000', windowId: 'w-1' });
      expect(accountViewSchema.parse(await account(accountId))).toMatchObject({ balanceMinor: '100000', windowId: 'w-1' });
    });

    test('when 30 debits race a marker, then every applied debit carries the old window before the marker and the new one after it', async () => {
      const first = Array.from({ length: 15 }, (_, index) => debit(accountId, `race-a-${index}`));
      const marker = mark(accountId, 'w-2');
      const second = Array.from({ length: 15 }, (_, index) => debit(accountId, `race-b-${index}`));
      const answers = await Promise.all([...first, ...second]);
      marked = await marker;

      expect(marked.status).toBe(200);
      expect(marked.body).toMatchObject({ operationId: 'w-2:window', kind: 'window', outcome: 'APPLIED', windowId: 'w-2' });
      expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
      const entries = await chain(accountId);
      const markerAt = entries.find((entry) => entry.operationId === 'w-2:window');
      expect(markerAt).toMatchObject({ sequence: marked.body.sequence, windowId: 'w-2' });
      const markerSequence = markerAt?.sequence ?? -1;
      const raced = entries.filter((entry) => entry.operationId.startsWith('race-'));
      expect(raced).toHaveLength(30);
      for (const entry of raced) {
        expect({ sequence: entry.sequence, outcome: entry.outcome, windowId: entry.windowId }).toEqual({ sequence: entry.sequence, outcome: 'APPLIED', windowId: entry.sequence < markerSequence ? 'w-1' : 'w-2' });
      }
      // What each debit was answered is what its entry in the chain says.
      const answered = new Map(answers.map((answer) => [String(answer.body.operationId), answer.body.windowId]));
      for (const entry of raced) expect([entry.operationId, answered.get(entry.operationId)]).toEqual([entry.operationId, entry.windowId]);
      // Every entry of the chain from the first marker on carries the window in force at its place.
      let current: string | undefined;
      for (const entry of entries) {
        if (entry.kind === 'window') current = entry.windowId;
        expect([entry.sequence, entry.windowId]).toEqual([entry.sequence, current]);
      }
      expect(await account(accountId)).toMatchObject({ balanceMinor: String(100_000 - 30 * 100), windowId: 'w-2' });
    });

    test('when a marker is repeated, even after a later one, then it answers its first entry and nothing is written', async () => {
      const before = await entryCount(accountId);
      const again = await mark(accountId, 'w-2');
      expect([again.status, again.text]).toEqual([200, marked.text]);
      const older = await mark(accountId, 'w-1');
      expect([older.status, older.text]).toEqual([200, opened.text]);
      expect(await entryCount(accountId)).toBe(before);
      expect(await account(accountId)).toMatchObject({ windowId: 'w-2' });
    });

    test('when a debit follows the race, then it carries the new window', async () => {
      expect((await debit(accountId, 'after-race')).body).toMatchObject({ outcome: 'APPLIED', windowId: 'w-2' });
    });

    test('when the account is frozen, then a marker applies; when it is closed, then 422 ACCOUNT_CLOSED, recorded, and its repeat answers the same', async () => {
      await open('window-frozen', '0');
      expect((await send(testSigningKey, '/v1/accounts/window-frozen/freeze', { changeId: 'freeze-it' })).status).toBe(200);
      expect((await mark('window-frozen', 'w-1')).body).toMatchObject({ kind: 'window', outcome: 'APPLIED', windowId: 'w-1' });
      expect((await send(testSigningKey, '/v1/accounts/window-frozen/close', { changeId: 'close-it' })).body).toMatchObject({ status: 'CLOSED', windowId: 'w-1' });
      const refused = await mark('window-frozen', 'w-2');
      expect([refused.status, refused.body.error?.code]).toEqual([422, 'ACCOUNT_CLOSED']);
      expect(refused.body.entry).toMatchObject({ kind: 'window', outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', windowId: 'w-1' });
      expect((await mark('window-frozen', 'w-2')).text).toBe(refused.text);
      expect(await account('window-frozen')).toMatchObject({ status: 'CLOSED', windowId: 'w-1' });
    });
  });

  describe('settlement moves', () => {
    const accountId = 'position-bank-c';
    let settled: HttpAnswer;

    beforeAll(async () => {
      await open(accountId, '1000');
      settled = await settle(accountId, 'net-1', '-5000');
    });

    test('when -5000 is settled on a position with an overdraft limit of 1000 and a balance of 0, then it applies and the balance is -5000', async () => {
      expect(settled.status).toBe(200);
      expect(ledgerEntryViewSchema.parse(settled.body)).toMatchObject({ operationId: 'net-1:settle', kind: 'settle', outcome: 'APPLIED', amountMinor: '-5000', balanceAfterMinor: '-5000', dayDebitedMinor: '0' });
      expect(await account(accountId)).toMatchObject({ balanceMinor: '-5000', overdraftLimitMinor: '1000', dayDebitedMinor: '0' });
    });

    test('when a debit follows, then 422 INSUFFICIENT_FUNDS: the position is past its cap', async () => {
      const refused = await debit(accountId, 'past-cap', '1');
      expect([refused.status, refused.body.error?.code]).toEqual([422, 'INSUFFICIENT_FUNDS']);
    });

    test('when the settlement is repeated, then it answers its first decision; with another amount or currency, then 409 IDEMPOTENCY_CONFLICT; nothing is written', async () => {
      const before = await entryCount(accountId);
      const repeat = await settle(accountId, 'net-1', '-5000');
      expect([repeat.status, repeat.text]).toEqual([200, settled.text]);
      for (const answer of [await settle(accountId, 'net-1', '-4000'), await settle(accountId, 'net-1', '5000'), await settle(accountId, 'net-1', '-5000', 'USD')]) {
        expect([answer.status, answer.body.error?.code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
      }
      expect(await entryCount(accountId)).toBe(before);
      expect(await account(accountId)).toMatchObject({ balanceMinor: '-5000' });
    });

    test('when money is settled in, then it lands and the position can send again within its cap', async () => {
      expect((await settle(accountId, 'net-2', '4500')).body).toMatchObject({ kind: 'settle', outcome: 'APPLIED', amountMinor: '4500', balanceAfterMinor: '-500' });
      expect((await debit(accountId, 'within-cap', '500')).body).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: '-1000' });
    });

    test('when the currency differs, then 422 CURRENCY_MISMATCH; on a closed account, then 422 ACCOUNT_CLOSED; both recorded and answered the same again', async () => {
      const mismatch = await settle(accountId, 'net-usd', '-10', 'USD');
      expect([mismatch.status, mismatch.body.error?.code]).toEqual([422, 'CURRENCY_MISMATCH']);
      expect((await settle(accountId, 'net-usd', '-10', 'USD')).text).toBe(mismatch.text);
      await open('closed-reserve', '0');
      expect((await send(testSigningKey, '/v1/accounts/closed-reserve/close', { changeId: 'close-it' })).status).toBe(200);
      const closed = await settle('closed-reserve', 'net-3', '100');
      expect([closed.status, closed.body.error?.code]).toEqual([422, 'ACCOUNT_CLOSED']);
      expect(closed.body.entry).toMatchObject({ kind: 'settle', outcome: 'REFUSED', amountMinor: '0' });
      expect(await account('closed-reserve')).toMatchObject({ status: 'CLOSED', balanceMinor: '0' });
    });

    test('when the body is not a settlement id, a signed non-zero amount and a currency, then 400 VALIDATION_FAILED naming the field and nothing is written', async () => {
      const before = await entryCount(accountId);
      for (const [payload, field] of [
        [{ settlementId: 'bad-1', amountMinor: '0', currency: 'EUR' }, 'amountMinor'],
        [{ settlementId: 'bad-2', amountMinor: -5, currency: 'EUR' }, 'amountMinor'],
        [{ settlementId: 'bad-3', amountMinor: '-1000000000000000000', currency: 'EUR' }, 'amountMinor'],
        [{ settlementId: 'bad:4', amountMinor: '5', currency: 'EUR' }, 'settlementId'],
        [{ settlementId: 'bad-5', amountMinor: '5', currency: 'EUR', transferId: 't' }, 'transferId'],
      ] as const) {
        const answer = await send(ledgerKey, `/v1/accounts/${accountId}/settlements`, payload);
        expect({ payload, status: answer.status, code: answer.body.error?.code, field: answer.body.error?.field }).toEqual({ payload, status: 400, code: 'VALIDATION_FAILED', field });
      }
      const marker = await send(ledgerKey, `/v1/accounts/${accountId}/windows`, { windowId: 'w-1', amountMinor: '0' });
      expect([marker.status, marker.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
      expect(await entryCount(accountId)).toBe(before);
    });
  });

  test('when a key without the ledger scope marks a window or settles, then 403 FORBIDDEN and nothing is written', async () => {
    await open('scoped', '0');
    const before = await entryCount('scoped');
    for (const answer of [await mark('scoped', 'w-admin', adminKey), await settle('scoped', 'net-admin', '-100', 'EUR', adminKey)]) {
      expect([answer.status, answer.body.error?.code]).toEqual([403, 'FORBIDDEN']);
      expect(answer.body.error?.message).toMatch(/ledger scope/);
    }
    expect(await entryCount('scoped')).toBe(before);
    expect(await account('scoped')).toMatchObject({ balanceMinor: '0' });
    expect(await account('scoped')).not.toHaveProperty('windowId');
  });
});
