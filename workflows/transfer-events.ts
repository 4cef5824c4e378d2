import { CancellationScope, ParentClosePolicy, WorkflowIdReusePolicy, log, patched, proxyActivities, startChild } from '@temporalio/workflow';
import type { EventActivities } from '../activities/event-activities';
import { transferEventId, webhookDeliveryWorkflowId, type TransferEventType } from '../lib/event-contract';
import type { TransferInput, TransferState } from '../lib/transfer-contract';
import { transferPatches } from './transfer-patches';
import { eventRecordingOptions } from './transfer-policies';
import { webhookDeliveryWorkflow } from './webhook-delivery-workflow';

export interface TransferEvents {
  /** Records the event and starts its deliveries, after the events before it, without blocking the saga. */
  emit: (type: TransferEventType, state: TransferState, at: string) => void;
  /** Waits until every emitted event is recorded and its deliveries have started. */
  drained: () => Promise<void>;
}

/**
 * The transfer's events, in order, on a chain of their own: the saga never waits for the API's
 * database or a receiver. Only transfers started with a webhook policy emit, behind a patch,
 * so histories recorded before events existed replay unchanged.
 */
export function transferEvents(input: TransferInput): TransferEvents {
  let chain: Promise<void> = Promise.resolve();
  const webhooks = input.policy.webhooks;
  const activities = proxyActivities<EventActivities>(eventRecordingOptions);
  // How many events of each type this transfer has emitted; only needs_attention can repeat.
  const emitted = new Map<TransferEventType, number>();
  return {
    emit: (type, state, at) => {
      if (!webhooks || !patched(transferPatches.transferEvents)) return;
      const occurrence = (emitted.get(type) ?? 0) + 1;
      emitted.set(type, occurrence);
      // The event id is the activity's input, not a command: a history recorded before repeats had ids replays unchanged.
      const record = { eventId: transferEventId(input.transferId, type, occurrence), type, client: input.requestedBy, createdAt: at, transfer: JSON.parse(JSON.stringify(state)) as TransferState };
      chain = chain.then(() =>
        // A cancel of the transfer must not lose the events that tell the client about it.
        CancellationScope.nonCancellable(async () => {
          const { endpointIds } = await activities.recordTransferEvent(record);
          for (const endpointId of endpointIds) {
            await startChild(webhookDeliveryWorkflow, {
              workflowId: webhookDeliveryWorkflowId(record.eventId, endpointId),
              args: [{ eventId: record.eventId, endpointId, policy: webhooks }],
              parentClosePolicy: ParentClosePolicy.ABANDON,
              workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            }).catch((error: unknown) => log.warn('webhook delivery not started', { eventId: record.eventId, endpointId, error: String(error) }));
          }
        }),
      );
    },
    drained: () => chain,
  };
}
