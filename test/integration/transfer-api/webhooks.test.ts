import { Client, Connection } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { apiDatabaseName } from '../../../infra/cluster';
import { findFreePort } from '../../../infra/ports';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { verifyWebhook } from '../../../lib/webhooks/verify-webhook';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { captureHistory } from '../../support/history-capture';
import { apiCaller, eventually, http, type ApiCaller, type HttpAnswer } from '../../support/http';
import { WebhookReceiver, type ReceivedRequest } from '../../support/webhook-receiver';

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

  /** What the receiver decided when the request arrived (the verification helper, with its clock of then). */
  const verifiedAtReceipt = (request: ReceivedRequest, secrets: string | string[]) => WebhookReceiver.verified<ReceivedEvent>(request, secrets);
  const eventOf = (request: ReceivedRequest): ReceivedEvent => JSON.parse(request.body) as ReceivedEvent;

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
    expect(secretA).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
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
    // Subscribed to transfer.completed only: transfer.created and transfer.debited never come.
    for (const request of forB) expect(verifiedAtReceipt(request, secretB)).toMatchObject({ ok: true, id: eventOf(request).id });
    expect(new Set(forB.map((request) => eventOf(request).id))).toEqual(new Set(clientBIds.map((id) => `${id}:transfer.completed`)));

    // Client A's receiver comes up: refused connections before, then 500, a late answer, 500, and success.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await flaky.listen();
    // Subscribed to every event: the new transfer.created (recorded by the API) and transfer.debited (with the saga's write after the debit) too.
    const expectedA = new Set([
      `${smallId}:transfer.created`,
      `${smallId}:transfer.debited`,
      `${smallId}:transfer.completed`,
      `${largeId}:transfer.created`,
      `${largeId}:transfer.awaiting_approval`,
      `${largeId}:transfer.debited`,
      `${largeId}:transfer.completed`,
      `${refusedId}:transfer.created`,
      `${refusedId}:transfer.rejected`,
    ]);
    const received = await eventually('client A to get every event', async () => {
      const ids = new Set(flaky.accepted().map((request) => (JSON.parse(request.body) as ReceivedEvent).id));
      // The late answer counts as a failure to the sender, so one event must come again.
      return ids.size === expectedA.size && flaky.accepted().length > ids.size ? flaky.accepted() : undefined;
    }, 90_000);
    const byId = new Map<string, ReceivedEvent>();
    for (const request of received) {
      // Standard Webhooks: webhook-id is the event id, one v1 signature (one secret), the timestamp within the tolerance when it arrived.
      expect(verifiedAtReceipt(request, secretA)).toMatchObject({ ok: true, id: eventOf(request).id });
      expect(request.signature?.split(' ')).toHaveLength(1);
      expect(verifiedAtReceipt(request, secretB)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
      const event = eventOf(request);
      // A duplicate is the same event, byte for byte apart from the signature's time.
      if (byId.has(event.id)) expect(event).toEqual(byId.get(event.id));
      byId.set(event.id, event);
    }
    expect(new Set(byId.keys())).toEqual(expectedA);
    // The late answer made the sender try again: the receiver got one event twice and kept it once.
    expect(received.length).toBeGreaterThan(byId.size);
    expect(byId.get(`${largeId}:transfer.completed`)?.data.transfer).toMatchObject({ id: largeId, status: 'COMPLETED', requestedBy: 'client-a' });
    expect(byId.get(`${refusedId}:transfer.rejected`)?.data.transfer).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
    expect(byId.get(`${smallId}:transfer.created`)?.data.transfer).toMatchObject({ id: smallId, status: 'PENDING', requestedBy: 'client-a' });
    expect(byId.get(`${largeId}:transfer.debited`)?.data.transfer).toMatchObject({ id: largeId, status: 'DEBITED' });

    // The delivery log shows the refused connections, the 500s and the success.
    const log = await clientA.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`);
    expect(log.status).toBe(200);
    const deliveries = log.body.data as Array<{ endpointId: string; delivered: boolean; attempts: Array<{ outcome: string; httpStatus?: number; failure?: string; error?: string }> }>;
    const toFlaky = deliveries.find((delivery) => delivery.endpointId === flakyEndpoint.body.id);
    expect(toFlaky?.delivered).toBe(true);
    // A refused connection shows as its category; the socket's own words (address, port, errno) never reach the client.
    expect(toFlaky?.attempts.some((attempt) => attempt.outcome === 'FAILED' && attempt.failure === 'CONNECTION_REFUSED')).toBe(true);
    expect(JSON.stringify(toFlaky?.attempts)).not.toMatch(/ECONNREFUSED|fetch failed/);
    expect(toFlaky?.attempts.at(-1)).toMatchObject({ delivery: 1, outcome: 'DELIVERED', httpStatus: 200 });
    const toDead = deliveries.find((delivery) => delivery.endpointId === deadEndpoint.body.id);
    expect(toDead?.delivered).toBe(false);
    expect(toDead?.attempts.length).toBeGreaterThan(1);
    expect((await operator.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`)).status).toBe(200);
    expect((await clientB.get(`/v1/events/${encodeURIComponent(`${smallId}:transfer.completed`)}/deliveries`)).status).toBe(404);

    // The feed: each client's own events, each transfer's in the order they happened, paged by cursor.
    const feedA = await clientA.get('/v1/events?limit=100');
    const idsA = (feedA.body.data as ReceivedEvent[]).map((event) => event.id);
    expect(new Set(idsA)).toEqual(expectedA);
    const largeInOrder = ['created', 'awaiting_approval', 'debited', 'completed'].map((type) => idsA.indexOf(`${largeId}:transfer.${type}`));
    expect([...largeInOrder].sort((a, b) => a - b)).toEqual(largeInOrder);
    const paged: string[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 20; page += 1) {
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
    // The feed holds every event of the client, whatever its endpoints subscribe to.
    expect((feedB.body.data as ReceivedEvent[]).map((event) => event.id).sort()).toEqual(clientBIds.flatMap((id) => ['created', 'debited', 'completed'].map((type) => `${id}:transfer.${type}`)).sort());

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
  test('when a secret is rotated, then deliveries carry both signatures for the overlap and the new one alone after it; a redelivery is a new delivery in the log; an old delivery replayed is refused by the tolerance', async () => {
    const rotating = new WebhookReceiver(await findFreePort());
    await rotating.listen();
    try {
      const registered = await clientA.post('/v1/webhook-endpoints', { url: rotating.url, events: ['transfer.completed'] });
      expect(registered.status).toBe(201);
      const endpointId = String(registered.body.id);
      const secret1 = String(registered.body.secret);
      const deliveryOf = async (key: string): Promise<ReceivedRequest> => {
        const id = String((await create(clientA, key, 'alice', 'bob', '100')).body.id);
        await finalTransfer(clientA, id, 30_000);
        return eventually(`the completion of ${id} at the rotating receiver`, async () => rotating.accepted().find((request) => eventOf(request).id === `${id}:transfer.completed`), 20_000);
      };

      const first = await deliveryOf('rotation-1');
      expect(first.headers['webhook-id']).toBe(eventOf(first).id);
      expect(first.signature?.split(' ')).toHaveLength(1);
      expect(verifiedAtReceipt(first, secret1).ok).toBe(true);

      // The owning client rotates with a short overlap: both secrets sign, each verifies alone.
      const overlapSeconds = 4;
      const rotated = await clientA.post(`/v1/webhook-endpoints/${endpointId}/rotate-secret`, { overlapSeconds });
      expect(rotated.status).toBe(200);
      const secret2 = String(rotated.body.secret);
      expect(secret2).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
      expect(secret2).not.toBe(secret1);
      const overlapEndsAt = Date.parse(String(rotated.body.previousSecretExpiresAt));
      expect(Math.abs(overlapEndsAt - (Date.now() + overlapSeconds * 1000))).toBeLessThan(3_000);
      const during = await deliveryOf('rotation-2');
      expect(during.signature?.split(' ')).toHaveLength(2);
      expect(verifiedAtReceipt(during, secret1).ok).toBe(true);
      expect(verifiedAtReceipt(during, secret2).ok).toBe(true);

      // After the overlap only the new secret signs: the old one alone no longer verifies.
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, overlapEndsAt - Date.now()) + 500));
      const after = await deliveryOf('rotation-3');
      expect(after.signature?.split(' ')).toHaveLength(1);
      expect(verifiedAtReceipt(after, secret2).ok).toBe(true);
      expect(verifiedAtReceipt(after, secret1)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });

      // A captured delivery sent again later is refused by the timestamp, though its signature is good.
      const ageSeconds = Math.ceil((Date.now() - first.at) / 1000);
      expect(verifyWebhook(first.headers, first.body, secret1, { toleranceSeconds: ageSeconds - 2 })).toMatchObject({ ok: false, reason: 'TIMESTAMP_TOO_OLD' });
      expect(verifyWebhook(first.headers, first.body, secret1, { now: () => new Date(first.at + 301_000) })).toMatchObject({ ok: false, reason: 'TIMESTAMP_TOO_OLD' });
      expect(verifyWebhook(first.headers, first.body, secret1, { now: () => new Date(first.at - 301_000) })).toMatchObject({ ok: false, reason: 'TIMESTAMP_TOO_NEW' });

      // An operator rotates any endpoint; the overlap defaults to WEBHOOK_SECRET_OVERLAP_MS (24 h) and may only be shortened.
      expect((await clientB.post(`/v1/webhook-endpoints/${endpointId}/rotate-secret`, {})).status).toBe(404);
      const tooLong = await operator.post(`/v1/webhook-endpoints/${endpointId}/rotate-secret`, { overlapSeconds: 86_401 });
      expect([tooLong.status, tooLong.body.error?.code, tooLong.body.error?.field]).toEqual([400, 'VALIDATION_FAILED', 'overlapSeconds']);
      const byOperator = await operator.post(`/v1/webhook-endpoints/${endpointId}/rotate-secret`, {});
      expect(byOperator.status).toBe(200);
      const secret3 = String(byOperator.body.secret);
      expect(Math.abs(Date.parse(String(byOperator.body.previousSecretExpiresAt)) - (Date.now() + 86_400_000))).toBeLessThan(60_000);

      // A redelivery of the first event: a new delivery workflow, the same webhook-id and body, signed now with the active secrets.
      const firstEventId = eventOf(first).id;
      const redeliver = (caller: ApiCaller, eventId: string, body: Record<string, unknown>) => caller.post(`/v1/events/${encodeURIComponent(eventId)}/redeliver`, body);
      expect((await redeliver(clientA, firstEventId, { endpointId })).status).toBe(403);
      expect((await redeliver(operator, `${firstEventId.split(':')[0]}x:transfer.completed`, {})).body.error?.code).toBe('EVENT_NOT_FOUND');
      const endpointsOfA = (await clientA.get('/v1/webhook-endpoints')).body.data as Array<{ id: string; url: string }>;
      const flakyId = endpointsOfA.find((endpoint) => endpoint.url === flaky.url)?.id;
      const createdOfFirst = firstEventId.replace(':transfer.completed', ':transfer.created');
      const notAddressed = await redeliver(operator, createdOfFirst, { endpointId });
      expect([notAddressed.status, notAddressed.body.error?.code]).toEqual([422, 'WEBHOOK_ENDPOINT_NOT_ADDRESSED']);
      expect(flakyId).toBeDefined();
      const countBefore = rotating.accepted().filter((request) => eventOf(request).id === firstEventId).length;
      const redelivered = await redeliver(operator, firstEventId, { endpointId });
      expect(redelivered.status).toBe(202);
      expect(redelivered.body.data).toEqual([{ endpointId, delivery: 2, workflowId: `webhook-${firstEventId}-${endpointId}-redelivery-2` }]);
      const again = await eventually('the redelivery to arrive', async () => {
        const copies = rotating.accepted().filter((request) => eventOf(request).id === firstEventId);
        return copies.length > countBefore ? copies.at(-1) : undefined;
      }, 20_000);
      expect(again.headers['webhook-id']).toBe(firstEventId);
      expect(again.body).toBe(first.body);
      expect(again.signature?.split(' ')).toHaveLength(2);
      expect(verifiedAtReceipt(again, secret3).ok).toBe(true);
      expect(verifiedAtReceipt(again, secret2).ok).toBe(true);
      expect(verifiedAtReceipt(again, secret1).ok).toBe(false);

      // The delivery log holds the first delivery's attempts and the redelivery's, each under its number.
      const log = await eventually('the redelivery in the delivery log', async () => {
        const answer = await operator.get(`/v1/events/${encodeURIComponent(firstEventId)}/deliveries`);
        const toRotating = (answer.body.data as Array<{ endpointId: string; attempts: Array<{ delivery: number; outcome: string }> }>).find((delivery) => delivery.endpointId === endpointId);
        return toRotating?.attempts.some((attempt) => attempt.delivery === 2) ? toRotating : undefined;
      });
      expect(log.attempts.map(({ delivery, outcome }) => ({ delivery, outcome }))).toEqual([
        { delivery: 1, outcome: 'DELIVERED' },
        { delivery: 2, outcome: 'DELIVERED' },
      ]);
      // Without an endpoint: every endpoint the event was addressed to, each its next number.
      const everywhere = await redeliver(operator, firstEventId, {});
      expect(everywhere.status).toBe(202);
      expect(new Set((everywhere.body.data as Array<{ endpointId: string; delivery: number }>).map((entry) => `${entry.endpointId}:${entry.delivery}`))).toEqual(new Set([`${endpointId}:3`, `${flakyId}:2`]));
    } finally {
      await rotating.close();
    }
  });
});
