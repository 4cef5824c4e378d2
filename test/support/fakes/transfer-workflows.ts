import type { OperatorDecision, TransferInput, TransferState } from '../../../lib/contracts/transfer-contract';
import type {
  OpenWorkflowCounts,
  OperatorAction,
  StartOutcome,
  TransferMemo,
  TransferWorkflows,
  WorkflowPresence,
} from '../../../services/transfer-api/gateways/transfer-workflows';

/** Temporal as the API sees it, in memory: it remembers every start and knows no running saga. */
export class FakeTransferWorkflows implements TransferWorkflows {
  readonly started: TransferInput[] = [];

  async start(input: TransferInput, _memo: TransferMemo): Promise<StartOutcome> {
    if (this.started.some((earlier) => earlier.transferId === input.transferId)) return 'already-exists';
    this.started.push(input);
    return 'started';
  }

  async startRepair(input: TransferInput, _memo: TransferMemo): Promise<StartOutcome> {
    throw new Error(`the fake workflows do not repair ${input.transferId}`);
  }

  async describe(transferId: string): Promise<WorkflowPresence | undefined> {
    return this.started.some((input) => input.transferId === transferId) ? { running: true, status: 'RUNNING' } : undefined;
  }

  async liveState(_transferId: string): Promise<TransferState | undefined> {
    return undefined;
  }

  async decide(transferId: string, action: OperatorAction, _decision: OperatorDecision): Promise<TransferState> {
    throw new Error(`the fake workflows do not ${action} ${transferId}`);
  }

  async countOpen(_overdueStartedBefore: Date): Promise<OpenWorkflowCounts> {
    return { byStatus: {}, overdue: 0 };
  }

  async ready(): Promise<boolean> {
    return true;
  }
}
