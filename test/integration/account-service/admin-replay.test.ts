import { signRequest } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import { http, type HttpAnswer } from '../../support/http';
import { parsePrometheusText, sampleValue } from '../../support/prometheus-text';

jest.setTimeout(180_000);

/** A signed request exactly as it went over the wire: resending it is what an attacker who captured it can do. */
interface SentRequest {
  path: string;
  body: string;
  signature: string;
}

/**
 * Replay-safe administration on a real account service on a real FerretDB: freeze, unfreeze,
 * close and daily-limit changes carry a change id; a repeat answers the first decision,
 * `Idempotent-Replayed: true`, and changes nothing, whatever happened to the account since.
 */
describe('account service: replay-safe freeze, unfreeze, close and daily limits', () => {
  let bank: AccountServiceFixture;
  let accountCounter = 0;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-admin-replay');
  });

  afterAll(async () => {
    await bank?.stop();
  });

  async function openFunded(fundsMinor: bigint): Promise<string> {
    accountCounter += 1;
    const accountId = `admin-${accountCounter}`;
    expect((await bank.call('POST', '/v1/accounts', { accountId, owner: `Owner ${accountCounter}`, currency: 'EUR' })).status).toBe(201);
    if (fundsMinor > 0n) expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(fundsMinor), currency: 'EUR' })).status).toBe(200);
    return accountId;
  }

  function sign(path: string, payload: unknown): SentRequest {
    const body = JSON.stringify(payload);
    return { path, body, signature: signRequest(testSigningKey, { bankId: bank.bankId, method: 'POST', pathWithQuery: path, body }) };
  }

  /** Sends the very bytes and signature of a signed request (again). */
  function send(request: SentRequest): Promise<HttpAnswer> {
    return http(`${bank.url}${request.path}`, { method: 'POST', body: request.body, headers: { 'content-type': 'application/json', 'x-signature': request.signature } });
  }

  const change = (accountId: string, action: string, payload: Record<string, unknown>): Promise<HttpAnswer> => send(sign(`/v1/accounts/${accountId}/${action}`, payload));

  async function account(accountId: string): Promise<Record<string, unknown>> {
    return (await bank.call('GET', `/v1/accounts/${accountId}`)).body as Record<string, unknown>;
  }

  const entryCount = (accountId: string): Promise<number> => bank.db.collection('entries').countDocuments({ accountId });

  /** Every document the service keeps, to show that a refused request wrote nothing. */
  async function documentCount(): Promise<number> {
    let total = 0;
    for (const name of ['accounts', 'entries', 'pointers']) total += await bank.db.collection(name).countDocuments({});
    return total;
  }

  async function duplicates(kind: string): Promise<number> {
    return sampleValue(parsePrometheusText(await (await fetch(`${bank.url}/metrics`)).text()), 'ledger_duplicate_requests_total', { kind });
  }

  test('when a captured signed unfreeze is resent after a later freeze, then it answers the first decision, the account stays FROZEN and nothing is written', async () => {
    const accountId = await openFunded(500n);
    expect((await change(accountId, 'freeze', { changeId: 'fraud-freeze-1' })).body).toMatchObject({ status: 'FROZEN' });
    const captured = sign(`/v1/accounts/${accountId}/unfreeze`, { changeId: 'unfreeze-1' });
    const first = await send(captured);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(first.body).toMatchObject({ status: 'ACTIVE', balanceMinor: '500', sequence: 3 });
    expect((await change(accountId, 'freeze', { changeId: 'fraud-freeze-2' })).body).toMatchObject({ status: 'FROZEN', sequence: 4 });
    const entriesBefore = await entryCount(accountId);
    const duplicatesBefore = await duplicates('unfreeze');

    const replay = await send(captured);

    expect(replay.status).toBe(200);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.text).toBe(first.text);
    expect(await account(accountId)).toMatchObject({ status: 'FROZEN', balanceMinor: '500', sequence: 4 });
    expect(await entryCount(accountId)).toBe(entriesBefore);
    expect(await duplicates('unfreeze')).toBe(duplicatesBefore + 1);
    const debit = await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: 'after-replay', amountMinor: '1', currency: 'EUR' });
    expect([debit.status, (debit.body as { error?: { code: string } }).error?.code]).toEqual([422, 'ACCOUNT_FROZEN']);
  });

  test('when a freeze is replayed after an unfreeze, then it answers the first decision and the account stays ACTIVE', async () => {
    const accountId = await openFunded(0n);
    const captured = sign(`/v1/accounts/${accountId}/freeze`, { changeId: 'freeze-1' });
    const first = await send(captured);
    expect(first.body).toMatchObject({ status: 'FROZEN', sequence: 1 });
    expect((await change(accountId, 'unfreeze', { changeId: 'unfreeze-1' })).body).toMatchObject({ status: 'ACTIVE', sequence: 2 });

    const replay = await send(captured);

    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([200, 'true', first.text]);
    expect(await account(accountId)).toMatchObject({ status: 'ACTIVE', sequence: 2 });
    expect(await entryCount(accountId)).toBe(3);
  });

  test('when a daily-limit change is replayed after a later change, then the later limit stays', async () => {
    const accountId = await openFunded(10_000n);
    const captured = sign(`/v1/accounts/${accountId}/daily-limit`, { changeId: 'limit-high', dailyDebitLimitMinor: '9000' });
    const first = await send(captured);
    expect(first.body).toMatchObject({ dailyDebitLimitMinor: '9000', sequence: 2 });
    expect((await change(accountId, 'daily-limit', { changeId: 'limit-low', dailyDebitLimitMinor: '100' })).body).toMatchObject({ dailyDebitLimitMinor: '100', sequence: 3 });

    const replay = await send(captured);

    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([200, 'true', first.text]);
    expect(await account(accountId)).toMatchObject({ dailyDebitLimitMinor: '100', sequence: 3 });
    const debit = await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: 'over-low-limit', amountMinor: '101', currency: 'EUR' });
    expect((debit.body as { error?: { code: string } }).error?.code).toBe('DAILY_LIMIT_EXCEEDED');
    // A removal is a change like another: replayed after a new limit, the new limit stays.
    const removal = sign(`/v1/accounts/${accountId}/daily-limit`, { changeId: 'limit-none', dailyDebitLimitMinor: null });
    expect((await send(removal)).body).not.toHaveProperty('dailyDebitLimitMinor');
    expect((await change(accountId, 'daily-limit', { changeId: 'limit-again', dailyDebitLimitMinor: '50' })).status).toBe(200);
    expect((await send(removal)).headers.get('idempotent-replayed')).toBe('true');
    expect(await account(accountId)).toMatchObject({ dailyDebitLimitMinor: '50', sequence: 6 });
  });

  test('when a change id is used again for another change, then 422 IDEMPOTENCY_KEY_REUSED and nothing is written', async () => {
    const accountId = await openFunded(0n);
    expect((await change(accountId, 'freeze', { changeId: 'one-id' })).status).toBe(200);
    expect((await change(accountId, 'daily-limit', { changeId: 'limit-id', dailyDebitLimitMinor: '10' })).status).toBe(200);
    const before = await documentCount();
    for (const [action, payload] of [
      ['unfreeze', { changeId: 'one-id' }],
      ['close', { changeId: 'one-id' }],
      ['daily-limit', { changeId: 'one-id', dailyDebitLimitMinor: '10' }],
      ['daily-limit', { changeId: 'limit-id', dailyDebitLimitMinor: '11' }],
      ['daily-limit', { changeId: 'limit-id', dailyDebitLimitMinor: null }],
      ['freeze', { changeId: 'limit-id' }],
    ] as const) {
      const answer = await change(accountId, action, payload);
      expect({ action, payload, status: answer.status, error: answer.body.error }).toMatchObject({ action, payload, status: 422, error: { code: 'IDEMPOTENCY_KEY_REUSED', field: 'changeId' } });
      expect(answer.headers.get('idempotent-replayed')).toBeNull();
    }
    expect(await documentCount()).toBe(before);
    expect(await account(accountId)).toMatchObject({ status: 'FROZEN', dailyDebitLimitMinor: '10', sequence: 2 });
  });

  test('when a freeze is asked of a frozen account, then it changes no status but is recorded, so replayed after an unfreeze it leaves the account ACTIVE', async () => {
    const accountId = await openFunded(0n);
    const firstFreeze = sign(`/v1/accounts/${accountId}/freeze`, { changeId: 'freeze-a' });
    const secondFreeze = sign(`/v1/accounts/${accountId}/freeze`, { changeId: 'freeze-b' });
    expect((await send(firstFreeze)).body).toMatchObject({ status: 'FROZEN', sequence: 1 });
    const noChange = await send(secondFreeze);
    expect([noChange.status, noChange.headers.get('idempotent-replayed')]).toEqual([200, null]);
    expect(noChange.body).toMatchObject({ status: 'FROZEN', sequence: 2 });
    expect((await change(accountId, 'unfreeze', { changeId: 'thaw' })).body).toMatchObject({ status: 'ACTIVE', sequence: 3 });

    for (const replayed of [secondFreeze, firstFreeze]) expect((await send(replayed)).headers.get('idempotent-replayed')).toBe('true');

    expect(await account(accountId)).toMatchObject({ status: 'ACTIVE', sequence: 3 });
    const chain = (await bank.call('GET', `/v1/accounts/${accountId}/entries`)).body as { data: Array<Record<string, unknown>> };
    expect(chain.data.map((entry) => [entry.operationId, entry.kind, entry.outcome])).toEqual([
      ['open', 'open', 'APPLIED'],
      ['freeze-a:admin', 'freeze', 'APPLIED'],
      ['freeze-b:admin', 'freeze', 'APPLIED'],
      ['thaw:admin', 'unfreeze', 'APPLIED'],
    ]);
  });

  test('when a close refused with ACCOUNT_NOT_EMPTY is replayed after the account was emptied, then it is refused the same and the account stays open', async () => {
    const accountId = await openFunded(30n);
    const refusedClose = sign(`/v1/accounts/${accountId}/close`, { changeId: 'close-early' });
    const refused = await send(refusedClose);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ code: 'ACCOUNT_NOT_EMPTY', message: `account ${accountId} holds 30; only an empty account can be closed` });
    expect((await bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: 'empty-it', amountMinor: '30', currency: 'EUR' })).status).toBe(200);
    const entriesBefore = await entryCount(accountId);

    const replay = await send(refusedClose);

    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([409, 'true', refused.text]);
    expect(await account(accountId)).toMatchObject({ status: 'ACTIVE', balanceMinor: '0' });
    expect(await entryCount(accountId)).toBe(entriesBefore);
    // A close under a new change id is a new decision: the account is empty now, so it closes.
    expect((await change(accountId, 'close', { changeId: 'close-empty' })).body).toMatchObject({ status: 'CLOSED', balanceMinor: '0' });
  });

  test('when a closed account is frozen, then 422 ACCOUNT_CLOSED recorded as a refusal, and its replay answers the same', async () => {
    const accountId = await openFunded(0n);
    expect((await change(accountId, 'close', { changeId: 'close-1' })).body).toMatchObject({ status: 'CLOSED' });
    const freeze = sign(`/v1/accounts/${accountId}/freeze`, { changeId: 'freeze-closed' });
    const refused = await send(freeze);
    expect([refused.status, refused.body.error?.code]).toEqual([422, 'ACCOUNT_CLOSED']);
    const replay = await send(freeze);
    expect([replay.status, replay.headers.get('idempotent-replayed'), replay.text]).toEqual([422, 'true', refused.text]);
    // Closing a closed account is no refusal: it changes nothing.
    expect((await change(accountId, 'close', { changeId: 'close-2' })).body).toMatchObject({ status: 'CLOSED' });
    const chain = (await bank.call('GET', `/v1/accounts/${accountId}/entries`)).body as { data: Array<Record<string, unknown>> };
    expect(chain.data.map((entry) => `${entry.kind} ${entry.outcome}${entry.code ? ` ${entry.code}` : ''}`)).toEqual(['open APPLIED', 'close APPLIED', 'freeze REFUSED ACCOUNT_CLOSED', 'close APPLIED']);
  });

  test.each([
    ['freeze', {}, 'changeId'],
    ['unfreeze', {}, 'changeId'],
    ['close', {}, 'changeId'],
    ['daily-limit', { dailyDebitLimitMinor: '5' }, 'changeId'],
    ['freeze', { changeId: '' }, 'changeId'],
    ['freeze', { changeId: 'has:colon' }, 'changeId'],
    ['freeze', { changeId: 'c'.repeat(65) }, 'changeId'],
    ['freeze', { changeId: { $gt: '' } }, 'changeId'],
    ['freeze', { changeId: 7 }, 'changeId'],
    ['freeze', { changeId: 'ok-id', status: 'ACTIVE' }, 'status'],
    ['daily-limit', { changeId: 'ok-id' }, 'dailyDebitLimitMinor'],
  ])('when a %s asks with %j, then 400 VALIDATION_FAILED naming %s and nothing is written', async (action, payload, field) => {
    const accountId = await openFunded(0n);
    const before = await documentCount();
    const answer = await change(accountId, action, payload);
    expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([400, 'VALIDATION_FAILED', field]);
    expect(await documentCount()).toBe(before);
    expect(await account(accountId)).toMatchObject({ status: 'ACTIVE', sequence: 0 });
  });

  test('when one change is sent 20 times at once, to two processes, among debits and other changes, then it is decided once and every answer is that decision', async () => {
    const accountId = await openFunded(1_000n);
    const second = await bank.startSecondProcess();
    const captured = sign(`/v1/accounts/${accountId}/freeze`, { changeId: 'storm-freeze' });
    const sendTo = (url: string) => http(`${url}${captured.path}`, { method: 'POST', body: captured.body, headers: { 'content-type': 'application/json', 'x-signature': captured.signature } });
    const debits = Array.from({ length: 10 }, (_, n) => bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId: `storm-${n}`, amountMinor: '10', currency: 'EUR' }));
    const limits = Array.from({ length: 5 }, (_, n) => change(accountId, 'daily-limit', { changeId: `storm-limit-${n}`, dailyDebitLimitMinor: String(1_000 + n) }));
    const freezes = Array.from({ length: 20 }, (_, n) => sendTo(n % 2 === 0 ? bank.url : second.url));
    const answers = await Promise.all(freezes);
    await Promise.all([...debits, ...limits]);

    expect(new Set(answers.map((answer) => `${answer.status} ${answer.text}`)).size).toBe(1);
    expect(answers[0]?.body).toMatchObject({ status: 'FROZEN' });
    const chain = (await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=100`)).body as { data: Array<{ operationId: string; sequence: number }> };
    expect(chain.data.filter((entry) => entry.operationId === 'storm-freeze:admin')).toHaveLength(1);
    expect(chain.data.filter((entry) => entry.operationId.startsWith('storm-limit-'))).toHaveLength(5);
    expect(chain.data.map((entry) => entry.sequence)).toEqual(chain.data.map((_, index) => index));
    expect(await account(accountId)).toMatchObject({ status: 'FROZEN', sequence: chain.data.length - 1 });
    expect((await send(captured)).headers.get('idempotent-replayed')).toBe('true');
  });
});
