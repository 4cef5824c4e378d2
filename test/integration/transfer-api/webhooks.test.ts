import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { apiDatabaseName } from '../../../infra/cluster';
import { findFreePort } from '../../../infra/ports';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { verifyWebhook } from '../../../lib/crypto/webhook-signature';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { captureHistory } from '../../support/history-capture';
import { apiCaller, eventually, http, type ApiCaller, type HttpAnswer } from '../../support/http';
import { WebhookReceiver } from '../../support/webhook-receiver';

jest.setTimeout(300_000);

interface ReceivedEvent {
  id: string;
  type: string;
  createdAt: string;
  data: { transfer: { id: string; status: string; requestedBy: string } };
}

/**
 * Events, webhooks and the event feed on the real local cluster: a receiver that refuses
 * connections, answers 500 and times out before it accepts still gets every event once after
 * de-duplication, signed; other clients' deliveries and all transfers stay on time meanwhile.
 */
describe('transfer events and webhooks', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let clientA: ApiCaller;
  let clientB: ApiCaller;
  let flaky: WebhookReceiver;
  let punctual: WebhookReceiver;
  let deadPort: number;
  const requestTimeoutMs = 1_000;

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-webhooks', {
      services: true,
      serviceEnv: {
        APPROVAL_THRESHOLD_MINOR: '1000000',
        WEBHOOK_RETRY_INITIAL_INTERVAL_MS: '200',
        WEBHOOK_RETRY_MAX_INTERVAL_MS: '1000',
        WEBHOOK_REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
        WEBHOOK_GIVE_UP_AFTER_MS: '600000',
        LOG_LEVEL: 'warn',
      },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    clientA = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    clientB = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-b'));
    // 1: 500; 2: accepted but answered after the sender's timeout (a duplicate follows); 3: 500; then 200.
    flaky = new WebhookReceiver(await findFreePort(), (n) => (n === 1 || n === 3 ? { status: 500 } : n === 2 ? { status: 200, delayMs: requestTimeoutMs * 3 } : { status: 200 }));
    punctual = new WebhookReceiver(await findFreePort());
    await punctual.listen();
    deadPort = await findFreePort();
    for (const [bankId, accountId, funds] of [['bank-a', 'alice', 50_000_000n], ['bank-a', 'pat', 0n], ['bank-a', 'carol', 1_000_000n], ['bank-b', 'bob', 0n], ['bank-b', 'dave', 0n]] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (funds > 0n) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(funds), currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await flaky?.close();
    await punctual?.close();
    await env?.stop();
  });

  const remove = (key: string, path: string): Promise<HttpAnswer> => http(`${env.cluster.transferApiUrl}${path}`, { method: 'DELETE', headers: { authorization: `Bearer ${key}` } });

  function create(caller: ApiCaller, key: string, source: string, target: string, amountMinor: string): Promise<HttpAnswer> {
    return caller.post('/v1/transfers', { source: { bankId: 'bank-a', accountId: source }, target: { bankId: 'bank-b', accountId: target }, amountMinor, currency: 'EUR' }, { 'idempotency-key': key });
  }

  async function finalTransfer(caller: ApiCaller, id: string, withinMs: number): Promise<HttpAnswer['body']> {
    return eventually(`transfer ${id} to end`, async () => {
      const answer = await caller.get(`/v1/transfers/${id}`);
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(answer.body.status)) ? answer.body : undefined;
    }, withinMs);
  }

  test('when transfers run while one receiver fails and another is dead, then events reach every receiver once after de-duplication, signed, in order in the feed, and nothing waits', async () => {
    const flakyEndpoint = await clientA.post('/v1/webhook-endpoints', { url: flaky.url });
    expect(flakyEndpoint.status).toBe(201);
    const secretA = String(flakyEndpoint.body.secret);
    expect(secretA).toMatch(/^whsec_[0-9a-f]{48}$/);
    const deadEndpoint = await clientA.post('/v1/webhook-endpoints', { url: `http://localhost:${deadPort}/hook` });
    expect(deadEndpoint.status).toBe(201);
    const punctualEndpoint = await clientB.post('/v1/webhook-endpoints', { url: punctual.url, events: ['transfer.completed'] });
    expect(punctualEndpoint.status).toBe(201);
    expect(punctualEndpoint.body.events).toEqual(['transfer.completed']);
    const secretB = String(punctualEndpoint.body.secret);

    // Each client sees its own endpoints only, never a secret after registration.
    const listA = await clientA.get('/v1/webhook-endpoints');
    expect((listA.body.data as Array<Record<string, unknown>>).map((endpoint) => endpoint.id)).toEqual([flakyEndpoint.body.id, deadEndpoint.body.id]);
    expect(listA.text).not.toContain('whsec_');
    expect((await clientA.get(`/v1/webhook-endpoints/${String(flakyEndpoint.body.id)}`)).body).toMatchObject({ id: flakyEndpoint.body.id, url: flaky.url });
    expect((await clientB.get(`/v1/webhook-endpoints/${String(flakyEndpoint.body.id)}`)).status).toBe(404);
    expect((await remove(env.keyFor('client-b'), `/v1/webhook-endpoints/${String(flakyEndpoint.body.id)}`)).status).toBe(404);
    expect((await clientB.get('/v1/webhook-endpoints')).body.data).toHaveLength(1);

    // At rest the secrets are sealed with the codec key, each bound to its endpoint; the deliveries below still verify with them.
    const mongo = new MongoClient(env.cluster.apiDatabaseUrl);
    try {
      const stored = await mongo.db(apiDatabaseName).collection<{ _id: string; secret: string }>('webhook_endpoints').find({}).toArray();
      expect(stored.map((endpoint) => endpoint._id).sort()).toEqual([flakyEndpoint.body.id, deadEndpoint.body.id, punctualEndpoint.body.id].map(String).sort());
      for (const endpoint of stored) expect(endpoint.secret).toMatch(/^sealed\.v1\.test-codec-2\./);
      expect(JSON.stringify(stored)).not.toContain('whsec_');
    } finally {
      await mongo.close();
    }

    // Client A: one completes, one waits for approval and completes, one is refused. The flaky receiver is not even listening yet.
    const startedAt = Date.now();
    const small = await create(clientA, 'a-small', 'alice', 'bob', '100');
    const large = await create(clientA, 'a-large', 'alice', 'bob', '2000000');
    const refused = await create(clientA, 'a-refused', 'pat', 'bob', '100');
    const clientBIds: string[] = [];
    for (let i = 0; i < 3; i += 1) clientBIds.push(String((await create(clientB, `b-${i}`, 'carol', 'dave', '100')).body.id));
    const [smallId, largeId, refusedId] = [small, large, refused].map((answer) => String(answer.body.id)) as [string, string, string];
    await eventually('the large transfer to await approval', async () => ((await clientA.get(`/v1/transfers/${largeId}`)).body.status === 'AWAITING_APPROVAL' ? true : undefined));
    expect((await operator.post(`/v1/transfers/${largeId}/approve`, {})).status).toBe(200);

    // A dead receiver and a failing one slow no transfer: each ends within seconds.
    for (const [caller, id] of [[clientA, smallId], [clientA, largeId], [clientA, refusedId], ...clientBIds.map((id) => [clientB, id] as const)] as const) {
      await finalTransfer(caller, id, 30_000);
    }
    const endedAfterMs = Date.now() - startedAt;
    expect(endedAfterMs).toBeLessThan(45_000);
    expect((await clientA.get(`/v1/transfers/${refusedId}`)).body).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });

    // Client B's receiver gets its three completions on time, while client A's receivers still fail.
    const forB = await eventually('client B to get its events', async () => (new Set(punctual.accepted().map((request) => (JSON.parse(request.body) as ReceivedEvent).id)).size === 3 ? punctual.accepted() : undefined), 20_000);
    expect(flaky.requests).toHaveLength(0);
    for (const request of forB) expect(verifyWebhook(secretB, request.body, request.signature ?? '')).toBe(true);
    expect(new Set(forB.map((request) => (JSON.parse(request.body) as ReceivedEvent).id))).toEqual(new Set(clientBIds.map((id) => `${id}:transfer.completed`)));

    // Client A's receiver comes up: refused connections before, then 500, a late answer, 500, and success.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await flaky.listen();
    const expectedA = new Set([`${smallId}:transfer.completed`, `${largeId}:transfer.awaiting_approval`, `${largeId}:transfer.completed`, `${refusedId}:transfer.rejected`]);
    const received = await eventually('client A to get every event', async () => {
      const ids = new Set(flaky.accepted().map((request) => (JSON.parse(request.body) as ReceivedEvent).id));
      // The late answer counts as a failure to the sender, so one event must come again.
      return ids.size === expectedA.size && flaky.accepted().length > ids.size ? flaky.accepted() : undefined;
    }, 90_000);
    const byId = new Map<string, ReceivedEvent>();
    for (const request of received) {
      expect(verifyWebhook(secretA, request.body, request.signature ?? '')).toBe(true);
      expect(verifyWebhook(secretB, request.body, request.signature ?? '')).toBe(false);
      const event = JSON.parse(request.body) as ReceivedEvent;
      // A duplicate is the same event, byte for byte apart from the signature's time.
      if (byId.has(event.id)) expect(event).toEqual(byId.get(event.id));
      byId.set(event.id, event);
    }
    expect(new Set(byId.keys())).toEqual(expectedA);
    // The late answer made the sender try again: the receiver got one event twice and kept it once.
    expect(received.length).toBeGreaterThan(byId.size);
    expect(byId.get(`${largeId}:transfer.completed`)?.data.transfer).toMatchObject({ id: largeId, status: 'COMPLETED', requestedBy: 'client-a' });
    expect(byId.get(`${refusedId}:transfer.rejected`)?.data.transfer).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });

    // The delivery log shows the refused connections, the 500s and the success.
    const log = await clientA.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`);
    expect(log.status).toBe(200);
    const deliveries = log.body.data as Array<{ endpointId: string; delivered: boolean; attempts: Array<{ outcome: string; httpStatus?: number; failure?: string; error?: string }> }>;
    const toFlaky = deliveries.find((delivery) => delivery.endpointId === flakyEndpoint.body.id);
    expect(toFlaky?.delivered).toBe(true);
    // A refused connection shows as its category; the socket's own words (address, port, errno) never reach the client.
    expect(toFlaky?.attempts.some((attempt) => attempt.outcome === 'FAILED' && attempt.failure === 'CONNECTION_REFUSED')).toBe(true);
    expect(JSON.stringify(toFlaky?.attempts)).not.toMatch(/ECONNREFUSED|fetch failed/);
    expect(toFlaky?.attempts.at(-1)).toMatchObject({ outcome: 'DELIVERED', httpStatus: 200 });
    const toDead = deliveries.find((delivery) => delivery.endpointId === deadEndpoint.body.id);
    expect(toDead?.delivered).toBe(false);
    expect(toDead?.attempts.length).toBeGreaterThan(1);
    expect((await operator.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`)).status).toBe(200);
    expect((await clientB.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`)).status).toBe(404);

    // The feed: each client's own events, each transfer's in the order they happened, paged by cursor.
    const feedA = await clientA.get('/v1/events?limit=100');
    const idsA = (feedA.body.data as ReceivedEvent[]).map((event) => event.id);
    expect(new Set(idsA)).toEqual(expectedA);
    expect(idsA.indexOf(`${largeId}:transfer.awaiting_approval`)).toBeLessThan(idsA.indexOf(`${largeId}:transfer.completed`));
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 10; page += 1) {
      const answer = await clientA.get(`/v1/events?limit=1${cursor ? `&after=${cursor}` : ''}`);
      const data = answer.body.data as ReceivedEvent[];
      if (data.length === 0) {
        expect(answer.body.nextCursor).toBe(cursor);
        break;
      }
      paged.push(...data.map((event) => event.id));
      cursor = String(answer.body.nextCursor);
    }
    expect(paged).toEqual(idsA);
    const feedB = await clientB.get('/v1/events');
    expect((feedB.body.data as ReceivedEvent[]).map((event) => event.id).sort()).toEqual(clientBIds.map((id) => `${id}:transfer.completed`).sort());

    // A deleted endpoint is gone for its client.
    expect((await remove(env.keyFor('client-a'), `/v1/webhook-endpoints/${String(deadEndpoint.body.id)}`)).status).toBe(204);
    expect((await clientA.get(`/v1/webhook-endpoints/${String(deadEndpoint.body.id)}`)).status).toBe(404);

    // The history of a transfer with events, for the replay tests (`npm run replay:capture`).
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      await captureHistory(new Client({ connection, namespace: env.cluster.namespace }).workflow.getHandle(transferWorkflowId(largeId)), 'approved-with-events');
    } finally {
      await connection.close();
    }
  });
});
