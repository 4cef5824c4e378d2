import { ApplicationFailure, Context } from '@temporalio/activity';
import { eventsDeliveredByTheirRecorder, type TransferEventRecord } from '../lib/contracts/event-contract';
import type { WebhookPolicy } from '../lib/contracts/transfer-contract';
import { activeSecrets, publicEvent, type EventStore, type PublicEvent, type WebhookEndpointDocument } from '../lib/events/event-store';
import { deliveryFailureOf, rawErrorText, type DeliveryFailure } from '../lib/events/delivery-failure';
import type { TransferRecordStore } from '../lib/record/transfer-record-store';
import type { TransferStatusChange } from '../lib/record/transfer-record';
import { webhookHeaders } from '../lib/crypto/webhook-signature';
import type { WebhookDeliveryStarter } from '../lib/temporal/webhook-delivery-start';
import { webhookUrlRefusal } from '../lib/events/webhook-url';
import { transferView, type ViewIdentifiers } from '../lib/contracts/transfer-view';
import { transferIdentifiers } from '../lib/record/transfer-identifiers';

export interface EventActivitiesOptions {
  store: EventStore;
  /** The transfer record; transfers started by the API write every change there. */
  records?: TransferRecordStore;
  /** WEBHOOK_ALLOWED_HOSTS, checked again before every call. */
  allowedHosts: readonly string[];
  /** One POST; the activity's retry policy spaces the attempts. */
  requestTimeoutMs: number;
  /** Starts the deliveries of the events the saga does not deliver itself (eventsDeliveredByTheirRecorder). */
  deliveries?: WebhookDeliveryStarter;
  fetch?: typeof fetch;
  now?: () => Date;
}

export interface RecordedEvent {
  /** Endpoints the saga delivers to, one child workflow each; none for an event whose recorder delivered it. */
  endpointIds: string[];
}

/** One change of a transfer: its status entry, and the event it is for the client, if any. */
export interface TransferChangeRequest {
  change: TransferStatusChange;
  event?: TransferEventRecord;
  /** The transfer's webhook policy, for an event this activity delivers itself. */
  webhooks?: WebhookPolicy;
}

export interface DeliveryRequest {
  eventId: string;
  endpointId: string;
  /** 2, 3, … for a redelivery; left out for the first delivery. */
  delivery?: number;
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
  // The saga's state has no payment identifiers: the event's view takes them from the record (one `_id` look-up).
  const identifiersOf = async (transferId: string): Promise<ViewIdentifiers> => transferIdentifiers(transferId, await options.records?.references(transferId));

  return {
    async recordTransferEvent(record: TransferEventRecord): Promise<RecordedEvent> {
      const document = await options.store.recordEvent(record, transferView(record.transfer, await identifiersOf(record.transfer.transferId)));
      return { endpointIds: document.endpointIds };
    },

    /** Writes the change to the transfer's record (never rolling it back), then its event to the feed. */
    async recordTransferChange(request: TransferChangeRequest): Promise<RecordedEvent> {
      // A worker without the record cannot do this task; another worker, or this one restarted with it, can.
      if (!options.records) throw ApplicationFailure.retryable('this worker has no transfer record store', 'RECORD_UNAVAILABLE');
      await options.records.appendStatus(request.change);
      if (!request.event) return { endpointIds: [] };
      const document = await options.store.recordEvent(request.event, transferView(request.event.transfer, await identifiersOf(request.event.transfer.transferId)));
      if (!eventsDeliveredByTheirRecorder.has(request.event.type)) return { endpointIds: document.endpointIds };
      // Started here, not as the saga's children, so the event adds no command to the saga; a retry finds them started.
      if (document.endpointIds.length > 0) {
        if (!options.deliveries || !request.webhooks) throw ApplicationFailure.retryable(`this worker cannot start the deliveries of ${request.event.eventId}`, 'DELIVERIES_UNAVAILABLE');
        const policy = request.webhooks;
        await options.deliveries.start(document.endpointIds.map((endpointId) => ({ eventId: document.eventId, endpointId, policy })));
      }
      return { endpointIds: [] };
    },

    async deliverWebhook(request: DeliveryRequest): Promise<DeliveryOutcome> {
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
      const delivery = request.delivery && request.delivery > 1 ? { delivery: request.delivery } : {};
      const log = (outcome: 'DELIVERED' | 'FAILED', detail: { httpStatus?: number; failure?: DeliveryFailure }) =>
        options.store.recordAttempt({ eventId: request.eventId, endpointId: request.endpointId, ...delivery, attempt, at: startedAt.toISOString(), outcome, ...detail, durationMs: now().getTime() - startedAt.getTime() });
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

/**
 * One signed POST of the event (Standard Webhooks headers, one signature per active secret, so a
 * receiver in the middle of a rotation verifies with either): the answer's status, or what the call threw.
 */
async function postSigned(fetchImpl: typeof fetch, endpoint: WebhookEndpointDocument, event: PublicEvent, at: Date, timeoutMs: number): Promise<{ status: number } | { error: unknown }> {
  const body = JSON.stringify(event);
  const signed = webhookHeaders(activeSecrets(endpoint, at), event.id, body, Math.floor(at.getTime() / 1000));
  try {
    const response = await fetchImpl(endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...signed, 'user-agent': 'interbank-transfers-webhooks/1' },
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
