import { defineQuery } from '@temporalio/workflow';
import type { ReconciliationReport } from '../lib/reconciliation/reconciliation';

/** The reconciliation workflow's outside surface, shared by the worker, the API and the schedule. */
export const reconciliationWorkflowType = 'reconciliationWorkflow';

/** null until the ledgers have been read; then the report the workflow returns. */
export const reconciliationReportQuery = defineQuery<ReconciliationReport | null>('reconciliationReport');

/** Who asked: an operator's name, or `schedule`. */
export interface ReconciliationInput {
  requestedBy: string;
}

export const reconciliationScheduleId = 'reconciliation';

export function reconciliationWorkflowId(runId: string): string {
  return `reconciliation-${runId}`;
}
