/**
 * What reconciliation finds, and the order it lists findings in. Pure types and functions.
 */

export type DiscrepancyKind =
  | 'DEBIT_WITHOUT_CREDIT_OR_REFUND'
  | 'CREDIT_WITHOUT_DEBIT'
  | 'REFUND_WITHOUT_DEBIT'
  | 'CREDIT_AND_REFUND'
  | 'AMOUNT_MISMATCH'
  | 'DUPLICATE_LEG'
  | 'UNKNOWN_TRANSFER'
  | 'STATUS_CONTRADICTS_LEDGER'
  | 'APPROVAL_REPEATED'
  | 'DUPLICATE_OPERATION'
  | 'CHAIN_BROKEN'
  | 'BALANCE_MISMATCH'
  | 'BELOW_LIMIT'
  | 'CONSERVATION'
  | 'CLEARING_MISMATCH'
  | 'SETTLEMENT_MISMATCH'
  | 'CLEARING_MIRROR'
  | 'POSITIONS_NOT_ZERO';

export interface Discrepancy {
  kind: DiscrepancyKind;
  detail: string;
  transferId?: string;
  bankId?: string;
  accountId?: string;
}

/**
 * A discrepancy with the time of its newest evidence: the latest ledger entry it rests on, the
 * status entry that showed it, or the run's own time for findings about the present state
 * (conservation, an account's balance). The time orders the report, newest first.
 */
export interface DatedDiscrepancy {
  at: string;
  discrepancy: Discrepancy;
}

/** A report lists at most this many discrepancies; `discrepancyCount` counts them all. */
export const discrepanciesListedMax = 500;

function tieBreakKey({ kind, transferId, bankId, accountId, detail }: Discrepancy): string {
  return [kind, transferId ?? '', bankId ?? '', accountId ?? '', detail].join('\u0000');
}

/** Newest first; findings of the same moment in a fixed order, so that equal sets list equally. */
export function newestFirst(a: DatedDiscrepancy, b: DatedDiscrepancy): number {
  if (a.at !== b.at) return a.at < b.at ? 1 : -1;
  const keyA = tieBreakKey(a.discrepancy);
  const keyB = tieBreakKey(b.discrepancy);
  return keyA < keyB ? -1 : keyA > keyB ? 1 : 0;
}

/**
 * The newest `max` findings of several lists, newest first. Each list may itself have been cut to
 * its newest `max`: what it lost could never have been among the newest `max` of the union.
 */
export function newestOf(lists: ReadonlyArray<readonly DatedDiscrepancy[]>, max: number = discrepanciesListedMax): DatedDiscrepancy[] {
  return lists.flat().sort(newestFirst).slice(0, max);
}
