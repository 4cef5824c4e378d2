import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import { webhookDeliveryWorkflowId, webhookDeliveryWorkflowType, type WebhookDeliveryInput } from '../contracts/event-contract';

/** Starts delivery workflows outside a transfer: for the events the saga does not deliver, and for redeliveries. */
export interface WebhookDeliveryStarter {
  /** One workflow per endpoint; a delivery that exists already (a retried start) is left alone. Returns the workflow ids. */
  start(inputs: readonly WebhookDeliveryInput[]): Promise<string[]>;
}

/**
 * Delivery workflows started with a Temporal client, on the transfers' task queue (where the
 * workflow type runs; its POSTs go to policy.deliveryTaskQueue), under the ids the saga's children
 * would have, so a delivery never runs twice.
 */
export function temporalWebhookDeliveries(client: Client, taskQueue: string): WebhookDeliveryStarter {
  return {
    start: (inputs) =>
      Promise.all(
        inputs.map(async (input) => {
          const workflowId = webhookDeliveryWorkflowId(input.eventId, input.endpointId, input.delivery);
          try {
            await client.workflow.start(webhookDeliveryWorkflowType, { taskQueue, workflowId, args: [input], workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE });
          } catch (error) {
            if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          }
          return workflowId;
        }),
      ),
  };
}
