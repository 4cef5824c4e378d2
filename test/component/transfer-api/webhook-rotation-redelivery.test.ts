import { status as grpcStatus } from '@grpc/grpc-js';
import { ServiceError } from '@temporalio/client';
import type { TransferEventRecord, WebhookDeliveryInput } from '../../../lib/contracts/event-contract';
import { WebhookRequestRefusedError, type EventStore, type FeedDocument, type WebhookEndpointDocument } from '../../../lib/events/event-store';
import type { WebhookDeliveryStarter } from '../../../lib/temporal/webhook-delivery-start';
import { transferIdFor } from '../../../services/transfer-api/use-cases/create-transfer';
import { apiCaller } from '../../support/http';
import { inProcessWebhookPolicy, startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * Secret rotation, redelivery and transfer.created at the edge, over a fake event store and a fake
 * delivery starter: who may call, the codes of every refusal, and what reaches the store and Temporal.
 */
describe('webhook secret rotation, redelivery and transfer.created at the edge', () => {
  const endpoint = (id: string, client: string): WebhookEndpointDocument => ({ _id: id, client, url: 'http://127.0.0.1:9000/hook', events: null, secret: 'whsec_c2VjcmV0', createdAt: '2024-01-01T00:00:00.000Z' });
  const endpoints = new Map([
    ['we_00000000000000000000000a', endpoint('we_00000000000000000000000a', 'client-a')],
    ['we_00000000000000000000000b', endpoint('we_00000000000000000000000b', 'client-b')],
    ['we_00000000000000000000000c', endpoint('we_00000000000000000000000c', 'client-a')],
  ]);
  const event: FeedDocument = { _id: 'client-a:000000000001', client: 'client-a', seq: 1, eventId: 'tr-1:transfer.completed', type: 'transfer.completed', createdAt: '2024-01-01T00:00:00.000Z', transfer: {}, endpointIds: ['we_00000000000000000000000a'] };
  const rotations: Array<{ id: string; overlapMs: number; by: string }> = [];
  const recorded: TransferEventRecord[] = [];
  const started: WebhookDeliveryInput[] = [];
  let startFailure: Error | undefined;
  let refuseRotation = false;
  const nextDelivery = new Map<string, number>();
  const store: Partial<EventStore> = {
    getEndpoint: async (id) => endpoints.get(id),
    findEvent: async (id) => (id === event.eventId ? event : undefined),
    rotateSecret: async (id, _now, overlapMs, by) => {
      if (refuseRotation) throw new WebhookRequestRefusedError('WEBHOOK_SECRET_ROTATION_REFUSED', 'another rotation');
      rotations.push({ id, overlapMs, by });
      return { secret: 'whsec_bmV3', previousSecretRetiresAt: new Date(Date.parse('2024-01-01T00:00:00.000Z') + overlapMs).toISOString() };
    },
    claimRedelivery: async (eventId, endpointId) => {
      const delivery = nextDelivery.get(`${eventId}|${endpointId}`) ?? 2;
      nextDelivery.set(`${eventId}|${endpointId}`, delivery + 1);
      return delivery;
    },
    recordEvent: async (record) => {
      recorded.push(record);
      return { ...event, eventId: record.eventId, type: record.type, endpointIds: ['we_00000000000000000000000a'] };
    },
  };
  const deliveries: WebhookDeliveryStarter = {
    start: async (inputs) => {
      if (startFailure) throw startFailure;
      started.push(...inputs);
      return inputs.map((input) => `webhook-${input.eventId}-${input.endpointId}${input.delivery ? `-redelivery-${input.delivery}` : ''}`);
    },
  };
  let api: InProcessTransferApi;
  let withoutStarter: InProcessTransferApi;

  beforeAll(async () => {
    api = await startInProcessTransferApi({ events: store, webhookDeliveries: deliveries, webhookSecretOverlapMs: 3_600_000 });
    withoutStarter = await startInProcessTransferApi({ events: store });
  });

  afterAll(async () => {
    await api?.stop();
    await withoutStarter?.stop();
  });

  beforeEach(() => {
    rotations.length = 0;
    started.length = 0;
    recorded.length = 0;
    startFailure = undefined;
    refuseRotation = false;
  });

  const as = (name: 'operator' | 'client-a' | 'client-b', on = api) => apiCaller(on.baseUrl, on.keyFor(name));

  test('when the owning client rotates without an overlap, then the configured overlap applies and the new secret is answered once', async () => {
    const answer = await as('client-a').post('/v1/webhook-endpoints/we_00000000000000000000000a/rotate-secret', {});
    expect([answer.status, answer.body]).toEqual([200, { id: 'we_00000000000000000000000a', secret: 'whsec_bmV3', previousSecretExpiresAt: '2024-01-01T01:00:00.000Z' }]);
    expect(rotations).toEqual([{ id: 'we_00000000000000000000000a', overlapMs: 3_600_000, by: 'client-a' }]);
  });

  test('when an operator rotates any endpoint with a shorter overlap, then that overlap is used', async () => {
    const answer = await as('operator').post('/v1/webhook-endpoints/we_00000000000000000000000b/rotate-secret', { overlapSeconds: 60 });
    expect(answer.status).toBe(200);
    expect(rotations).toEqual([{ id: 'we_00000000000000000000000b', overlapMs: 60_000, by: 'operator' }]);
  });

  test.each([
    ["another client's endpoint", 'client-b', 'we_00000000000000000000000a', {}, 404, 'WEBHOOK_ENDPOINT_NOT_FOUND'],
    ['an endpoint that does not exist', 'operator', 'we_0000000000000000000000ff', {}, 404, 'WEBHOOK_ENDPOINT_NOT_FOUND'],
    ['an overlap longer than configured', 'client-a', 'we_00000000000000000000000a', { overlapSeconds: 3_601 }, 400, 'VALIDATION_FAILED'],
    ['a negative overlap', 'client-a', 'we_00000000000000000000000a', { overlapSeconds: -1 }, 400, 'VALIDATION_FAILED'],
    ['an unknown field', 'client-a', 'we_00000000000000000000000a', { overlap: 1 }, 400, 'VALIDATION_FAILED'],
  ] as const)('when a rotation names %s, then it is refused with the code and nothing rotates', async (_case, caller, id, body, status, code) => {
    const answer = await as(caller).post(`/v1/webhook-endpoints/${id}/rotate-secret`, body);
    expect([answer.status, answer.body.error?.code]).toEqual([status, code]);
    expect(rotations).toEqual([]);
  });

  test('when the store refuses a rotation, then it is 409 WEBHOOK_SECRET_ROTATION_REFUSED', async () => {
    refuseRotation = true;
    const answer = await as('client-a').post('/v1/webhook-endpoints/we_00000000000000000000000a/rotate-secret', {});
    expect([answer.status, answer.body.error?.code]).toEqual([409, 'WEBHOOK_SECRET_ROTATION_REFUSED']);
  });

  const redeliver = (caller: ReturnType<typeof as>, eventId: string, body: Record<string, unknown>) => caller.post(`/v1/events/${encodeURIComponent(eventId)}/redeliver`, body);

  test('when an operator redelivers to an addressed endpoint, then a new numbered delivery starts with the webhook policy', async () => {
    const answer = await redeliver(as('operator'), event.eventId, { endpointId: 'we_00000000000000000000000a' });
    expect([answer.status, answer.body.data]).toEqual([202, [{ endpointId: 'we_00000000000000000000000a', delivery: expect.any(Number), workflowId: expect.stringMatching(/-redelivery-\d+$/) }]]);
    expect(started).toEqual([{ eventId: event.eventId, endpointId: 'we_00000000000000000000000a', policy: inProcessWebhookPolicy, delivery: (answer.body.data as Array<{ delivery: number }>)[0]?.delivery }]);
  });

  test.each([
    ['a client', 'client-a', event.eventId, {}, 403, 'FORBIDDEN'],
    ['an unknown event', 'operator', 'tr-2:transfer.completed', {}, 404, 'EVENT_NOT_FOUND'],
    ['an endpoint of another client', 'operator', event.eventId, { endpointId: 'we_00000000000000000000000b' }, 404, 'WEBHOOK_ENDPOINT_NOT_FOUND'],
    ['an endpoint the event was not addressed to', 'operator', event.eventId, { endpointId: 'we_00000000000000000000000c' }, 422, 'WEBHOOK_ENDPOINT_NOT_ADDRESSED'],
  ] as const)('when a redelivery comes from or names %s, then it is refused with the code and nothing starts', async (_case, caller, eventId, body, status, code) => {
    const answer = await redeliver(as(caller), eventId, body);
    expect([answer.status, answer.body.error?.code]).toEqual([status, code]);
    expect(started).toEqual([]);
  });

  test('when Temporal does not answer a redelivery, or the API has no delivery starter, then it is 503 TEMPORARILY_UNAVAILABLE', async () => {
    startFailure = new ServiceError('unavailable', { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: grpcStatus.UNAVAILABLE, details: 'unavailable', metadata: {} }) });
    const unanswered = await redeliver(as('operator'), event.eventId, {});
    expect([unanswered.status, unanswered.body.error?.code]).toEqual([503, 'TEMPORARILY_UNAVAILABLE']);
    const noStarter = await redeliver(as('operator', withoutStarter), event.eventId, {});
    expect([noStarter.status, noStarter.body.error?.code]).toEqual([503, 'TEMPORARILY_UNAVAILABLE']);
  });

  test('when a transfer is created, then transfer.created is recorded and its deliveries started before the saga starts', async () => {
    const answer = await as('client-a').post('/v1/transfers', { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '100', currency: 'EUR' }, { 'idempotency-key': 'created-event-1' });
    expect(answer.status).toBe(202);
    const transferId = String(answer.body.id);
    expect(recorded.map((record) => [record.eventId, record.type, record.client, record.transfer.status])).toEqual([[`${transferId}:transfer.created`, 'transfer.created', 'client-a', 'PENDING']]);
    expect(started).toEqual([{ eventId: `${transferId}:transfer.created`, endpointId: 'we_00000000000000000000000a', policy: inProcessWebhookPolicy }]);
    expect(api.workflows.started.map((input) => input.transferId)).toContain(transferId);
  });

  test('when the delivery start fails on create, then the saga is not started, so the repeat of the request records and starts both', async () => {
    startFailure = new Error('temporal down');
    const body = { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '100', currency: 'EUR' };
    const transferId = transferIdFor('client-a', 'created-event-2');
    const first = await as('client-a').post('/v1/transfers', body, { 'idempotency-key': 'created-event-2' });
    expect(first.status).toBe(500);
    expect(api.workflows.started.map((input) => input.transferId)).not.toContain(transferId);
    startFailure = undefined;
    const again = await as('client-a').post('/v1/transfers', body, { 'idempotency-key': 'created-event-2' });
    expect([again.status, again.headers.get('idempotent-replayed'), again.body.id]).toEqual([200, 'true', transferId]);
    expect(started.map((input) => input.eventId)).toEqual([`${transferId}:transfer.created`]);
    expect(api.workflows.started.map((input) => input.transferId)).toContain(transferId);
  });
});
