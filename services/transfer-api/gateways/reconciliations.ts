import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
// The SDK's decoder behind workflow.list() (an internal module; the SDK version is pinned): list()
// hides the page tokens this API hands out.
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers';
import type { ReconciliationReport } from '../../../lib/reconciliation/reconciliation';
import { searchAttributes } from '../../../lib/contracts/search-attributes';
import { reconciliationWorkflowId, reconciliationWorkflowType, type ReconciliationInput } from '../../../workflows/reconciliation-definitions';

export interface ReconciliationRun {
  reconciliationId: string;
  status: string;
  requestedBy: string | null;
  startedAt: string;
  closedAt: string | null;
  /** null while running; then whether the report lists any discrepancy. */
  discrepancyFound: boolean | null;
}

export interface ReconciliationRunWithReport extends ReconciliationRun {
  report: ReconciliationReport | null;
}

export interface ReconciliationPage {
  runs: ReconciliationRun[];
  nextPageToken: Uint8Array | null;
}

/** What the API asks of Temporal about reconciliation runs. */
export interface Reconciliations {
  start(requestedBy: string): Promise<ReconciliationRun>;
  /** null when no run has this id. */
  get(reconciliationId: string): Promise<ReconciliationRunWithReport | null>;
  list(pageSize: number, pageToken: Uint8Array | null): Promise<ReconciliationPage>;
  /** The report of the latest completed run; null before any has completed. */
  latestReport(): Promise<ReconciliationReport | null>;
}

const workflowIdPrefix = reconciliationWorkflowId('');

interface ExecutionSummary {
  workflowId: string;
  status: { name: string };
  startTime: Date;
  closeTime?: Date | undefined;
  typedSearchAttributes: TypedSearchAttributes;
  memo?: Record<string, unknown> | undefined;
}

function runOf(execution: ExecutionSummary): ReconciliationRun {
  const running = execution.status.name === 'RUNNING';
  const requestedBy = execution.memo?.requestedBy;
  return {
    reconciliationId: execution.workflowId.slice(workflowIdPrefix.length),
    status: execution.status.name,
    requestedBy: typeof requestedBy === 'string' ? requestedBy : null,
    startedAt: execution.startTime.toISOString(),
    closedAt: execution.closeTime ? execution.closeTime.toISOString() : null,
    discrepancyFound: running ? null : (execution.typedSearchAttributes.get(searchAttributes.reconciliationDiscrepancy) ?? false),
  };
}

export class TemporalReconciliations implements Reconciliations {
  constructor(private readonly options: { client: Client; taskQueue: string }) {}

  async start(requestedBy: string): Promise<ReconciliationRun> {
    const input: ReconciliationInput = { requestedBy };
    const handle = await this.options.client.workflow.start(reconciliationWorkflowType, {
      taskQueue: this.options.taskQueue,
      workflowId: reconciliationWorkflowId(randomUUID()),
      args: [input],
      memo: { requestedBy },
      typedSearchAttributes: new TypedSearchAttributes([{ key: searchAttributes.reconciliationDiscrepancy, value: false }]),
    });
    return runOf(await handle.describe());
  }

  async get(reconciliationId: string): Promise<ReconciliationRunWithReport | null> {
    const handle = this.options.client.workflow.getHandle(reconciliationWorkflowId(reconciliationId));
    try {
      const run = runOf(await handle.describe());
      if (run.status === 'COMPLETED') return { ...run, report: (await handle.result()) as ReconciliationReport };
      // A running reconciliation has no report yet (its query answers null until the ledgers are read).
      return { ...run, report: null };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return null;
      throw error;
    }
  }

  async latestReport(): Promise<ReconciliationReport | null> {
    const response = await this.options.client.workflowService.listWorkflowExecutions({
      namespace: this.options.client.options.namespace,
      query: `WorkflowType = '${reconciliationWorkflowType}' AND ExecutionStatus = 'Completed'`,
      pageSize: 1,
    });
    const execution = response.executions[0]?.execution;
    if (!execution?.workflowId) return null;
    return (await this.options.client.workflow.getHandle(execution.workflowId, execution.runId ?? undefined).result()) as ReconciliationReport;
  }

  async list(pageSize: number, pageToken: Uint8Array | null): Promise<ReconciliationPage> {
    const response = await this.options.client.workflowService.listWorkflowExecutions({
      namespace: this.options.client.options.namespace,
      query: `WorkflowType = '${reconciliationWorkflowType}'`,
      pageSize,
      nextPageToken: pageToken,
    });
    // Decoded from the list's own answer (memo through the codec): one call per page, not one per run.
    const { loadedDataConverter, namespace } = this.options.client.options;
    const runs = await Promise.all(
      response.executions.filter((info) => info.execution?.workflowId).map(async (info) => runOf(await executionInfoFromRaw(info, loadedDataConverter, info, namespace))),
    );
    return { runs, nextPageToken: response.nextPageToken && response.nextPageToken.length > 0 ? response.nextPageToken : null };
  }
}
