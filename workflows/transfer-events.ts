import { CancellationScope, ParentClosePolicy, WorkflowIdReusePolicy, log, proxyActivities, proxyLocalActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { EventActivities, RecordedEvent, TransferChangeRequest } from '../activities/event-activities';
import { eventsDeliveredByTheirRecorder, transferEventId, webhookDeliveryWorkflowId, type TransferEventRecord, type TransferEventType } from '../lib/contracts/event-contract';
import type { TransferInput, TransferState, WebhookPolicy } from '../lib/contracts/transfer-contract';
import type { TransferStatusChange } from '../lib/record/transfer-record';
import { transferPatches, type PatchGate } from './transfer-patches';
import { changeRecordingLocalOptions, eventRecordingOptions } from './transfer-policies';
import { webhookDeliveryWorkflow } from './webhook-delivery-workflow';

export interface TransferEvents {
  /**
   * Writes the transfer's change to its record, with the event it is for the client if any, and
   * starts the event's deliveries: after the changes before it, without blocking the saga.
   */
  changed: (state: TransferState, event: TransferEventType | undefined) => void;
  /** Waits until every change is recorded and its deliveries have started. */
  drained: () => Promise<void>;
}

/**
 * The transfer's changes, in order, on a chain of their own: the saga never waits for the API's
 * database or a receiver. Transfers with a record (the API sets policy.transferRecord) write every
 * change there behind the transfer-record patch; older transfers, and those started without a
 * record, record only their events, and only with a webhook policy, as they always did.
 */
export function transferEvents(input: TransferInput, gate: PatchGate): TransferEvents {
  let chain: Promise<void> = Promise.resolve();
  const webhooks = input.policy.webhooks;
  const activities = proxyActivities<EventActivities>(eventRecordingOptions);
  const localActivities = proxyLocalActivities<EventActivities>(changeRecordingLocalOptions);
  const recordChange = (request: TransferChangeRequest): Promise<RecordedEvent> => recordChangeLocallyFirst(input, { activities, localActivities }, request);
  // How many events of each type this transfer has emitted; only needs_attention can repeat.
  const emitted = new Map<TransferEventType, number>();
  let recording: boolean | undefined;
  let revision = 0;
  let lastChangedAtMs = 0;
  const recordsChanges = (): boolean => (recording ??= input.policy.transferRecord === true && gate.has(transferPatches.transferRecord));

  const eventOf = (type: TransferEventType, state: TransferState): TransferEventRecord => {
    const occurrence = (emitted.get(type) ?? 0) + 1;
    emitted.set(type, occurrence);
    // The event id is the activity's input, not a command: a history recorded before repeats had ids replays unchanged.
    return { eventId: transferEventId(input.transferId, type, occurrence), type, client: input.requestedBy, createdAt: state.updatedAt, transfer: snapshot(state) };
  };
  const deliver = (eventId: string, endpointIds: readonly string[]): Promise<void> => (webhooks ? startDeliveries(webhooks, eventId, endpointIds) : Promise.resolve());
  // A cancel of the transfer must not lose the changes and events that tell about it.
  const enqueue = (step: () => Promise<void>): void => {
    chain = chain.then(() => CancellationScope.nonCancellable(step));
  };

  return {
    changed: (state, type) => {
      if (recordsChanges()) {
        revision += 1;
        // Ordered by the workflow time of the change, not by runStartTime: a reset to a point after the
        // first workflow task replays its base run's first task and so reports the base run's start,
        // while every change it makes itself is later than all of the run it replaced.
        // Never earlier than the change before it: a local activity's answer sets the workflow's clock
        // to when it completed, and answers of local activities run side by side may arrive out of order.
        lastChangedAtMs = Math.max(Date.now(), lastChangedAtMs);
        const change: TransferStatusChange = { transferId: input.transferId, writer: { runId: workflowInfo().runId, changedAtMs: lastChangedAtMs, revision }, state: snapshot(state) };
        const event = type && webhooks ? eventOf(type, state) : undefined;
        // transfer.debited rides on the write DEBITED makes anyway and the activity starts its deliveries:
        // only the activity's input changes, which replay does not compare, and the saga gains no command.
        const byRecorder = event !== undefined && eventsDeliveredByTheirRecorder.has(event.type);
        enqueue(async () => {
          const { endpointIds } = await recordChange({ change, ...(event ? { event } : {}), ...(byRecorder ? { webhooks } : {}) });
          if (event && !byRecorder) await deliver(event.eventId, endpointIds);
        });
        return;
      }
      // The events-only branch records the events it always did: a new one here would schedule a new activity.
      if (!type || !webhooks || eventsDeliveredByTheirRecorder.has(type) || !gate.has(transferPatches.transferEvents)) return;
      const event = eventOf(type, state);
      enqueue(async () => {
        const { endpointIds } = await activities.recordTransferEvent(event);
        await deliver(event.eventId, endpointIds);
      });
    },
    drained: () => chain,
  };
}

/**
 * A change is written by a local activity, in the worker that runs the saga: no activity task goes
 * through the Temporal server, only a marker in the history. When the API's database does not
 * answer within its few attempts, an ordinary activity takes over and retries without end, with
 * no history per attempt.
 */
async function recordChangeLocallyFirst(input: TransferInput, proxies: { activities: EventActivities; localActivities: EventActivities }, request: TransferChangeRequest): Promise<RecordedEvent> {
  try {
    return await proxies.localActivities.recordTransferChange(request);
  } catch (error) {
    log.warn('recording a transfer change locally failed; retrying as an activity', { transferId: input.transferId, error: String(error) });
    return proxies.activities.recordTransferChange(request);
  }
}

/** One delivery child per endpoint, abandoned by the transfer; a delivery that exists already is left alone. */
async function startDeliveries(webhooks: WebhookPolicy, eventId: string, endpointIds: readonly string[]): Promise<void> {
  for (const endpointId of endpointIds) {
    await startChild(webhookDeliveryWorkflow, {
      workflowId: webhookDeliveryWorkflowId(eventId, endpointId),
      args: [{ eventId, endpointId, policy: webhooks }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    }).catch((error: unknown) => log.warn('webhook delivery not started', { eventId, endpointId, error: String(error) }));
  }
}

/** A copy of the state as it is now: the saga keeps changing its own. */
function snapshot(state: TransferState): TransferState {
  return JSON.parse(JSON.stringify(state)) as TransferState;
}
