import { Client, NamespaceNotFoundError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError } from '../../../lib/http/errors';
import type { SigningKey } from '../../../lib/crypto/request-signing';
import { signOperatorDecision } from '../../../lib/crypto/transfer-authority';
import { startTransfer } from '../../../lib/temporal/transfer-start';
import { isUnansweredCall } from '../../../lib/temporal/unanswered-call';
import { isTerminalStatus, transferStatuses, transferWorkflowId, type OperatorDecision, type TransferInput, type TransferState } from '../../../lib/contracts/transfer-contract';
import { approveUpdate, cancelUpdate, rejectUpdate, transferStateQuery, transferWorkflowType } from '../../../lib/contracts/transfer-definitions';
import {
  TransferNotReadyError,
  TransferUpdateRefusedError,
  type OpenWorkflowCounts,
  type OperatorAction,
  type StartOutcome,
  type TransferMemo,
  type TransferWorkflows,
  type WorkflowPresence,
} from './transfer-workflows';
import { transferApiLimits } from '../limits';

const openTransferStatuses = transferStatuses.filter((status) => !isTerminalStatus(status));
const updates = { approve: approveUpdate, reject: rejectUpdate, cancel: cancelUpdate } as const;

export interface TemporalTransferWorkflowsOptions {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** How long an update may wait for the worker before the API answers 503. */
  workerAnswerTimeoutMs: number;
  /** How long a read waits for a running saga's live state before answering from the record alone. */
  liveStateTimeoutMs?: number;
  /** Signs every input and decision handed to the saga (the first of TRANSFER_AUTHORITY_KEYS). */
  authorityKey: SigningKey;
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

  start(input: TransferInput, memo: TransferMemo): Promise<StartOutcome> {
    return this.startRun(input, memo, false);
  }

  startRepair(input: TransferInput, memo: TransferMemo): Promise<StartOutcome> {
    return this.startRun(input, memo, true);
  }

  private async startRun(input: TransferInput, memo: TransferMemo, repair: boolean): Promise<StartOutcome> {
    try {
      // The one way every starter starts a saga: id, reuse policies, search attributes (lib/temporal/transfer-start).
      await startTransfer(this.options.client, input, { authorityKey: this.options.authorityKey, taskQueue: this.options.taskQueue, memo: { ...memo }, repair });
      return 'started';
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) return 'already-exists';
      // Temporal down or without its database (a frontend that cannot read its namespace says "not found"): the record is kept and the start is retried.
      if (isUnansweredCall(error) || error instanceof NamespaceNotFoundError) {
        throw new ApiError('TEMPORARILY_UNAVAILABLE', `Temporal did not start the saga of transfer ${input.transferId} (${(error as Error).message}); it is recorded: repeat the request with the same Idempotency-Key, or the record sweeper starts it`, undefined, { 'retry-after': '2' });
      }
      throw error;
    }
  }

  async describe(transferId: string): Promise<WorkflowPresence | undefined> {
    try {
      const description = await this.handle(transferId).describe();
      return { running: description.status.name === 'RUNNING', status: description.status.name };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  async liveState(transferId: string): Promise<TransferState | undefined> {
    const deadline = Date.now() + (this.options.liveStateTimeoutMs ?? transferApiLimits.liveStateTimeoutMs);
    try {
      return await this.options.client.connection.withDeadline(deadline, () => this.handle(transferId).query(transferStateQuery));
    } catch {
      // No worker, no workflow, or a closed one whose query failed: the record answers alone.
      return undefined;
    }
  }

  async decide(transferId: string, action: OperatorAction, decision: OperatorDecision): Promise<TransferState> {
    const handle = this.handle(transferId);
    try {
      const signed = signOperatorDecision(this.options.authorityKey, transferId, action, decision);
      return await this.withWorkerDeadline(() => handle.executeUpdate(updates[action], { args: [signed] }));
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) {
        const cause = error.cause;
        const code = cause instanceof ApplicationFailure && cause.type ? cause.type : 'TRANSFER_NOT_CANCELLABLE';
        throw new TransferUpdateRefusedError(code, cause?.message ?? error.message);
      }
      if (isUnansweredCall(error)) throw new TransferNotReadyError(`the worker did not answer the ${action} of transfer ${transferId}`);
      throw error;
    }
  }

  async countOpen(overdueStartedBefore: Date): Promise<OpenWorkflowCounts> {
    const open = `WorkflowType = '${transferWorkflowType}' AND ExecutionStatus = 'Running'`;
    const count = async (clause: string): Promise<number> => {
      const answer = await this.options.client.connection.withDeadline(Date.now() + transferApiLimits.visibilityCountTimeoutMs, () =>
        this.options.client.workflowService.countWorkflowExecutions({ namespace: this.options.namespace, query: `${open} AND ${clause}` }),
      );
      return Number(answer.count ?? 0);
    };
    const [overdue, ...byStatus] = await Promise.all([
      count(`StartTime < '${overdueStartedBefore.toISOString()}' AND TransferStatus != 'AWAITING_APPROVAL'`),
      ...openTransferStatuses.map((status) => count(`TransferStatus = '${status}'`)),
    ]);
    return { overdue, byStatus: Object.fromEntries(openTransferStatuses.map((status, index) => [status, byStatus[index] ?? 0])) };
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
