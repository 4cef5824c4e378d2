/**
 * Transfer events and webhook deliveries: the types the saga, the worker and the API share.
 * Pure types and functions, safe to import from workflow code.
 */
import type { TransferState, WebhookPolicy } from './transfer-contract';

export const transferEventTypes = [
  'transfer.awaiting_approval',
  'transfer.completed',
  'transfer.rejected',
  'transfer.refunded',
  'transfer.cancelled',
  'transfer.needs_attention',
] as const;
export type TransferEventType = (typeof transferEventTypes)[number];

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
}

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

/** One delivery per event and endpoint, whatever happens: the id is derived from both. */
export function webhookDeliveryWorkflowId(eventId: string, endpointId: string): string {
  return `webhook-${eventId}-${endpointId}`;
}

/** The event type of a status the client is told about, if any. */
export function eventTypeOfStatus(status: TransferState['status']): TransferEventType | undefined {
  switch (status) {
    case 'AWAITING_APPROVAL':
      return 'transfer.awaiting_approval';
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
