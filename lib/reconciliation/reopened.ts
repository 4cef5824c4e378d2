import type { DatedDiscrepancy } from './discrepancy';
import { approvalRepeatedAt, recordedStatusOf } from './record';
import { legsStatusNeeds, outcomeText } from './transfers';
import { isTerminalStatus, type AccountRef, type TransferStatus } from '../contracts/transfer-contract';
import type { TransferHistory } from '../record/transfer-record';

/**
 * Transfers written again after they had ended (the record's reopened set: a Temporal reset of an
 * ended transfer, a repair run), judged again although no new ledger entry names them: the
 * ledgers answer a reset run's repeated debit, credit and refund with the original entries.
 * Pure functions.
 *
 * Their legs are not read again. A transfer's legs are all written before its first final status
 * and were judged against that status by an earlier run (which reported any disagreement), and
 * the cut keeps the legs of transfers in flight only. Reading them again would mean reading its
 * source and target chains whole, as the account services find entries by sequence only; the
 * legs that first final status needs stand for them instead, and cost no read. A transfer whose
 * reset does write new entries is judged by its legs like any other, by the run that reads them.
 */

export type ReopenedView =
  | { kind: 'missing'; transferId: string; inSet: boolean }
  | {
      kind: 'recorded';
      transferId: string;
      /** In the record's reopened set when read; otherwise read again because the cut's mark names it. */
      inSet: boolean;
      /** Status entries in its history, every run's. */
      entries: number;
      /** Its status now (the newest writer's). */
      status: TransferStatus;
      /** The first final status in its history: the one its legs were judged against. */
      firstFinalStatus: TransferStatus | undefined;
      approvalRepeatedAt: string | undefined;
      /** recordedAt of its newest entry: dates what it shows. */
      latestAt: string;
      source: AccountRef;
      target: AccountRef;
    };

/** What the next run needs to know of a reopened transfer this run judged. */
export interface ReopenedMark {
  transferId: string;
  /** Status entries in its history when it was judged. */
  entries: number;
  /**
   * Final then: it leaves the reopened set once the cut is stored, and the next run reads its
   * history once more, in case a write came between the reading and the forgetting.
   */
  final: boolean;
  approvalRepeatedReported: boolean;
}

export interface ReopenedJudgement {
  found: DatedDiscrepancy[];
  /** undefined when the next run has nothing to read of it. */
  mark: ReopenedMark | undefined;
  /** Take it out of the reopened set once the cut is stored. */
  forget: boolean;
}

export function reopenedViewOf(transferId: string, history: TransferHistory | undefined, inSet: boolean): ReopenedView {
  if (!history) return { kind: 'missing', transferId, inSet };
  const firstFinal = history.entries.find((entry) => isTerminalStatus(entry.state.status));
  return {
    kind: 'recorded',
    transferId,
    inSet,
    entries: history.entries.length,
    status: recordedStatusOf(history.entries),
    firstFinalStatus: firstFinal?.state.status,
    approvalRepeatedAt: approvalRepeatedAt(history.entries),
    latestAt: history.entries.at(-1)?.recordedAt ?? history.record.createdAt,
    source: history.record.request.source,
    target: history.record.request.target,
  };
}

/** The finding when the status now needs other legs than the first final status did; undefined when they agree. */
function contradiction(view: Extract<ReopenedView, { kind: 'recorded' }>): DatedDiscrepancy | undefined {
  const judged = view.firstFinalStatus === undefined ? undefined : legsStatusNeeds(view.firstFinalStatus);
  const now = legsStatusNeeds(view.status);
  if (judged === undefined || now === undefined || judged === now) return undefined;
  // Where the normal rule points: at the credit, else the refund, else nowhere (no money moved).
  const account = judged === 'completed' ? view.target : judged === 'reversed' ? view.source : undefined;
  return {
    at: view.latestAt,
    discrepancy: {
      kind: 'STATUS_CONTRADICTS_LEDGER',
      transferId: view.transferId,
      detail: `a later workflow run recorded ${view.status}, the ledgers hold ${outcomeText[judged]} (judged when it was ${view.firstFinalStatus})`,
      ...(account ? { bankId: account.bankId, accountId: account.accountId } : {}),
    },
  };
}

/**
 * Judges a reopened transfer none of whose legs this run holds. APPROVAL_REPEATED is reported
 * once, in flight or final (`approvalReported`: a finding or mark carried in the cut says so
 * already); the status is held against the legs once it is final again.
 */
export function judgeReopened(view: ReopenedView, previous: ReopenedMark | undefined, approvalReported: boolean): ReopenedJudgement {
  // No record to judge it by, and no entry to report: it only leaves the set.
  if (view.kind === 'missing') return { found: [], mark: undefined, forget: view.inSet };
  // The stored cut has judged exactly this history: a run that stopped before forgetting it, or the check after one that did.
  if (previous?.final && previous.entries === view.entries) return { found: [], mark: view.inSet ? previous : undefined, forget: view.inSet };
  const found: DatedDiscrepancy[] = [];
  let approvalRepeatedReported = approvalReported || (previous?.approvalRepeatedReported ?? false);
  if (view.approvalRepeatedAt !== undefined && !approvalRepeatedReported) {
    found.push({ at: view.approvalRepeatedAt, discrepancy: { kind: 'APPROVAL_REPEATED', transferId: view.transferId, detail: 'a later workflow run asked for approval again after an earlier run had decided it' } });
    approvalRepeatedReported = true;
  }
  const final = isTerminalStatus(view.status);
  const contradicted = final ? contradiction(view) : undefined;
  if (contradicted) found.push(contradicted);
  return { found, mark: { transferId: view.transferId, entries: view.entries, final, approvalRepeatedReported }, forget: final && view.inSet };
}
