import type { Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { searchAttributes } from '../../lib/contracts/search-attributes';
import { ensureIntervalSchedule, removeSchedule } from '../../lib/temporal/interval-schedule';
import { reconciliationScheduleId, reconciliationWorkflowId, reconciliationWorkflowType, type ReconciliationInput } from '../../workflows/reconciliation-definitions';

/**
 * Makes sure the reconciliation schedule exists with this interval. Every worker calls it at
 * start; the first creates it, the others find it and bring its interval up to date.
 */
export async function ensureReconciliationSchedule(client: Client, taskQueue: string, intervalMinutes: number): Promise<'created' | 'updated'> {
  const input: ReconciliationInput = { requestedBy: 'schedule' };
  return ensureIntervalSchedule(client, reconciliationScheduleId, intervalMinutes, {
    type: 'startWorkflow',
    workflowType: reconciliationWorkflowType,
    workflowId: reconciliationWorkflowId('scheduled'),
    taskQueue,
    args: [input],
    typedSearchAttributes: new TypedSearchAttributes([{ key: searchAttributes.reconciliationDiscrepancy, value: false }]),
  });
}

export async function removeReconciliationSchedule(client: Client): Promise<void> {
  await removeSchedule(client, reconciliationScheduleId);
}
