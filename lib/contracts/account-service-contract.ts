/**
 * The account service's HTTP contract (JSON shapes), shared by the service, the saga's
 * activities and the transfer API. Amounts are decimal strings of minor units.
 */

export type AccountStatus = 'ACTIVE' | 'FROZEN' | 'CLOSED';

export interface AccountView {
  accountId: string;
  bankId: string;
  owner: string;
  currency: string;
  status: AccountStatus;
  balanceMinor: string;
  /** Overdraft allowed below zero, as a positive amount ("0" when none). */
  overdraftLimitMinor: string;
  /** Most the account may send per bank day; absent when it has no daily limit. */
  dailyDebitLimitMinor?: string;
  /** Debited so far on the bank's current day (refunds of today's debits taken off). */
  dayDebitedMinor: string;
  /** Sequence number of the account's latest ledger entry. */
  sequence: number;
}

/**
 * What a ledger entry records:
 * - open: the account's first entry (sequence 0)
 * - deposit, debit, credit, refund: money movements (refusals are zero-amount entries of the same kind)
 * - void: a zero-amount entry that takes a transfer's debit or credit slot before it happened,
 *   so that it never can (`<transferId>:debit` or `<transferId>:credit`)
 * - freeze, unfreeze, close: status changes, decided in the same chain
 * - limit: a change of the daily outgoing limit, decided in the same chain so it is ordered with debits
 */
export type EntryKind = 'open' | 'deposit' | 'debit' | 'credit' | 'refund' | 'void' | 'freeze' | 'unfreeze' | 'close' | 'limit';

/**
 * APPLIED: the entry did what it asked; REFUSED: decided no, with `code`;
 * NOTHING_TO_REFUND: a refund of a debit that had been refused (zero amount).
 */
export type EntryOutcome = 'APPLIED' | 'REFUSED' | 'NOTHING_TO_REFUND';

export interface LedgerEntryView {
  /** `<transferId>:debit` | `:credit` | `:refund`, `<depositId>:deposit`, or a status change's id. */
  operationId: string;
  accountId: string;
  kind: EntryKind;
  /** Signed change of the balance: negative for debits, "0" for refusals and voids. */
  amountMinor: string;
  balanceAfterMinor: string;
  sequence: number;
  outcome: EntryOutcome;
  code?: string;
  /** ISO 8601 time the entry was decided. */
  createdAt: string;
  /** The bank day of the entry and the day's running debited total (absent on entries older than daily limits). */
  day?: string;
  dayDebitedMinor?: string;
  /** On `limit` entries: the new daily limit, null when removed. */
  dailyDebitLimitMinor?: string | null;
}

export interface OpenAccountRequest {
  accountId: string;
  owner: string;
  currency: string;
  overdraftLimitMinor?: string;
  dailyDebitLimitMinor?: string;
}

/** Body of POST …/daily-limit: the new limit, or null to remove it. */
/** Every account change (freeze, unfreeze, close, daily limit) names its change id: a replay answers the first decision. */
export interface AccountChangeRequest {
  changeId: string;
}

export interface DailyLimitRequest extends AccountChangeRequest {
  dailyDebitLimitMinor: string | null;
}

export interface DepositRequest {
  depositId: string;
  amountMinor: string;
  currency: string;
}

/** Body of POST …/debits and …/credits. */
export interface TransferLegRequest {
  transferId: string;
  amountMinor: string;
  currency: string;
}

/** Body of POST …/refunds and …/credit-voids. */
export interface TransferReferenceRequest {
  transferId: string;
}

export interface EntryPage {
  data: LedgerEntryView[];
  /** Pass as `after=` for the next page; null at the end of the chain. */
  nextCursor: string | null;
}

/** A refusal decided by the ledger: its code's HTTP status, the error, and the zero-amount entry. */
export interface RefusalBody {
  error: { code: string; message: string };
  entry: LedgerEntryView;
}

export function debitOperationId(transferId: string): string {
  return `${transferId}:debit`;
}

export function creditOperationId(transferId: string): string {
  return `${transferId}:credit`;
}

export function refundOperationId(transferId: string): string {
  return `${transferId}:refund`;
}

export function depositOperationId(depositId: string): string {
  return `${depositId}:deposit`;
}

/** GET /v1/accounts: every account of a bank in `accountId` order. */
export interface AccountPage {
  data: AccountView[];
  /** Pass as `after=` for the next page; null after the last account. */
  nextCursor: string | null;
}
