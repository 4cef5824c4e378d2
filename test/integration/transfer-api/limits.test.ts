import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { transferIdFor } from '../../../services/transfer-api/use-cases/create-transfer';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller } from '../../support/http';

jest.setTimeout(300_000);

/**
 * Limits against fraud and misuse on the real local cluster: per-client maxima in the API,
 * daily outgoing limits in the ledger (set and changed through the operator API), and the
 * saga ending REJECTED when the ledger refuses a debit for its daily limit, and the operator's
 * account changes (limits, freezes) made replay-safe by their Idempotency-Key.
 */
describe('limits: per-client maximum and daily outgoing limits', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let clientA: ApiCaller;
  let clientB: ApiCaller;
  let temporal: Client;
  let connection: Connection;

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-limits', {
      services: true,
      serviceEnv: { CLIENT_TRANSFER_MAX_MINOR: 'client-a=5000,client-b=50000', LOG_LEVEL: 'warn' },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    clientA = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    clientB = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-b'));
    connection = await Connection.connect({ address: env.cluster.temporalAddress });
    temporal = new Client({ connection });
    for (const [bankId, accountId, limit] of [
      ['bank-a', 'alice', undefined],
      ['bank-a', 'lena', '3000'],
      ['bank-b', 'bob', undefined],
    ] as const) {
      const opened = await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR', ...(limit === undefined ? {} : { dailyDebitLimitMinor: limit }) });
      expect(opened.status).toBe(201);
      expect(opened.body.dailyDebitLimitMinor).toBe(limit);
      if (bankId === 'bank-a') expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: '1000000', currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await connection?.close();
    await env?.stop();
  });

  const transferBody = (source: string, amountMinor: string) => ({ source: { bankId: 'bank-a', accountId: source }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor, currency: 'EUR' });
  const account = async (bankId: string, accountId: string) => (await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`)).body;

  async function finalState(caller: ApiCaller, id: string): Promise<Record<string, unknown>> {
    return eventually(`${id} to end`, async () => {
      const transfer = (await caller.get(`/v1/transfers/${id}`)).body;
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(transfer.status)) ? transfer : undefined;
    }, 90_000, 200);
  }

  async function expectNoWorkflow(clientName: string, idempotencyKey: string): Promise<void> {
    const transferId = transferIdFor(clientName, idempotencyKey);
    await expect(temporal.workflow.getHandle(transferWorkflowId(transferId)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  }

  test('when an amount is above the client’s maximum, then 422 LIMIT_EXCEEDED on amountMinor and no workflow starts; another client with a higher maximum succeeds', async () => {
    const refused = await clientA.post('/v1/transfers', transferBody('alice', '5001'), { 'idempotency-key': 'max-a-1' });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'amountMinor' });
    await expectNoWorkflow('client-a', 'max-a-1');
    expect((await clientA.get(`/v1/transfers/${transferIdFor('client-a', 'max-a-1')}`)).status).toBe(404);

    const atMax = await clientA.post('/v1/transfers', transferBody('alice', '5000'), { 'idempotency-key': 'max-a-2' });
    expect(atMax.status).toBe(202);
    const higher = await clientB.post('/v1/transfers', transferBody('alice', '5001'), { 'idempotency-key': 'max-b-1' });
    expect(higher.status).toBe(202);
    expect(await finalState(clientA, String(atMax.body.id))).toMatchObject({ status: 'COMPLETED' });
    expect(await finalState(clientB, String(higher.body.id))).toMatchObject({ status: 'COMPLETED' });
    // The operator is not listed: the global maximum applies.
    const overGlobal = await operator.post('/v1/transfers', transferBody('alice', '100000000001'), { 'idempotency-key': 'max-op-1' });
    expect(overGlobal.status).toBe(422);
    expect(overGlobal.body.error).toMatchObject({ code: 'LIMIT_EXCEEDED', field: 'amountMinor' });
    await expectNoWorkflow('operator', 'max-op-1');
  });

  test('when a transfer’s debit passes the source’s daily limit, then it ends REJECTED with reason DAILY_LIMIT_EXCEEDED and no money moves', async () => {
    const first = await clientB.post('/v1/transfers', transferBody('lena', '2000'), { 'idempotency-key': 'daily-1' });
    expect(first.status).toBe(202);
    expect(await finalState(clientB, String(first.body.id))).toMatchObject({ status: 'COMPLETED' });
    const bobBefore = BigInt(String((await account('bank-b', 'bob')).balanceMinor));

    const second = await clientB.post('/v1/transfers', transferBody('lena', '1001'), { 'idempotency-key': 'daily-2' });
    expect(second.status).toBe(202);
    expect(await finalState(clientB, String(second.body.id))).toMatchObject({ status: 'REJECTED', reason: 'DAILY_LIMIT_EXCEEDED' });
    expect(await account('bank-a', 'lena')).toMatchObject({ balanceMinor: '998000', dayDebitedMinor: '2000', dailyDebitLimitMinor: '3000' });
    expect(BigInt(String((await account('bank-b', 'bob')).balanceMinor))).toBe(bobBefore);
  });

  // Refusals of malformed limits and keys, before anything reaches a bank: test/component/transfer-api/limits.test.ts.
  test('when an operator changes the daily limit, then it is enforced', async () => {
    const before = await account('bank-a', 'alice');
    const dayDebited = BigInt(String(before.dayDebitedMinor));
    const set = await operator.post('/v1/banks/bank-a/accounts/alice/daily-limit', { dailyDebitLimitMinor: String(dayDebited + 1000n) }, { 'idempotency-key': 'alice-limit-1' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ dailyDebitLimitMinor: String(dayDebited + 1000n), sequence: Number(before.sequence) + 1 });

    const refused = await clientB.post('/v1/transfers', transferBody('alice', '1001'), { 'idempotency-key': 'changed-1' });
    expect(await finalState(clientB, String(refused.body.id))).toMatchObject({ status: 'REJECTED', reason: 'DAILY_LIMIT_EXCEEDED' });
    const fits = await clientB.post('/v1/transfers', transferBody('alice', '1000'), { 'idempotency-key': 'changed-2' });
    expect(await finalState(clientB, String(fits.body.id))).toMatchObject({ status: 'COMPLETED' });
    expect((await account('bank-a', 'alice')).dayDebitedMinor).toBe(String(dayDebited + 1000n));
  });

  describe('operator account changes under an Idempotency-Key', () => {
    const change = (accountId: string, action: string, idempotencyKey?: string, body: unknown = {}) =>
      operator.post(`/v1/banks/bank-a/accounts/${accountId}/${action}`, body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });

    beforeAll(async () => {
      for (const accountId of ['kim', 'ken']) expect((await operator.post('/v1/banks/bank-a/accounts', { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
    });

    test('when a freeze is sent twice with its key, then the second answers Idempotent-Replayed: true with the first decision and nothing more changes', async () => {
      const first = await change('kim', 'freeze', 'kim-freeze-1');
      expect([first.status, first.headers.get('idempotent-replayed')]).toEqual([200, null]);
      expect(first.body).toMatchObject({ status: 'FROZEN', sequence: 1 });
      const again = await change('kim', 'freeze', 'kim-freeze-1');
      expect([again.status, again.headers.get('idempotent-replayed'), again.body]).toEqual([200, 'true', first.body]);
      expect(await account('bank-a', 'kim')).toEqual(first.body);
      const otherChange = await change('kim', 'unfreeze', 'kim-freeze-1');
      expect([otherChange.status, otherChange.body.error?.code, otherChange.body.error?.field]).toEqual([422, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key']);
      expect(await account('bank-a', 'kim')).toEqual(first.body);
    });

    test('when an unfreeze is replayed with its key after a later freeze, then the account stays FROZEN', async () => {
      expect((await change('ken', 'freeze', 'ken-freeze-1')).body).toMatchObject({ status: 'FROZEN' });
      const unfrozen = await change('ken', 'unfreeze', 'ken-unfreeze-1');
      expect(unfrozen.body).toMatchObject({ status: 'ACTIVE', sequence: 2 });
      expect((await change('ken', 'freeze', 'ken-freeze-2')).body).toMatchObject({ status: 'FROZEN', sequence: 3 });
      const replay = await change('ken', 'unfreeze', 'ken-unfreeze-1');
      expect([replay.status, replay.headers.get('idempotent-replayed'), replay.body]).toEqual([200, 'true', unfrozen.body]);
      expect(await account('bank-a', 'ken')).toMatchObject({ status: 'FROZEN', sequence: 3 });
    });

    test('when a daily-limit change is replayed with its key after a later change, then the later limit stays', async () => {
      const first = await change('ken', 'daily-limit', 'ken-limit-1', { dailyDebitLimitMinor: '700' });
      expect(first.body).toMatchObject({ dailyDebitLimitMinor: '700' });
      expect((await change('ken', 'daily-limit', 'ken-limit-2', { dailyDebitLimitMinor: '300' })).status).toBe(200);
      const replay = await change('ken', 'daily-limit', 'ken-limit-1', { dailyDebitLimitMinor: '700' });
      expect([replay.status, replay.headers.get('idempotent-replayed'), replay.body]).toEqual([200, 'true', first.body]);
      expect(await account('bank-a', 'ken')).toMatchObject({ dailyDebitLimitMinor: '300' });
    });
  });
});
