import { ActivityFailure, ApplicationFailure, defineQuery, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { EventActivities } from '../activities/event-activities';
import type { WebhookDeliveryInput, WebhookDeliveryState } from '../lib/contracts/event-contract';
import { webhookDeliveryOptions } from './transfer-policies';

export const webhookDeliveryWorkflowType = 'webhookDeliveryWorkflow';
export const webhookDeliveryStateQuery = defineQuery<WebhookDeliveryState>('webhookDeliveryState');

/**
 * Delivers one event to one endpoint: a child of the transfer, abandoned by it, so retries that
 * last a day never keep the transfer open. Its id comes from the event and the endpoint, so a
 * delivery never runs twice. Every attempt is in the API's delivery log.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryState> {
  const state: WebhookDeliveryState = { eventId: input.eventId, endpointId: input.endpointId, status: 'DELIVERING' };
  setHandler(webhookDeliveryStateQuery, () => state);
  const activities = proxyActivities<EventActivities>(webhookDeliveryOptions(input.policy));
  try {
    const delivered = await activities.deliverWebhook({ eventId: input.eventId, endpointId: input.endpointId });
    if (delivered.outcome === 'DELIVERED') {
      state.status = 'DELIVERED';
      state.deliveredOnAttempt = delivered.attempt;
    } else {
      state.status = 'ENDPOINT_DELETED';
    }
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : error;
    state.status = 'GAVE_UP';
    state.failure = cause instanceof ApplicationFailure ? `${cause.type ?? 'FAILED'}: ${cause.message}` : String(cause);
    log.warn('webhook delivery gave up', { eventId: input.eventId, endpointId: input.endpointId, failure: state.failure });
  }
  return state;
}
