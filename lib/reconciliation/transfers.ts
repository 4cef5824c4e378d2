import type { ChainAccount, ChainEntry } from './accounts';
import { formatMinor } from '../contracts/money';
import type { DatedDiscrepancy, DiscrepancyKind } from './discrepancy';
import { isFinalView, type RecordedView } from './record';
import type { TransferStatus } from '../contracts/transfer-contract';

/**
 * The rules for one transfer: its ledger legs against each other and against the final status
 * the record gives it. Pure functions.
 */

export interface LegRecord {
  bankId: string;
  accountId: string;
  currency: string;
  /** Unsigned amount the entry moved. */
  amountMinor: bigint;
  /** An interbank leg that settles: the clearing account at its bank holding its counterpart (absent otherwise, never undefined: cuts store it). */
  clearingAccountId?: string;
}

/** The slot of a transfer's operation id: `<transferId>:debit|credit|refund`. */
export type LegSlot = 'debit' | 'credit' | 'refund';

/** A clearing entry at a participant bank: the counterpart of the customer leg in its slot, signed as booked. */
export interface ClearingLeg {
  bankId: string;
  accountId: string;
  currency: string;
  slot: LegSlot;
  amountMinor: bigint;
}

/** A transfer's applied leg at the settlement bank (`bankId` is the settlement bank's), signed as booked. */
export interface SettlementLeg {
  bankId: string;
  accountId: string;
  currency: string;
  slot: LegSlot;
  amountMinor: bigint;
  /** The window its chain had it decided in (position chains after their first marker). */
  windowId?: string;
}

/** A transfer's applied legs as read so far, over every bank and every run that has not judged it yet. */
export interface TransferLegs {
  transferId: string;
  debits: LegRecord[];
  credits: LegRecord[];
  refunds: LegRecord[];
  /** Entries naming the transfer, moving money or not. */
  entries: number;
  /** createdAt of the newest of them: when the evidence last changed. */
  lastEntryAt: string;
  /** APPROVAL_REPEATED was reported while the transfer was in flight: not again when it is judged. */
  approvalRepeatedReported: boolean;
  /** Its applied clearing entries at the participant banks; absent when none was seen (and in older cuts). */
  clearing?: ClearingLeg[];
  /** Its applied legs at the settlement bank; absent when none was seen (and in older cuts). */
  settlement?: SettlementLeg[];
}

const transferLegKinds = new Set(['debit', 'credit', 'refund', 'void']);

/** `<transferId>:debit|credit|refund` → transferId; undefined for deposits and status changes. */
export function transferIdOf(entry: ChainEntry): string | undefined {
  if (!transferLegKinds.has(entry.kind)) return undefined;
  const separator = entry.operationId.lastIndexOf(':');
  return separator > 0 ? entry.operationId.slice(0, separator) : undefined;
}

function absolute(value: bigint): bigint {
  return value < 0n ? -value : value;
}

export function copyLegs(legs: TransferLegs): TransferLegs {
  const copy: TransferLegs = { ...legs, debits: [...legs.debits], credits: [...legs.credits], refunds: [...legs.refunds] };
  if (legs.clearing) copy.clearing = [...legs.clearing];
  if (legs.settlement) copy.settlement = [...legs.settlement];
  return copy;
}

/** The slot an operation id names; undefined for any other suffix. */
export function slotOf(operationId: string): LegSlot | undefined {
  const slot = operationId.slice(operationId.lastIndexOf(':') + 1);
  return slot === 'debit' || slot === 'credit' || slot === 'refund' ? slot : undefined;
}

/** The record of `transferId` in `legs`, counting `entry` as evidence naming it (created on first sight). */
export function recordOf(legs: Map<string, TransferLegs>, transferId: string, entry: ChainEntry): TransferLegs {
  const record = legs.get(transferId) ?? { transferId, debits: [], credits: [], refunds: [], entries: 0, lastEntryAt: entry.createdAt, approvalRepeatedReported: false };
  record.entries += 1;
  if (entry.createdAt > record.lastEntryAt) record.lastEntryAt = entry.createdAt;
  legs.set(transferId, record);
  return record;
}

/** Adds one entry to the legs of the transfer it names (in `legs`, by transfer id); others are ignored. */
export function addEntry(legs: Map<string, TransferLegs>, bankId: string, account: ChainAccount, entry: ChainEntry): void {
  const transferId = transferIdOf(entry);
  if (transferId === undefined) return;
  const record = recordOf(legs, transferId, entry);
  // Refusals and voids are zero-amount entries: they take a slot and move nothing.
  if (entry.outcome === 'APPLIED' && entry.kind !== 'void') {
    const cleared = entry.clearingAccountId === undefined ? {} : { clearingAccountId: entry.clearingAccountId };
    const leg: LegRecord = { bankId, accountId: account.accountId, currency: account.currency, amountMinor: absolute(entry.amountMinor), ...cleared };
    if (entry.kind === 'debit') record.debits.push(leg);
    if (entry.kind === 'credit') record.credits.push(leg);
    if (entry.kind === 'refund') record.refunds.push(leg);
  }
}

/** What the money did; `broken` when the legs themselves break a rule. */
export type LegsOutcome = 'completed' | 'reversed' | 'nothing-moved' | 'broken';
export type TransferOutcome = LegsOutcome | 'in-flight';

export type Finding = (kind: DiscrepancyKind, detail: string, leg?: Pick<LegRecord, 'bankId' | 'accountId'>) => void;

/** The rules the legs of an ended transfer obey whatever its status: each leg once, and each debit answered in full. */
export function judgeLegs(legs: TransferLegs, at: Finding): LegsOutcome {
  const { debits, credits, refunds } = legs;
  if (debits.length > 1 || credits.length > 1 || refunds.length > 1) {
    at('DUPLICATE_LEG', `${debits.length} debits, ${credits.length} credits, ${refunds.length} refunds applied`);
    return 'broken';
  }
  const [debit] = debits;
  const [credit] = credits;
  const [refund] = refunds;
  if (!debit) {
    if (credit) at('CREDIT_WITHOUT_DEBIT', `credit of ${formatMinor(credit.amountMinor)} with no applied debit`, credit);
    if (refund) at('REFUND_WITHOUT_DEBIT', `refund of ${formatMinor(refund.amountMinor)} with no applied debit`, refund);
    return credit || refund ? 'broken' : 'nothing-moved';
  }
  if (credit && refund) {
    at('CREDIT_AND_REFUND', `debit of ${formatMinor(debit.amountMinor)} both credited and refunded`, refund);
    return 'broken';
  }
  const other = credit ?? refund;
  if (other && (other.amountMinor !== debit.amountMinor || other.currency !== debit.currency)) {
    at('AMOUNT_MISMATCH', `debit ${formatMinor(debit.amountMinor)} ${debit.currency}, ${credit ? 'credit' : 'refund'} ${formatMinor(other.amountMinor)} ${other.currency}`, other);
    return 'broken';
  }
  if (credit) return 'completed';
  if (refund) return 'reversed';
  at('DEBIT_WITHOUT_CREDIT_OR_REFUND', `debit of ${formatMinor(debit.amountMinor)} ${debit.currency}, the transfer ended without credit or refund`, debit);
  return 'broken';
}

/**
 * The whole legs each final status allows: COMPLETED a debit and its credit; REFUNDED a debit
 * and its refund; REJECTED and CANCELLED no money kept moved (nothing, or a refunded debit).
 */
const outcomesAllowed: Readonly<Record<string, readonly LegsOutcome[]>> = {
  COMPLETED: ['completed'],
  REFUNDED: ['reversed'],
  REJECTED: ['nothing-moved', 'reversed'],
  CANCELLED: ['nothing-moved', 'reversed'],
};

export const outcomeText: Record<Exclude<LegsOutcome, 'broken'>, string> = {
  completed: 'a debit and its credit',
  reversed: 'a debit and its refund',
  'nothing-moved': 'no applied debit, credit or refund',
};

/**
 * The money-moving legs a final status needs, as the saga writes them: it ends REJECTED or
 * CANCELLED only when nothing moved (a refunded debit ends REFUNDED). The rules above also let a
 * refunded debit end REJECTED or CANCELLED; a rule that has the status but not the legs takes
 * the saga's word.
 */
export function legsStatusNeeds(status: TransferStatus): Exclude<LegsOutcome, 'broken'> | undefined {
  if (status === 'COMPLETED') return 'completed';
  if (status === 'REFUNDED') return 'reversed';
  if (status === 'REJECTED' || status === 'CANCELLED') return 'nothing-moved';
  return undefined;
}

/** True when the legs are whole and what `status` allows: judging them would find nothing. */
export function legsAgreeWith(legs: TransferLegs, status: TransferStatus): boolean {
  const outcome = judgeLegs(legs, () => undefined);
  return outcome !== 'broken' && (outcomesAllowed[status] ?? []).includes(outcome);
}

export interface TransferJudgement {
  outcome: TransferOutcome;
  found: DatedDiscrepancy[];
  approvalRepeatedReported: boolean;
}

/** A finding about the transfer of `legs`, pushed into `found` and dated by its newest entry. */
export function findingsInto(found: DatedDiscrepancy[], legs: Pick<TransferLegs, 'transferId' | 'lastEntryAt'>): Finding {
  return (kind, detail, leg) => {
    found.push({ at: legs.lastEntryAt, discrepancy: { kind, transferId: legs.transferId, detail, ...(leg ? { bankId: leg.bankId, accountId: leg.accountId } : {}) } });
  };
}

/**
 * Judges a transfer by its legs and its record. In flight in the record (or not read yet), it is
 * not judged at all, whatever legs were seen: they may straddle the reading. Ended, its legs are
 * judged first; whole legs are then held against the final status. Each finding is made once.
 */
export function judgeTransfer(legs: TransferLegs, view: RecordedView): TransferJudgement {
  const found: DatedDiscrepancy[] = [];
  const at = findingsInto(found, legs);
  if (view.kind === 'unread') return { outcome: 'in-flight', found, approvalRepeatedReported: legs.approvalRepeatedReported };
  if (view.kind === 'missing') {
    at('UNKNOWN_TRANSFER', `${legs.entries} ledger entries name a transfer nobody recorded`, legs.debits[0] ?? legs.credits[0] ?? legs.refunds[0]);
    return { outcome: 'broken', found, approvalRepeatedReported: legs.approvalRepeatedReported };
  }
  let approvalRepeatedReported = legs.approvalRepeatedReported;
  if (view.approvalRepeatedAt !== undefined && !approvalRepeatedReported) {
    found.push({ at: view.approvalRepeatedAt, discrepancy: { kind: 'APPROVAL_REPEATED', transferId: legs.transferId, detail: 'a later workflow run asked for approval again after an earlier run had decided it' } });
    approvalRepeatedReported = true;
  }
  if (!isFinalView(view)) return { outcome: 'in-flight', found, approvalRepeatedReported };
  const outcome = judgeLegs(legs, at);
  if (outcome !== 'broken' && !(outcomesAllowed[view.status] ?? []).includes(outcome)) {
    at('STATUS_CONTRADICTS_LEDGER', `the record says ${view.status}, the ledgers hold ${outcomeText[outcome]}`, legs.credits[0] ?? legs.refunds[0] ?? legs.debits[0]);
  }
  return { outcome, found, approvalRepeatedReported };
}
