import { MockActivityEnvironment } from '@temporalio/testing';
import { createEventActivities } from '../../../activities/event-activities';
import type { WebhookDeliveryInput } from '../../../lib/contracts/event-contract';
import type { WebhookPolicy } from '../../../lib/contracts/transfer-contract';
import type { DeliveryAttemptDocument, EventStore, FeedDocument, WebhookEndpointDocument } from '../../../lib/events/event-store';
import type { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { verifyWebhook } from '../../../lib/webhooks/verify-webhook';

/**
 * What one delivery attempt sends (Standard Webhooks headers, one signature per active secret) and
 * what the change activity does with an event the saga does not deliver itself, over fakes.
 */
describe('webhook delivery signing and recorder-started deliveries', () => {
  const at = new Date('2024-03-01T12:00:00.000Z');
  const secrets = { current: 'whsec_Y3VycmVudC1zZWNyZXQtb2YtdGhlLWVuZHBvaW50', overlapping: 'whsec_b3ZlcmxhcHBpbmctc2VjcmV0LW9mLWVuZHBvaW50', expired: 'whsec_ZXhwaXJlZC1zZWNyZXQtb2YtdGhlLWVuZHBvaW50' };
  const endpoint: WebhookEndpointDocument = {
    _id: 'we_1',
    client: 'client-a',
    url: 'http://127.0.0.1:9000/hook',
    events: null,
    secret: secrets.current,
    retiringSecrets: [
      { secret: secrets.overlapping, retiresAt: '2024-03-01T13:00:00.000Z' },
      { secret: secrets.expired, retiresAt: '2024-03-01T11:59:59.000Z' },
    ],
    createdAt: '2024-01-01T00:00:00.000Z',
  };
  const event: FeedDocument = { _id: 'client-a:000000000001', client: 'client-a', seq: 1, eventId: 'tr-1:transfer.debited', type: 'transfer.debited', createdAt: '2024-03-01T11:59:00.000Z', transfer: { id: 'tr-1', status: 'DEBITED' }, endpointIds: ['we_1'] };
  const policy: WebhookPolicy = { deliveryTaskQueue: 'transfers-webhooks', retryInitialIntervalMs: 1_000, retryMaximumIntervalMs: 10_000, giveUpAfterMs: 60_000 };

  function fakes() {
    const logged: Omit<DeliveryAttemptDocument, '_id'>[] = [];
    const posted: Array<{ headers: Record<string, string>; body: string }> = [];
    const started: WebhookDeliveryInput[] = [];
    const store = {
      getEndpoint: async () => endpoint,
      findEvent: async () => event,
      recordEvent: async () => event,
      recordAttempt: async (attempt: Omit<DeliveryAttemptDocument, '_id'>) => {
        logged.push(attempt);
      },
    } as unknown as EventStore;
    const records = { appendStatus: async () => undefined, references: async () => undefined } as unknown as TransferRecordStore;
    const fetchImpl = (async (_url: string, init: RequestInit) => {
      posted.push({ headers: init.headers as Record<string, string>, body: String(init.body) });
      return new Response(null, { status: 204 });
    }) as unknown as typeof fetch;
    const deliveries = {
      start: async (inputs: readonly WebhookDeliveryInput[]) => {
        started.push(...inputs);
        return inputs.map((input) => `webhook-${input.eventId}-${input.endpointId}`);
      },
    };
    return { logged, posted, started, store, records, fetchImpl, deliveries };
  }

  test('when an endpoint has one secret in its overlap and one past it, then the POST is signed with the current and the overlapping one, each verifying alone', async () => {
    const { posted, store, fetchImpl } = fakes();
    const activities = createEventActivities({ store, allowedHosts: ['127.0.0.1:*'], requestTimeoutMs: 1_000, fetch: fetchImpl, now: () => at });
    await new MockActivityEnvironment().run(() => activities.deliverWebhook({ eventId: event.eventId, endpointId: endpoint._id }));
    const [request] = posted;
    expect(request?.headers['webhook-id']).toBe(event.eventId);
    expect(request?.headers['webhook-timestamp']).toBe(String(at.getTime() / 1000));
    expect(request?.headers['webhook-signature']?.split(' ')).toHaveLength(2);
    const check = (secret: string) => verifyWebhook(request?.headers ?? {}, request?.body ?? '', secret, { now: () => at });
    expect(check(secrets.current)).toMatchObject({ ok: true, event: { id: event.eventId, type: 'transfer.debited' } });
    expect(check(secrets.overlapping).ok).toBe(true);
    expect(check(secrets.expired)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
  });

  test('when a redelivery attempts, then its attempt is logged under its delivery number', async () => {
    const { logged, store, fetchImpl } = fakes();
    const activities = createEventActivities({ store, allowedHosts: ['127.0.0.1:*'], requestTimeoutMs: 1_000, fetch: fetchImpl, now: () => at });
    await new MockActivityEnvironment().run(() => activities.deliverWebhook({ eventId: event.eventId, endpointId: endpoint._id, delivery: 3 }));
    expect(logged.map(({ delivery, attempt, outcome, httpStatus }) => ({ delivery, attempt, outcome, httpStatus }))).toEqual([{ delivery: 3, attempt: 1, outcome: 'DELIVERED', httpStatus: 204 }]);
  });

  const debitedChange = {
    change: { transferId: 'tr-1', writer: { runId: 'run-1', changedAtMs: 1, revision: 1 }, state: { status: 'DEBITED' } },
    event: { eventId: event.eventId, type: 'transfer.debited' as const, client: 'client-a', createdAt: event.createdAt, transfer: { transferId: 'tr-1', status: 'DEBITED' } },
    webhooks: policy,
  } as unknown as Parameters<ReturnType<typeof createEventActivities>['recordTransferChange']>[0];

  test('when the change activity records transfer.debited, then it starts the deliveries itself and hands the saga none to start', async () => {
    const { started, store, records, deliveries } = fakes();
    const activities = createEventActivities({ store, records, deliveries, allowedHosts: [], requestTimeoutMs: 1_000 });
    const recorded = await new MockActivityEnvironment().run(() => activities.recordTransferChange(debitedChange));
    expect(recorded).toEqual({ endpointIds: [] });
    expect(started).toEqual([{ eventId: event.eventId, endpointId: 'we_1', policy }]);
  });

  test('when a worker without a delivery starter records transfer.debited for an endpoint, then the activity fails retryably instead of dropping the deliveries', async () => {
    const { store, records } = fakes();
    const activities = createEventActivities({ store, records, allowedHosts: [], requestTimeoutMs: 1_000 });
    const failure = await new MockActivityEnvironment().run(() => activities.recordTransferChange(debitedChange)).then(
      () => undefined,
      (error: unknown) => error as { type?: string; nonRetryable?: boolean },
    );
    expect([failure?.type, failure?.nonRetryable]).toEqual(['DELIVERIES_UNAVAILABLE', false]);
  });
});
