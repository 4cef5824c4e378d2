import type { OperatorDecision, TransferInput, TransferState, TransferStatus } from '../../../lib/contracts/transfer-contract';

/** Shown with each transfer workflow in the Web UI (memo); the transfer record is the API's own. */
export interface TransferMemo {
  requestedBy: string;
  createdAt: string;
}

/** What Temporal holds of a transfer's workflow now: nothing (never started, or deleted), or its latest run. */
export interface WorkflowPresence {
  running: boolean;
  /** RUNNING, COMPLETED, TERMINATED, FAILED, CANCELLED, TIMED_OUT, CONTINUED_AS_NEW. */
  status: string;
}

export type StartOutcome = 'started' | 'already-exists';

/** The saga's state is not readable yet: its first workflow task has not run. */
export class TransferNotReadyError extends Error {
  override readonly name = 'TransferNotReadyError';
}

/** An operator update the workflow refused, with the workflow's code (e.g. TRANSFER_NOT_CANCELLABLE). */
export class TransferUpdateRefusedError extends Error {
  override readonly name = 'TransferUpdateRefusedError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type OperatorAction = 'approve' | 'reject' | 'cancel';

/** Open transfers for the gauges: running ones by status and overdue (visibility), needing attention (the record). */
export interface OpenTransferCounts {
  byStatus: Partial<Record<TransferStatus, number>>;
  needingAttention: number;
  /** Started before the given bound and not awaiting approval. */
  overdue: number;
}

/** What visibility counts; transfers needing attention come from the record's attention set. */
export type OpenWorkflowCounts = Omit<OpenTransferCounts, 'needingAttention'>;

/**
 * Everything the API asks of Temporal about transfers. Temporal orchestrates; what a transfer is
 * comes from the transfer record, so nothing here is needed to read one.
 */
export interface TransferWorkflows {
  start(input: TransferInput, memo: TransferMemo): Promise<StartOutcome>;
  /** Starts a repair run under the transfer's workflow id; refused while a run is open or after one completed. */
  startRepair(input: TransferInput, memo: TransferMemo): Promise<StartOutcome>;
  /** undefined when Temporal has no workflow for the transfer. */
  describe(transferId: string): Promise<WorkflowPresence | undefined>;
  /** The running saga's own state, if its worker answers quickly; undefined otherwise. */
  liveState(transferId: string): Promise<TransferState | undefined>;
  decide(transferId: string, action: OperatorAction, decision: OperatorDecision): Promise<TransferState>;
  /** Running transfers by status, and the overdue ones, from visibility. */
  countOpen(overdueStartedBefore: Date): Promise<OpenWorkflowCounts>;
  /** True when the Temporal frontend answers. */
  ready(): Promise<boolean>;
}
