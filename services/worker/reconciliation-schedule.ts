import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { searchAttributes } from '../../lib/contracts/search-attributes';
import { reconciliationScheduleId, reconciliationWorkflowId, reconciliationWorkflowType, type ReconciliationInput } from '../../workflows/reconciliation-definitions';

/**
 * Makes sure the reconciliation schedule exists with this interval. Every worker calls it at
 * start; the first creates it, the others find it and bring its interval up to date.
 */
export async function ensureReconciliationSchedule(client: Client, taskQueue: string, intervalMinutes: number): Promise<'created' | 'updated'> {
  const input: ReconciliationInput = { requestedBy: 'schedule' };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: reconciliationWorkflowType,
    workflowId: reconciliationWorkflowId('scheduled'),
    taskQueue,
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([{ key: searchAttributes.reconciliationDiscrepancy, value: false }]),
  };
  const spec = { intervals: [{ every: intervalMinutes * 60_000 }] };
  try {
    await client.schedule.create({ scheduleId: reconciliationScheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(reconciliationScheduleId).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}

export async function removeReconciliationSchedule(client: Client): Promise<void> {
  await client.schedule
    .getHandle(reconciliationScheduleId)
    .delete()
    .catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
}
