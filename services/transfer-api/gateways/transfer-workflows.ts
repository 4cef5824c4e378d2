import type { OperatorDecision, TransferInput, TransferState, TransferStatus } from '../../../lib/transfer-contract';

/** Kept with each transfer workflow (memo) so that the API needs no database of its own. */
export interface TransferMemo {
  /** SHA-256 of the normalised create request: tells "same request again" from "same key, other body". */
  requestFingerprint: string;
  requestedBy: string;
  reference: string | null;
  createdAt: string;
}

export interface TransferRecord {
  memo: TransferMemo;
  running: boolean;
}

export type StartOutcome = 'started' | 'already-exists';

export interface TransferListFilter {
  status?: TransferStatus;
  sourceBank?: string;
  targetBank?: string;
  account?: string;
  needsAttention?: boolean;
  requestedBy?: string;
}

export interface TransferIdPage {
  transferIds: string[];
  nextPageToken: Uint8Array | null;
}

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

/** Open (running) transfers, counted by visibility. */
export interface OpenTransferCounts {
  byStatus: Partial<Record<TransferStatus, number>>;
  needingAttention: number;
  /** Started before the given bound and not awaiting approval. */
  overdue: number;
}

/** Everything the API asks of Temporal about transfers. */
export interface TransferWorkflows {
  start(input: TransferInput, memo: TransferMemo): Promise<StartOutcome>;
  /** undefined when no such transfer exists. */
  find(transferId: string): Promise<TransferRecord | undefined>;
  /** Live state of a running transfer (query) or the result of a closed one. */
  state(transferId: string, running: boolean): Promise<TransferState>;
  decide(transferId: string, action: OperatorAction, decision: OperatorDecision): Promise<TransferState>;
  list(filter: TransferListFilter, pageSize: number, pageToken: Uint8Array | null): Promise<TransferIdPage>;
  countOpen(overdueStartedBefore: Date): Promise<OpenTransferCounts>;
  /** True when the Temporal frontend answers. */
  ready(): Promise<boolean>;
}
