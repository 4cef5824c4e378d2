import { entryPageSchema, type LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import type { SigningKey } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import type { HttpAnswer } from '../../support/http';

jest.setTimeout(300_000);

/** The worker's kind of key: it may move money and read, not change an account. */
const ledgerKey: SigningKey = { keyId: 'worker-1', secret: 'w'.repeat(40) };

type EntryView = LedgerEntryView;

/**
 * The overdraft limit as a settlement bank's Net Debit Cap: changed through the account's chain
 * while debits race against it, on a real account service on a real FerretDB. Every debit is
 * decided against the limit in force at its place in the chain, and a change is replay-safe like
 * the other account changes.
 */
describe('account service: overdraft-limit changes racing debits', () => {
  let bank: AccountServiceFixture;
  const accountId = 'position-bank-b';

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-overdraft-limit', 'bank-a', {
      SERVICE_KEYS: `${testSigningKey.keyId}:${testSigningKey.secret},${ledgerKey.keyId}:${ledgerKey.secret}:ledger|read`,
    });
    const opened = await bank.call('POST', '/v1/accounts', { accountId, owner: 'Bank B position', currency: 'EUR', overdraftLimitMinor: '3000' });
    expect([opened.status, (opened.body as Record<string, unknown>).overdraftLimitMinor]).toEqual([201, '3000']);
  });

  afterAll(async () => {
    await bank?.stop();
  });

  const send = (key: SigningKey, path: string, payload: unknown): Promise<HttpAnswer> => bank.sendAs(key, path, payload);

  const changeLimit = (changeId: string, overdraftLimitMinor: unknown, key: SigningKey = testSigningKey): Promise<HttpAnswer> =>
    send(key, `/v1/accounts/${accountId}/overdraft-limit`, { changeId, overdraftLimitMinor });
  const debit = (transferId: string) => bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId, amountMinor: '200', currency: 'EUR' });
  const account = async (): Promise<Record<string, unknown>> => (await bank.call('GET', `/v1/accounts/${accountId}`)).body as Record<string, unknown>;
  const chain = async (): Promise<EntryView[]> => entryPageSchema.parse((await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=500`)).body).data;
  const entryCount = (): Promise<number> => bank.db.collection('entries').countDocuments({ accountId });

  /** Races debits of 200 (and account reads, each of which must show a balance within the limit it shows); answers how many were applied. */
  async function race(prefix: string, count: number, alongside: Array<Promise<unknown>> = []): Promise<number> {
    const reads = Array.from({ length: 5 }, () => account());
    const answers = await Promise.all(Array.from({ length: count }, (_, index) => debit(`${prefix}-${index}`)));
    await Promise.all(alongside);
    for (const read of await Promise.all(reads)) expect(BigInt(String(read.balanceMinor))).toBeGreaterThanOrEqual(-BigInt(String(read.overdraftLimitMinor)));
    for (const answer of answers.filter((one) => one.status !== 200)) {
      expect([answer.status, (answer.body as { error?: { code: string } }).error?.code]).toEqual([422, 'INSUFFICIENT_FUNDS']);
    }
    return answers.filter((answer) => answer.status === 200).length;
  }

  /** Walks the chain: no applied debit left the balance below the limit in force at its entry. */
  async function expectNeverBelowLimitInForce(): Promise<void> {
    let limit = 3_000n;
    for (const entry of await chain()) {
      if (entry.kind === 'overdraft') {
        expect(BigInt(entry.overdraftLimitBeforeMinor ?? '-1')).toBe(limit);
        limit = BigInt(entry.overdraftLimitMinor ?? '-1');
      }
      expect({ sequence: entry.sequence, below: BigInt(entry.balanceAfterMinor) < -limit }).toEqual({ sequence: entry.sequence, below: false });
    }
  }

  let raised: HttpAnswer;

  test('when 40 debits of 200 race an overdraft limit of 3000 from a balance of 0, then exactly 15 are applied, 25 are INSUFFICIENT_FUNDS and the balance is -3000', async () => {
    expect(await race('first', 40)).toBe(15);
    expect(await account()).toMatchObject({ balanceMinor: '-3000', overdraftLimitMinor: '3000' });
  });

  test('when the limit is raised to 4000 while 10 more debits race, then exactly 5 more are applied, after the raise, and the balance is -4000', async () => {
    const raise = changeLimit('cap-4000', '4000').then((answer) => {
      raised = answer;
    });
    let applied = await race('second', 10, [raise]);
    expect([raised.status, raised.headers.get('idempotent-replayed')]).toEqual([200, null]);
    expect(raised.body).toMatchObject({ accountId, overdraftLimitMinor: '4000' });
    // Debits decided before the raise were refused under 3000; those after it share the 1000 it added.
    const raiseAt = (await chain()).find((entry) => entry.operationId === 'cap-4000:admin');
    expect(raiseAt).toMatchObject({ kind: 'overdraft', outcome: 'APPLIED', overdraftLimitMinor: '4000', overdraftLimitBeforeMinor: '3000', balanceAfterMinor: '-3000' });
    const second = (await chain()).filter((entry) => entry.operationId.startsWith('second-'));
    expect(second.filter((entry) => entry.outcome === 'APPLIED').every((entry) => entry.sequence > (raiseAt?.sequence ?? Infinity))).toBe(true);
    // When most debits were decided before the raise, a new wave takes what is left of the new limit, and not one more.
    if (applied < 5) applied += await race('third', 10);
    expect(applied).toBe(5);
    expect(await account()).toMatchObject({ balanceMinor: '-4000', overdraftLimitMinor: '4000' });
    expect((await debit('after-cap')).status).toBe(422);
    await expectNeverBelowLimitInForce();
  });

  test('when the limit is lowered to 1000, below what is drawn, then 422 OVERDRAFT_BELOW_BALANCE, recorded as a refusal, and the limit stays; its replay answers the same', async () => {
    const refused = await changeLimit('cap-1000', '1000');
    expect([refused.status, refused.headers.get('idempotent-replayed')]).toEqual([422, null]);
    expect(refused.body.error).toMatchObject({ code: 'OVERDRAFT_BELOW_BALANCE', field: 'overdraftLimitMinor' });
    expect(await account()).toMatchObject({ balanceMinor: '-4000', overdraftLimitMinor: '4000' });
    expect((await chain()).at(-1)).toMatchObject({ operationId: 'cap-1000:admin', kind: 'overdraft', outcome: 'REFUSED', code: 'OVERDRAFT_BELOW_BALANCE', overdraftLimitMinor: '4000', overdraftLimitBeforeMinor: '4000' });
    const entriesBefore = await entryCount();

    const replay = await changeLimit('cap-1000', '1000');

    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([422, 'true', refused.text]);
    expect(await entryCount()).toBe(entriesBefore);
    await expectNeverBelowLimitInForce();
  });

  test('when the raise is replayed after a later change, then it answers its first decision with idempotent-replayed and the later limit stays', async () => {
    expect((await changeLimit('cap-5000', '5000')).body).toMatchObject({ overdraftLimitMinor: '5000' });
    const entriesBefore = await entryCount();

    const replay = await changeLimit('cap-4000', '4000');

    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([200, 'true', raised.text]);
    expect(await account()).toMatchObject({ balanceMinor: '-4000', overdraftLimitMinor: '5000' });
    expect(await entryCount()).toBe(entriesBefore);
  });

  test('when a change id is used again with another limit or for another change, then 422 IDEMPOTENCY_KEY_REUSED and nothing is written', async () => {
    const entriesBefore = await entryCount();
    for (const answer of [await changeLimit('cap-4000', '4500'), await changeLimit('cap-1000', '6000'), await send(testSigningKey, `/v1/accounts/${accountId}/freeze`, { changeId: 'cap-5000' })]) {
      expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED', 'changeId']);
    }
    expect(await entryCount()).toBe(entriesBefore);
    expect(await account()).toMatchObject({ status: 'ACTIVE', overdraftLimitMinor: '5000' });
  });

  test('when the body is not a change id and a whole amount, then 400 VALIDATION_FAILED naming the field and nothing is written', async () => {
    const entriesBefore = await entryCount();
    for (const [payload, field] of [
      [{ changeId: 'bad-1', overdraftLimitMinor: '-5' }, 'overdraftLimitMinor'],
      [{ changeId: 'bad-2', overdraftLimitMinor: 5 }, 'overdraftLimitMinor'],
      [{ changeId: 'bad-3', overdraftLimitMinor: null }, 'overdraftLimitMinor'],
      [{ changeId: 'bad-4' }, 'overdraftLimitMinor'],
      [{ overdraftLimitMinor: '5' }, 'changeId'],
      [{ changeId: 'bad-5', overdraftLimitMinor: '5', currency: 'EUR' }, 'currency'],
    ] as const) {
      const answer = await send(testSigningKey, `/v1/accounts/${accountId}/overdraft-limit`, payload);
      expect({ payload, status: answer.status, code: answer.body.error?.code, field: answer.body.error?.field }).toEqual({ payload, status: 400, code: 'VALIDATION_FAILED', field });
    }
    expect(await entryCount()).toBe(entriesBefore);
  });

  test('when a key without the admin scope changes the limit, then 403 FORBIDDEN and nothing is written', async () => {
    const entriesBefore = await entryCount();
    const answer = await changeLimit('ledger-key-raise', '1000000', ledgerKey);
    expect([answer.status, answer.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    expect(answer.body.error?.message).toMatch(/admin scope/);
    expect(await entryCount()).toBe(entriesBefore);
    expect(await account()).toMatchObject({ overdraftLimitMinor: '5000' });
  });

  test('when the account is closed, then a change is 422 ACCOUNT_CLOSED, recorded, and its replay answers the same', async () => {
    const closedId = 'closed-position';
    expect((await bank.call('POST', '/v1/accounts', { accountId: closedId, owner: 'Closed', currency: 'EUR', overdraftLimitMinor: '100' })).status).toBe(201);
    expect((await send(testSigningKey, `/v1/accounts/${closedId}/close`, { changeId: 'close-it' })).body).toMatchObject({ status: 'CLOSED' });
    const path = `/v1/accounts/${closedId}/overdraft-limit`;
    const refused = await send(testSigningKey, path, { changeId: 'closed-raise', overdraftLimitMinor: '500' });
    expect([refused.status, refused.body.error?.code]).toEqual([422, 'ACCOUNT_CLOSED']);
    const replay = await send(testSigningKey, path, { changeId: 'closed-raise', overdraftLimitMinor: '500' });
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([422, 'true', refused.text]);
    expect((await bank.call('GET', `/v1/accounts/${closedId}`)).body).toMatchObject({ status: 'CLOSED', overdraftLimitMinor: '100' });
  });
});
