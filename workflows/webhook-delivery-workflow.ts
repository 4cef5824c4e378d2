import { ActivityFailure, ApplicationFailure, defineQuery, log, proxyActivities, setHandler } from '@temporalio/workflow';
import type { EventActivities } from '../activities/event-activities';
import type { WebhookDeliveryInput, WebhookDeliveryState } from '../lib/contracts/event-contract';
import { webhookDeliveryOptions } from './transfer-policies';

export { webhookDeliveryWorkflowType } from '../lib/contracts/event-contract';
export const webhookDeliveryStateQuery = defineQuery<WebhookDeliveryState>('webhookDeliveryState');

/**
 * Delivers one event to one endpoint: a child of the transfer, abandoned by it, so retries that
 * last a day never keep the transfer open; or started on its own by the recorder of an event the
 * saga does not deliver (eventsDeliveredByTheirRecorder), or by an operator's redelivery. Its id
 * comes from the event, the endpoint and the delivery number, so a delivery never runs twice.
 * Every attempt is in the API's delivery log.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<WebhookDeliveryState> {
  const state: WebhookDeliveryState = { eventId: input.eventId, endpointId: input.endpointId, status: 'DELIVERING' };
  setHandler(webhookDeliveryStateQuery, () => state);
  const activities = proxyActivities<EventActivities>(webhookDeliveryOptions(input.policy));
  try {
    // The delivery number is the activity's input, not a command: deliveries recorded before redeliveries replay unchanged.
    const delivered = await activities.deliverWebhook({ eventId: input.eventId, endpointId: input.endpointId, ...(input.delivery && input.delivery > 1 ? { delivery: input.delivery } : {}) });
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
