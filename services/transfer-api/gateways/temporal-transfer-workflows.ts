import { Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { startTransfer } from '../../../lib/transfer-start';
import { isTerminalStatus, transferIdOfWorkflowId, transferStatuses, transferWorkflowId, type OperatorDecision, type TransferInput, type TransferState } from '../../../lib/transfer-contract';
import { approveUpdate, cancelUpdate, rejectUpdate, transferStateQuery, transferWorkflowType } from '../../../workflows/transfer-definitions';
import {
  TransferNotReadyError,
  TransferUpdateRefusedError,
  type OpenTransferCounts,
  type OperatorAction,
  type StartOutcome,
  type TransferIdPage,
  type TransferListFilter,
  type TransferMemo,
  type TransferRecord,
  type TransferWorkflows,
} from './transfer-workflows';

const openTransferStatuses = transferStatuses.filter((status) => !isTerminalStatus(status));
/** A scrape must not hang on visibility. */
const visibilityCountTimeoutMs = 3_000;
const updates = { approve: approveUpdate, reject: rejectUpdate, cancel: cancelUpdate } as const;

export interface TemporalTransferWorkflowsOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** How long a query or update may wait for the worker before the API answers 503. */
  workerAnswerTimeoutMs: number;
}

/** Search-attribute values are ids, bank ids and enum values (validated patterns), so quoting is safe. */
function visibilityQuery(filter: TransferListFilter): string {
  const clauses = [`WorkflowType = '${transferWorkflowType}'`];
  if (filter.status) clauses.push(`TransferStatus = '${filter.status}'`);
  if (filter.sourceBank) clauses.push(`SourceBank = '${filter.sourceBank}'`);
  if (filter.targetBank) clauses.push(`TargetBank = '${filter.targetBank}'`);
  if (filter.account) clauses.push(`(SourceAccount = '${filter.account}' OR TargetAccount = '${filter.account}')`);
  if (filter.needsAttention !== undefined) clauses.push(`NeedsAttention = ${filter.needsAttention}`);
  if (filter.requestedBy) clauses.push(`RequestedBy = '${filter.requestedBy}'`);
  return clauses.join(' AND ');
}

function isTimeout(error: unknown): boolean {
  const text = error instanceof Error ? `${error.name} ${error.message}` : String(error);
  return /DEADLINE_EXCEEDED|deadline|aborted|cancelled|UNAVAILABLE/i.test(text);
}

/** The transfer API's view of Temporal: start, describe, query, update and list transfer workflows. */
export class TemporalTransferWorkflows implements TransferWorkflows {
  constructor(private readonly options: TemporalTransferWorkflowsOptions) {}

  private handle(transferId: string): WorkflowHandle {
    return this.options.client.workflow.getHandle(transferWorkflowId(transferId));
  }

  private withWorkerDeadline<T>(call: () => Promise<T>): Promise<T> {
    return this.options.client.connection.withDeadline(Date.now() + this.options.workerAnswerTimeoutMs, call);
  }

  async start(input: TransferInput, memo: TransferMemo): Promise<StartOutcome> {
    try {
      // The one way every starter starts a saga: id, reuse policies, search attributes (lib/transfer-start).
      await startTransfer(this.options.client, input, { taskQueue: this.options.taskQueue, memo: { ...memo } });
      return 'started';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-exists';
      throw error;
    }
  }

  async find(transferId: string): Promise<TransferRecord | undefined> {
    try {
      const description = await this.handle(transferId).describe();
      const memo = (description.memo ?? {}) as Partial<TransferMemo>;
      return {
        running: description.status.name === 'RUNNING',
        memo: {
          requestFingerprint: memo.requestFingerprint ?? '',
          requestedBy: memo.requestedBy ?? '',
          reference: memo.reference ?? null,
          createdAt: memo.createdAt ?? description.startTime.toISOString(),
        },
      };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async state(transferId: string, running: boolean): Promise<TransferState> {
    const handle = this.handle(transferId);
    try {
      // A closed transfer's final state is its result, read from history without a worker.
      if (!running) return (await handle.result()) as TransferState;
      return await this.withWorkerDeadline(() => handle.query(transferStateQuery));
    } catch (error) {
      if (isTimeout(error)) throw new TransferNotReadyError(`the worker did not answer for transfer ${transferId}`);
      throw error;
    }
  }

  async decide(transferId: string, action: OperatorAction, decision: OperatorDecision): Promise<TransferState> {
    const handle = this.handle(transferId);
    try {
      return await this.withWorkerDeadline(() => handle.executeUpdate(updates[action], { args: [decision] }));
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause;
        const code = cause instanceof ApplicationFailure && cause.type ? cause.type : 'TRANSFER_NOT_CANCELLABLE';
        throw new TransferUpdateRefusedError(code, cause?.message ?? error.message);
      }
      if (isTimeout(error)) throw new TransferNotReadyError(`the worker did not answer the ${action} of transfer ${transferId}`);
      throw error;
    }
  }

  async list(filter: TransferListFilter, pageSize: number, pageToken: Uint8Array | null): Promise<TransferIdPage> {
    const response = await this.options.client.workflowService.listWorkflowExecutions({
      namespace: this.options.namespace,
      pageSize,
      query: visibilityQuery(filter),
      ...(pageToken ? { nextPageToken: pageToken } : {}),
    });
    const transferIds = (response.executions ?? [])
      .map((execution) => transferIdOfWorkflowId(execution.execution?.workflowId ?? ''))
      .filter((transferId): transferId is string => transferId !== undefined);
    const token = response.nextPageToken;
    return { transferIds, nextPageToken: token && token.length > 0 ? token : null };
  }

  async countOpen(overdueStartedBefore: Date): Promise<OpenTransferCounts> {
    const open = `WorkflowType = '${transferWorkflowType}' AND ExecutionStatus = 'Running'`;
    const count = async (clause: string): Promise<number> => {
      const answer = await this.options.client.connection.withDeadline(Date.now() + visibilityCountTimeoutMs, () =>
        this.options.client.workflowService.countWorkflowExecutions({ namespace: this.options.namespace, query: `${open} AND ${clause}` }),
      );
      return Number(answer.count ?? 0);
    };
    const [needingAttention, overdue, ...byStatus] = await Promise.all([
      count('NeedsAttention = true'),
      count(`StartTime < '${overdueStartedBefore.toISOString()}' AND TransferStatus != 'AWAITING_APPROVAL'`),
      ...openTransferStatuses.map((status) => count(`TransferStatus = '${status}'`)),
    ]);
    return { needingAttention, overdue, byStatus: Object.fromEntries(openTransferStatuses.map((status, index) => [status, byStatus[index] ?? 0])) };
  }

  async ready(): Promise<boolean> {
    try {
      await this.options.client.connection.withDeadline(Date.now() + 2_000, () => this.options.client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  }
}
