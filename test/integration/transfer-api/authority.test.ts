import { Client, Connection, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MongoClient } from 'mongodb';
import { apiDatabaseName } from '../../../infra/cluster';
import { transferWorkflowId, type TransferInput, type TransferState } from '../../../lib/contracts/transfer-contract';
import { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { initialTransferSearchAttributes } from '../../../lib/temporal/transfer-start';
import { transferIdFor } from '../../../services/transfer-api/use-cases/create-transfer';
import { approveUpdate } from '../../../lib/contracts/transfer-definitions';
import { transferWorkflow } from '../../../workflows/transfer-workflow';
import { webhookDeliveryWorkflow } from '../../../workflows/webhook-delivery-workflow';
import { findFreePort } from '../../../infra/ports';
import { WebhookReceiver } from '../../support/webhook-receiver';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { runCliAs } from '../../support/cli';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';
import { testDataConverter } from '../../support/temporal';

jest.setTimeout(300_000);

const approvalThresholdMinor = 100_000;

type Account = readonly [bankId: string, accountId: string];
const ada: Account = ['bank-a', 'ada'];
const bo: Account = ['bank-b', 'bo'];
const bea: Account = ['bank-b', 'bea'];
const cy: Account = ['bank-c', 'cy'];
const accounts: readonly Account[] = [ada, bo, bea, cy];
const seedMinor = 1_000_000n;

/** A third client with no mandate at all. */
const clientC = { name: 'client-c', role: 'client' as const, key: 'cl_test_client_c_0123456789abcdef' };

/**
 * Who may move money through the API, on the real cluster: each client debits only what its
 * mandate covers, an approval needs a second operator, and a workflow or an update sent to
 * Temporal around the API moves nothing. Every refusal asserts its code, that nothing was
 * recorded, and the final balances.
 */
describe('authority over money, on the real cluster', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let operator2: ApiCaller;
  let clients: Record<'a' | 'b' | 'c', ApiCaller>;
  let mongo: MongoClient;
  let records: TransferRecordStore;
  let connection: Connection;
  let temporal: Client;

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-authority', {
      services: true,
      extraApiKeys: [{ name: 'client-b', role: 'client', key: 'cl_test_client_b_0123456789abcdef' }, clientC],
      serviceEnv: { CLIENT_MANDATES: 'client-a=bank-a,client-b=bank-b:bo', APPROVAL_THRESHOLD_MINOR: String(approvalThresholdMinor), LOG_LEVEL: 'warn' },
    });
    const url = env.cluster.transferApiUrl;
    operator = apiCaller(url, env.keyFor('operator'));
    operator2 = apiCaller(url, env.keyFor('operator-2'));
    clients = { a: apiCaller(url, env.keyFor('client-a')), b: apiCaller(url, env.keyFor('client-b')), c: apiCaller(url, clientC.key) };
    mongo = new MongoClient(env.cluster.apiDatabaseUrl, { useBigInt64: true });
    records = new TransferRecordStore(mongo.db(apiDatabaseName));
    connection = await Connection.connect({ address: env.cluster.temporalAddress });
    temporal = new Client({ connection, namespace: env.cluster.namespace, dataConverter: testDataConverter });
    for (const [bankId, accountId] of accounts) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(seedMinor), currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await connection?.close();
    await mongo?.close();
    await env?.stop();
  });

  const bodyOf = (from: Account, to: Account, amountMinor: string) => ({ source: { bankId: from[0], accountId: from[1] }, target: { bankId: to[0], accountId: to[1] }, amountMinor, currency: 'EUR' });
  const create = (caller: ApiCaller, key: string, from: Account, to: Account, amountMinor: string): Promise<HttpAnswer> =>
    caller.post('/v1/transfers', bodyOf(from, to, amountMinor), { 'idempotency-key': key });

  async function balances(): Promise<string[]> {
    const all: string[] = [];
    for (const [bankId, accountId] of accounts) all.push(String((await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`)).body.balanceMinor));
    return all;
  }

  async function entryCount([bankId, accountId]: Account): Promise<number> {
    return ((await operator.get(`/v1/banks/${bankId}/accounts/${accountId}/entries?limit=500`)).body.data as unknown[]).length;
  }

  const ended = (id: string) =>
    eventually(`${id} to end`, async () => {
      const answer = await operator.get(`/v1/transfers/${id}`);
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(answer.body.status)) ? answer.body : undefined;
    }, 120_000, 100);

  const awaitingApproval = (id: string) =>
    eventually(`${id} to await approval`, async () => ((await operator.get(`/v1/transfers/${id}`)).body.status === 'AWAITING_APPROVAL' ? true : undefined), 60_000, 100);

  /** A refused create: the exact code, no record under the key, no workflow, no money moved. */
  async function expectRefusedUnrecorded(caller: ApiCaller, clientName: string, key: string, from: Account, to: Account): Promise<void> {
    const before = await balances();
    const answer = await create(caller, key, from, to, '500');
    expect(answer.status).toBe(403);
    expect(answer.body.error).toMatchObject({ code: 'SOURCE_NOT_ALLOWED', field: 'source' });
    const transferId = transferIdFor(clientName, key);
    expect(await records.find(transferId)).toBeUndefined();
    await expect(temporal.workflow.getHandle(transferWorkflowId(transferId)).describe()).rejects.toThrow(/not found/i);
    expect(await balances()).toEqual(before);
  }

  describe('client mandates', () => {
    test("when client-a (mandate bank-a) debits an account at another bank, then 403 SOURCE_NOT_ALLOWED, nothing recorded, nothing started, balances unchanged", async () => {
      await expectRefusedUnrecorded(clients.a, 'client-a', 'other-bank-1', bea, ada);
      await expectRefusedUnrecorded(clients.a, 'client-a', 'other-bank-2', cy, ada);
    });

    test('when client-b (mandate bank-b:bo) debits another account of that same bank, then 403 SOURCE_NOT_ALLOWED and nothing recorded', async () => {
      await expectRefusedUnrecorded(clients.b, 'client-b', 'other-account-1', bea, ada);
    });

    test('when client-c (no mandate at all) debits any account, then 403 SOURCE_NOT_ALLOWED and nothing recorded', async () => {
      await expectRefusedUnrecorded(clients.c, 'client-c', 'no-mandate-1', ada, bea);
      await expectRefusedUnrecorded(clients.c, 'client-c', 'no-mandate-2', bo, bea);
    });

    test('when a refused key is used again for a source inside the mandate, then the transfer starts: the refusal recorded nothing under the key', async () => {
      await expectRefusedUnrecorded(clients.b, 'client-b', 'refused-then-allowed', bea, ada);
      const answer = await create(clients.b, 'refused-then-allowed', bo, ada, '700');
      expect(answer.status).toBe(202);
      expect(await ended(String(answer.body.id))).toMatchObject({ status: 'COMPLETED' });
    });

    test('when clients debit inside their mandates and an operator debits any account, then each transfer completes and the money moved once', async () => {
      const before = (await balances()).map(BigInt);
      const ids: string[] = [];
      for (const [caller, key, from, to] of [[clients.a, 'inside-1', ada, bea], [clients.b, 'inside-2', bo, cy], [operator, 'operator-any-1', cy, ada]] as const) {
        const answer = await create(caller, key, from, to, '1000');
        expect(answer.status).toBe(202);
        ids.push(String(answer.body.id));
      }
      for (const id of ids) expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      // ada −1000 +1000, bo −1000, bea +1000, cy +1000 −1000.
      expect((await balances()).map(BigInt)).toEqual([before[0], (before[1] ?? 0n) - 1000n, (before[2] ?? 0n) + 1000n, before[3]]);
    });
  });

  describe('four eyes', () => {
    test('when the operator who created a large transfer approves or rejects it, then 403 SAME_OPERATOR and it keeps waiting; a second operator approves it and the money moves once', async () => {
      const before = (await balances()).map(BigInt);
      const created = await create(operator, 'four-eyes-1', ada, bea, String(approvalThresholdMinor));
      expect(created.status).toBe(202);
      const id = String(created.body.id);
      await awaitingApproval(id);
      for (const action of ['approve', 'reject']) {
        const self = await operator.post(`/v1/transfers/${id}/${action}`, {});
        expect(self.status).toBe(403);
        expect(self.body.error?.code).toBe('SAME_OPERATOR');
      }
      expect((await operator.get(`/v1/transfers/${id}`)).body.status).toBe('AWAITING_APPROVAL');
      const approved = await operator2.post(`/v1/transfers/${id}/approve`, {});
      expect(approved.status).toBe(200);
      const transfer = await ended(id);
      expect(transfer.status).toBe('COMPLETED');
      expect((transfer.steps as Array<{ name: string; decidedBy?: string }>).find((step) => step.name === 'approval')?.decidedBy).toBe('operator-2');
      expect((await balances()).map(BigInt)).toEqual([(before[0] ?? 0n) - BigInt(approvalThresholdMinor), before[1], (before[2] ?? 0n) + BigInt(approvalThresholdMinor), before[3]]);
    });

    test("when the README's walk-through is followed with the CLI, then the operator's own approval is refused SAME_OPERATOR and `--as operator-2` approves", async () => {
      const cli = (name: string, ...args: string[]) => runCliAs(env.cluster.transferApiUrl, env.dataDir, name, ...args);
      const created = cli('operator', 'create', '--from', 'bank-a:ada', '--to', 'bank-b:bea', '--amount', String(approvalThresholdMinor), '--currency', 'EUR');
      expect(created.stderr).toBe('');
      const id = String((JSON.parse(created.stdout) as { id: string }).id);
      await awaitingApproval(id);
      const self = cli('operator', 'approve', id);
      expect(self.status).not.toBe(0);
      expect(self.stderr).toContain('SAME_OPERATOR');
      const second = cli('operator-2', 'approve', id);
      expect(second.status).toBe(0);
      expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      expect(cli('nobody', 'list').stderr).toContain('no key named nobody');
    });

    test('when an operator names another operator in the decision body, then 400 VALIDATION_FAILED: the deciding operator is always the authenticated caller', async () => {
      const created = await create(clients.a, 'named-operator-1', ada, bea, String(approvalThresholdMinor));
      const id = String(created.body.id);
      await awaitingApproval(id);
      const named = await operator.post(`/v1/transfers/${id}/approve`, { operator: 'operator-2' });
      expect(named.status).toBe(400);
      expect(named.body.error?.code).toBe('VALIDATION_FAILED');
      expect((await operator.get(`/v1/transfers/${id}`)).body.status).toBe('AWAITING_APPROVAL');
      // A client's transfer is decided by any operator, who is named as the decider.
      expect((await operator.post(`/v1/transfers/${id}/reject`, {})).status).toBe(200);
      const transfer = await ended(id);
      expect(transfer).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      expect((transfer.steps as Array<{ name: string; decidedBy?: string }>).find((step) => step.name === 'approval')?.decidedBy).toBe('operator');
    });
  });

  describe('around the API, straight to Temporal', () => {
    test('when transferWorkflow is started with the Temporal client and a forged policy (no approval, any amount), then it ends REJECTED TRANSFER_NOT_AUTHORISED with no ledger entry and no record', async () => {
      const before = await balances();
      const entriesBefore = [await entryCount(ada), await entryCount(bea)];
      const forged: TransferInput = {
        transferId: 'tr-forged-around-the-api',
        source: { bankId: ada[0], accountId: ada[1] },
        target: { bankId: bea[0], accountId: bea[1] },
        amountMinor: '900000',
        currency: 'EUR',
        requestedBy: 'client-a',
        policy: { approvalThresholdMinor: '900000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '900000000000', banks: ['bank-a', 'bank-b', 'bank-c'], refundAttentionAfterAttempts: 5, transferRecord: true },
      };
      const handle = await temporal.workflow.start(transferWorkflow, { taskQueue: 'transfers', workflowId: transferWorkflowId(forged.transferId), args: [forged], typedSearchAttributes: initialTransferSearchAttributes(forged) });
      const state: TransferState = await handle.result();
      expect(state).toMatchObject({ status: 'REJECTED', reason: 'TRANSFER_NOT_AUTHORISED', steps: [] });
      expect(await balances()).toEqual(before);
      expect([await entryCount(ada), await entryCount(bea)]).toEqual(entriesBefore);
      expect(await records.find(forged.transferId)).toBeUndefined();
      expect((await operator.get(`/v1/transfers/${forged.transferId}`)).status).toBe(404);
    });

    test('when an approve update is sent to a waiting transfer with the Temporal client, naming an operator, then it is refused DECISION_NOT_AUTHORISED and the transfer keeps waiting with nothing moved', async () => {
      const before = await balances();
      const created = await create(clients.a, 'forged-update-1', ada, bea, String(approvalThresholdMinor));
      const id = String(created.body.id);
      await awaitingApproval(id);
      const forged = await temporal.workflow.getHandle(transferWorkflowId(id)).executeUpdate(approveUpdate, { args: [{ operator: 'operator-2' }] }).catch((error: unknown) => error);
      expect(forged).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((forged as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('DECISION_NOT_AUTHORISED');
      expect((await operator.get(`/v1/transfers/${id}`)).body.status).toBe('AWAITING_APPROVAL');
      expect(await balances()).toEqual(before);
      expect((await operator.post(`/v1/transfers/${id}/reject`, {})).status).toBe(200);
      expect(await ended(id)).toMatchObject({ status: 'REJECTED', reason: 'APPROVAL_REJECTED' });
      expect(await balances()).toEqual(before);
    });

    test("when a webhook delivery of client-a's event to client-b's endpoint is started with the Temporal client, then it gives up WEBHOOK_NOT_ADDRESSED and the endpoint receives nothing", async () => {
      const receiver = new WebhookReceiver(await findFreePort());
      await receiver.listen();
      try {
        const endpoint = await clients.b.post('/v1/webhook-endpoints', { url: receiver.url });
        expect(endpoint.status).toBe(201);
        const feed = await clients.a.get('/v1/events?limit=1');
        const eventId = String((feed.body.data as Array<{ id: string }>)[0]?.id);
        expect(eventId).toMatch(/:transfer\./);
        const policy = { deliveryTaskQueue: 'transfers-webhooks', retryInitialIntervalMs: 100, retryMaximumIntervalMs: 100, giveUpAfterMs: 10_000 };
        const delivery = await temporal.workflow.execute(webhookDeliveryWorkflow, { taskQueue: 'transfers', workflowId: `forged-delivery-${eventId}`, args: [{ eventId, endpointId: String(endpoint.body.id), policy }] });
        expect(delivery.status).toBe('GAVE_UP');
        expect(delivery.failure).toMatch(/^WEBHOOK_NOT_ADDRESSED: /);
        expect(receiver.requests).toEqual([]);
      } finally {
        await receiver.close();
      }
    });
  });
});
