import { isTerminalStatus, type TransferState, type TransferStatus } from '../contracts/transfer-contract';
import { compareWriters, type TransferHistory, type TransferStatusEntry } from '../record/transfer-record';

/**
 * What reconciliation takes from the transfer record, one transfer at a time. Temporal is never
 * asked: its workflows are deleted after retention, the record is kept. Pure functions.
 */

/**
 * The record's word on a transfer, as read before (some of) the ledger entries naming it:
 * - `unread`: entries were read before the record was; a later run judges the transfer
 * - `missing`: no transfer has this id, yet entries name it
 * - `recorded`: its status then; final (isTerminalStatus) or still in flight
 */
export type RecordedView =
  | { kind: 'unread' }
  | { kind: 'missing' }
  | {
      kind: 'recorded';
      status: TransferStatus;
      /** When a later workflow run entered AWAITING_APPROVAL again (see approvalRepeatedAt). */
      approvalRepeatedAt?: string;
    };

/** The writer of the API's own findings (see StatusWriter): it copies a state, it never enters one. */
const sweeperRunId = 'sweeper';

function decidedApproval(state: TransferState): boolean {
  return state.steps.some((step) => step.name === 'approval' && (step.status === 'SUCCEEDED' || step.status === 'FAILED'));
}

/**
 * When a later workflow run entered AWAITING_APPROVAL after an earlier run had decided the
 * approval: what a Temporal reset to the first workflow task of an approved (or refused) transfer
 * does. The operator would be asked again about money that may have moved already.
 */
export function approvalRepeatedAt(entries: readonly TransferStatusEntry[]): string | undefined {
  const decided: TransferStatusEntry[] = [];
  for (const entry of entries) {
    const { writer } = entry;
    const repeated = entry.state.status === 'AWAITING_APPROVAL' && writer.runId !== sweeperRunId && decided.some((earlier) => earlier.writer.runId !== writer.runId && earlier.writer.changedAtMs < writer.changedAtMs);
    if (repeated) return entry.recordedAt;
    if (decidedApproval(entry.state)) decided.push(entry);
  }
  return undefined;
}

/** The status the record answers with: its newest writer's (PENDING before any), never a late retry's. */
export function recordedStatusOf(entries: readonly TransferStatusEntry[]): TransferStatus {
  let latest: TransferStatusEntry | undefined;
  for (const entry of entries) if (!latest || compareWriters(entry.writer, latest.writer) > 0) latest = entry;
  return latest?.state.status ?? 'PENDING';
}

export function recordedViewOf(history: TransferHistory | undefined): RecordedView {
  if (!history) return { kind: 'missing' };
  const repeatedAt = approvalRepeatedAt(history.entries);
  return { kind: 'recorded', status: recordedStatusOf(history.entries), ...(repeatedAt === undefined ? {} : { approvalRepeatedAt: repeatedAt }) };
}

/** Final in the record: every leg the transfer will ever have was written before its final status. */
export function isFinalView(view: RecordedView): view is Extract<RecordedView, { kind: 'recorded' }> {
  return view.kind === 'recorded' && isTerminalStatus(view.status);
}
