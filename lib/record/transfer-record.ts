/**
 * The transfer record: the system of record of every transfer, kept in the transfer API's own
 * database. Temporal orchestrates a transfer; this record is what the transfer *is*, for as long
 * as the database keeps it (forever by default), whether or not Temporal still has the workflow.
 * Pure types and functions, safe to import from workflow code.
 */
import { initialTransferState, type AccountRef, type TransferState } from '../contracts/transfer-contract';
import type { SettlementPolicy } from '../contracts/settlement';

/** The normalised request a transfer was created from; "same body" compares its fingerprint. */
export interface TransferRequest {
  source: AccountRef;
  target: AccountRef;
  amountMinor: string;
  currency: string;
  reference: string | null;
}

/** Inserted once, before any workflow starts: the unique insert is the Idempotency-Key's decision. */
export interface TransferRecordDocument {
  /** The transfer id (a hash of the client and its Idempotency-Key). */
  _id: string;
  client: string;
  /** SHA-256 of the normalised request. */
  fingerprint: string;
  request: TransferRequest;
  createdAt: string;
  /**
   * The Unique End-to-end Transaction Reference (UUID v4, lower case): the client's, or chosen by the
   * API. Unique across transfers (a unique index). Absent in records written before it existed:
   * lib/record/transfer-identifiers.ts derives theirs from the transfer id.
   */
  uetr?: string;
  /** The client's end-to-end id (1-35 characters of the SWIFT X set); null when it gave none, absent in older records. */
  endToEndId?: string | null;
  /** How the transfer settles between its banks, fixed when it is recorded (absent: recorded before settlement, it never settles). */
  settlement?: SettlementPolicy;
}

/**
 * Who wrote a status entry, and in what order. A later run of the transfer's workflow (a reset,
 * a repair run) beats an earlier one; within a run, the higher revision wins. A late, retried
 * activity attempt carries an older writer and can never roll the record back.
 */
export interface StatusWriter {
  /** The workflow run, or `sweeper` for the API's own findings about a workflow that stopped. */
  runId: string;
  /**
   * Orders writers (ms since the epoch): the workflow time at which the run made this change, or
   * the time of the sweep. Every change of a later run (a reset, a repair run) is later than every
   * change of the run it replaced. (Not the run's start: a reset to a point after the first workflow
   * task inherits its base run's start.)
   */
  changedAtMs: number;
  /** Counts the run's recorded changes, from 1. */
  revision: number;
}

/** One decided change of a transfer, as the saga (or the sweeper) hands it to the record. */
export interface TransferStatusChange {
  transferId: string;
  writer: StatusWriter;
  /** The whole transfer as of this change: status, reason, attention, steps. */
  state: TransferState;
}

/** A status entry in the record: `_id` = `<transferId>:<n>`, n = 1, 2, … without gaps. */
export interface TransferStatusEntry extends TransferStatusChange {
  _id: string;
  n: number;
  recordedAt: string;
}

/** Negative when `a` was written before `b`, positive after, 0 for the same write. */
export function compareWriters(a: StatusWriter, b: StatusWriter): number {
  if (a.changedAtMs !== b.changedAtMs) return a.changedAtMs - b.changedAtMs;
  if (a.runId !== b.runId) return a.runId < b.runId ? -1 : 1;
  return a.revision - b.revision;
}

/** A transfer as the record knows it: the request, and the latest status entry if any was written. */
export interface RecordedTransfer {
  record: TransferRecordDocument;
  /** undefined until the saga recorded its first change: the transfer is PENDING. */
  latest: TransferStatusEntry | undefined;
}

/** The state a record answers with: its latest entry's, or PENDING from the request alone. */
export function recordedState(transfer: RecordedTransfer): TransferState {
  if (transfer.latest) return transfer.latest.state;
  const { record } = transfer;
  const { request } = record;
  return initialTransferState(
    { transferId: record._id, source: request.source, target: request.target, amountMinor: request.amountMinor, currency: request.currency, ...(request.reference === null ? {} : { reference: request.reference }), requestedBy: record.client },
    record.createdAt,
  );
}

/** A transfer with every status entry ever written for it, oldest first (every run's). */
export interface TransferHistory {
  record: TransferRecordDocument;
  entries: readonly TransferStatusEntry[];
}

/** What reconciliation and the chaos checker read of the record: one transfer at a time, by `_id`. */
export interface TransferRecordReader {
  /** undefined when no transfer has this id. */
  history(transferId: string): Promise<TransferHistory | undefined>;
  /** Transfers written again after a final status (a reset, a repair of an ended one): a small set. */
  reopenedTransfers(): Promise<string[]>;
  /** Takes a transfer out of the reopened set once it has been judged again. */
  forgetReopened(transferId: string): Promise<void>;
}
