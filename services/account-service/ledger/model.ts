import type { AccountStatus, EntryKind, EntryOutcome } from '../../../lib/contracts/account-service-contract';

/** An account's static fields, kept in the accounts collection under `_id = accountId`. */
export interface AccountDocument {
  _id: string;
  owner: string;
  currency: string;
  /** The overdraft limit the account was opened with; later changes are `overdraft` entries in the chain. */
  overdraftLimitMinor: bigint;
  /** The daily outgoing limit the account was opened with; later changes are `limit` entries in the chain. */
  dailyDebitLimitMinor?: bigint;
  createdAt: string;
  /** Cache of the latest known sequence; a hint only (updates are not atomic on FerretDB). */
  headSeq: number;
  /** Set on the bank's clearing accounts (`clearing.<currency>`), which it opens and books itself. */
  clearing?: true;
}

/**
 * One decision in an account's chain, `_id = "<accountId>:<seq>"`. A unique index on
 * (accountId, operationId) makes a second decision for one operation impossible.
 */
export interface EntryDocument {
  _id: string;
  accountId: string;
  seq: number;
  operationId: string;
  kind: EntryKind;
  /** Signed change of the balance. */
  amountMinor: bigint;
  balanceAfterMinor: bigint;
  statusAfter: AccountStatus;
  outcome: EntryOutcome;
  code?: string;
  /**
   * What the request asked for, so that a replay with other fields is told apart (IDEMPOTENCY_CONFLICT):
   * the amount, or on an `overdraft` entry the limit asked for (a refused change keeps the old one).
   */
  requestedAmountMinor: bigint;
  requestedCurrency: string;
  createdAt: string;
  /** The daily outgoing limit in force after this entry; absent = no limit. */
  dailyDebitLimitMinor?: bigint;
  /**
   * The overdraft limit in force after this entry; absent = the account document's, as on every
   * entry of a chain before its first `overdraft` entry (and every entry written before they existed).
   */
  overdraftLimitMinor?: bigint;
  /** On `overdraft` entries only: the limit in force before it, so that the entry alone tells the change. */
  overdraftLimitBeforeMinor?: bigint;
  /**
   * The settlement window the entry was decided in: set by the latest applied `window` marker
   * before it in the chain (the marker carries its own), absent on chains without a marker.
   */
  windowId?: string;
  /**
   * On an applied interbank customer leg (debit, credit, or the refund of a cleared debit): the
   * clearing account whose entry under the same operation id is its counterpart.
   */
  clearingAccountId?: string;
  /**
   * The bank's calendar day the entry was decided on (`2026-11-29`) and the sum of debits applied
   * on that day so far, refunds of that day's debits taken off. Entries written before daily
   * limits existed lack both: their running total counts as 0.
   */
  day?: string;
  dayDebitedMinor?: bigint;
}

/** `{ _id: "<accountId>:<operationId>", seq }`: finds an operation's entry by `_id` alone. */
export interface PointerDocument {
  _id: string;
  seq: number;
}

export function entryId(accountId: string, seq: number): string {
  return `${accountId}:${seq}`;
}

export function pointerId(accountId: string, operationId: string): string {
  return `${accountId}:${operationId}`;
}

/** What an operation asks of the chain; `decide` turns it into the next entry. */
export interface Operation {
  operationId: string;
  kind: 'deposit' | 'debit' | 'credit' | 'refund' | 'void' | 'freeze' | 'unfreeze' | 'close' | 'open' | 'limit' | 'overdraft' | 'window' | 'settle' | 'clearing';
  /** Unsigned amount asked for ("0" for voids, status changes and window markers); signed on a `settle` and a `clearing`. */
  amountMinor: bigint;
  currency: string;
  /** A refund of a refused debit records NOTHING_TO_REFUND instead of APPLIED. */
  nothingToRefund?: boolean;
  /** A refund: the day of the debit it reverses, whose running total it gives the amount back to. */
  debitDay?: string;
  /** A `limit` operation: the new daily outgoing limit; null removes it. */
  dailyDebitLimitMinor?: bigint | null;
  /** An `overdraft` operation: the new overdraft limit (>= 0). */
  overdraftLimitMinor?: bigint;
  /** A `window` operation: the settlement window every later entry is decided in. */
  windowId?: string;
  /** A debit, credit or refund whose applied entry the bank books the counterpart of on this clearing account. */
  clearingAccountId?: string;
}

/** The head of a chain: its latest entry. */
export type Head = Pick<EntryDocument, 'seq' | 'balanceAfterMinor' | 'statusAfter' | 'dailyDebitLimitMinor' | 'overdraftLimitMinor' | 'windowId' | 'day' | 'dayDebitedMinor'>;

/** The overdraft limit in force at a head (or after an entry): its own, else the one the account was opened with. */
export function overdraftLimitInForce(account: AccountDocument, head: Head): bigint {
  return head.overdraftLimitMinor ?? account.overdraftLimitMinor;
}
