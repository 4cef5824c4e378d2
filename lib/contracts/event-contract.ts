/**
 * Transfer events and webhook deliveries: the types the saga, the worker and the API share.
 * Pure types and functions, safe to import from workflow code.
 */
import type { TransferState, WebhookPolicy } from './transfer-contract';

export const transferEventTypes = [
  'transfer.created',
  'transfer.awaiting_approval',
  'transfer.debited',
  'transfer.completed',
  'transfer.rejected',
  'transfer.refunded',
  'transfer.cancelled',
  'transfer.needs_attention',
] as const;
export type TransferEventType = (typeof transferEventTypes)[number];

/**
 * Events whose recorder starts their deliveries itself, as standalone delivery workflows, instead
 * of the saga starting children: `transfer.created` is recorded by the API before the saga starts,
 * and `transfer.debited` rides on the status write the saga already makes after the debit, so that
 * neither adds a command (or a patch, or a workflow task) to the saga.
 */
export const eventsDeliveredByTheirRecorder: ReadonlySet<TransferEventType> = new Set(['transfer.created', 'transfer.debited']);

/** What the saga hands to the recording activity: the event and the transfer's state when it happened. */
export interface TransferEventRecord {
  /** Stable, so receivers drop duplicates: `<transferId>:<type>` (see transferEventId). */
  eventId: string;
  type: TransferEventType;
  /** The client (API key name) whose transfer it is; events go only to its feed and endpoints. */
  client: string;
  createdAt: string;
  transfer: TransferState;
}

export interface WebhookDeliveryInput {
  eventId: string;
  endpointId: string;
  policy: WebhookPolicy;
  /** 1 (left out) for the event's first delivery; 2, 3, … for an operator's redeliveries. */
  delivery?: number;
}

export const webhookDeliveryWorkflowType = 'webhookDeliveryWorkflow';

export type WebhookDeliveryStatus = 'DELIVERING' | 'DELIVERED' | 'ENDPOINT_DELETED' | 'GAVE_UP';

export interface WebhookDeliveryState {
  eventId: string;
  endpointId: string;
  status: WebhookDeliveryStatus;
  /** The activity attempt that delivered (attempts before it are in the API's delivery log). */
  deliveredOnAttempt?: number;
  failure?: string;
}

/**
 * `<transferId>:<type>`, and `<transferId>:<type>:<n>` for the n-th (n ≥ 2) event of one type of
 * a transfer: a transfer can need attention more than once (its credit-void, then its refund),
 * and each episode is news to the client.
 */
export function transferEventId(transferId: string, type: TransferEventType, occurrence = 1): string {
  return occurrence > 1 ? `${transferId}:${type}:${occurrence}` : `${transferId}:${type}`;
}

/**
 * One delivery per event, endpoint and delivery number, whatever happens: the id is derived from
 * the three (the first delivery's id is the one it always had).
 */
export function webhookDeliveryWorkflowId(eventId: string, endpointId: string, delivery = 1): string {
  return delivery > 1 ? `webhook-${eventId}-${endpointId}-redelivery-${delivery}` : `webhook-${eventId}-${endpointId}`;
}

/** The event type of a status the client is told about, if any. */
export function eventTypeOfStatus(status: TransferState['status']): TransferEventType | undefined {
  switch (status) {
    case 'AWAITING_APPROVAL':
      return 'transfer.awaiting_approval';
    case 'DEBITED':
      return 'transfer.debited';
    case 'COMPLETED':
      return 'transfer.completed';
    case 'REJECTED':
      return 'transfer.rejected';
    case 'REFUNDED':
      return 'transfer.refunded';
    case 'CANCELLED':
      return 'transfer.cancelled';
    default:
      return undefined;
  }
}
