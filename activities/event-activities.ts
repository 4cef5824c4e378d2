import { ApplicationFailure, Context } from '@temporalio/activity';
import type { TransferEventRecord } from '../lib/contracts/event-contract';
import { publicEvent, type EventStore, type PublicEvent, type WebhookEndpointDocument } from '../lib/events/event-store';
import { deliveryFailureOf, rawErrorText, type DeliveryFailure } from '../lib/events/delivery-failure';
import type { TransferRecordStore } from '../lib/record/transfer-record-store';
import type { TransferStatusChange } from '../lib/record/transfer-record';
import { signWebhook, webhookSignatureHeader } from '../lib/crypto/webhook-signature';
import { webhookUrlRefusal } from '../lib/events/webhook-url';
import { transferView } from '../lib/contracts/transfer-view';

export interface EventActivitiesOptions {
  store: EventStore;
  /** The transfer record; transfers started by the API write every change there. */
  records?: TransferRecordStore;
  /** WEBHOOK_ALLOWED_HOSTS, checked again before every call. */
  allowedHosts: readonly string[];
  /** One POST; the activity's retry policy spaces the attempts. */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface RecordedEvent {
  /** Endpoints to deliver to: one child workflow each. */
  endpointIds: string[];
}

/** One change of a transfer: its status entry, and the event it is for the client, if any. */
export interface TransferChangeRequest {
  change: TransferStatusChange;
  event?: TransferEventRecord;
}

export type DeliveryOutcome = { outcome: 'DELIVERED'; attempt: number; httpStatus: number } | { outcome: 'ENDPOINT_DELETED' };

/** Error type of a delivery that must not be retried: the host is not (or no longer) allowed. */
export const webhookHostNotAllowedType = 'WEBHOOK_HOST_NOT_ALLOWED';
/** Longest raw error text kept in the worker's log and the activity's failure. */
const errorTextMax = 1_024;

/**
 * The saga's event activities: recording an event in the client's feed (idempotent by event id)
 * and delivering it to one endpoint, signed. The worker reaches the API's database directly: it
 * is the same service's storage, and a route in between would add a hop, a key and a failure
 * mode to every event without making the write any safer.
 */
export function createEventActivities(options: EventActivitiesOptions) {
  const fetchImpl = options.fetch ?? fetch;
  const now = options.now ?? (() => new Date());

  return {
    async recordTransferEvent(record: TransferEventRecord): Promise<RecordedEvent> {
      const document = await options.store.recordEvent(record, transferView(record.transfer));
      return { endpointIds: document.endpointIds };
    },

    /** Writes the change to the transfer's record (never rolling it back), then its event to the feed. */
    async recordTransferChange(request: TransferChangeRequest): Promise<RecordedEvent> {
      // A worker without the record cannot do this task; another worker, or this one restarted with it, can.
      if (!options.records) throw ApplicationFailure.retryable('this worker has no transfer record store', 'RECORD_UNAVAILABLE');
      await options.records.appendStatus(request.change);
      if (!request.event) return { endpointIds: [] };
      const document = await options.store.recordEvent(request.event, transferView(request.event.transfer));
      return { endpointIds: document.endpointIds };
    },

    async deliverWebhook(request: { eventId: string; endpointId: string }): Promise<DeliveryOutcome> {
      const attempt = Context.current().info.attempt;
      const endpoint = await options.store.getEndpoint(request.endpointId);
      if (!endpoint || endpoint.deletedAt !== undefined) return { outcome: 'ENDPOINT_DELETED' };
      const event = await options.store.findEvent(request.eventId);
      if (!event) throw ApplicationFailure.retryable(`event ${request.eventId} is not in the feed`, 'EVENT_NOT_FOUND');
      // A delivery workflow can be started by anyone who reaches Temporal: an event goes only to the endpoints it was recorded for.
      if (event.client !== endpoint.client || !event.endpointIds.includes(endpoint._id)) {
        throw ApplicationFailure.nonRetryable(`event ${request.eventId} is not addressed to endpoint ${request.endpointId}`, 'WEBHOOK_NOT_ADDRESSED');
      }
      const startedAt = now();
      const log = (outcome: 'DELIVERED' | 'FAILED', detail: { httpStatus?: number; failure?: DeliveryFailure }) =>
        options.store.recordAttempt({ eventId: request.eventId, endpointId: request.endpointId, attempt, at: startedAt.toISOString(), outcome, ...detail, durationMs: now().getTime() - startedAt.getTime() });
      const refusal = webhookUrlRefusal(endpoint.url, options.allowedHosts);
      if (refusal) {
        await log('FAILED', { failure: 'HOST_NOT_ALLOWED' });
        throw ApplicationFailure.nonRetryable(refusal.message, webhookHostNotAllowedType);
      }
      const answer = await postSigned(fetchImpl, endpoint, publicEvent(event), startedAt, options.requestTimeoutMs);
      if ('error' in answer) {
        // The raw error is for operators (the worker's log, the activity's failure in Temporal); the client's log gets its category.
        const message = rawErrorText(answer.error);
        const failure = deliveryFailureOf(answer.error);
        Context.current().log.warn('webhook POST failed', { eventId: request.eventId, endpointId: request.endpointId, attempt, failure, error: message.slice(0, errorTextMax) });
        await log('FAILED', { failure });
        throw ApplicationFailure.retryable(`POST ${endpoint.url} failed (${failure}): ${message.slice(0, errorTextMax)}`, 'WEBHOOK_UNREACHABLE');
      }
      if (answer.status >= 200 && answer.status < 300) {
        await log('DELIVERED', { httpStatus: answer.status });
        return { outcome: 'DELIVERED', attempt, httpStatus: answer.status };
      }
      await log('FAILED', { httpStatus: answer.status, failure: 'HTTP_STATUS' });
      throw ApplicationFailure.retryable(`POST ${endpoint.url} answered ${answer.status}`, 'WEBHOOK_REFUSED');
    },
  };
}

/** One signed POST of the event: the answer's status, or what the call threw. */
async function postSigned(fetchImpl: typeof fetch, endpoint: WebhookEndpointDocument, event: PublicEvent, at: Date, timeoutMs: number): Promise<{ status: number } | { error: unknown }> {
  const body = JSON.stringify(event);
  try {
    const response = await fetchImpl(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', [webhookSignatureHeader]: signWebhook(endpoint.secret, body, Math.floor(at.getTime() / 1000)), 'user-agent': 'interbank-transfers-webhooks/1' },
      body,
      // A redirect could lead to a host that is not allowed: it counts as a failure.
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel().catch(() => undefined);
    return { status: response.status };
  } catch (error) {
    return { error };
  }
}

export type EventActivities = ReturnType<typeof createEventActivities>;
