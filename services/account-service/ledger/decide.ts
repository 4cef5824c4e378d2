import type { AccountStatus, EntryOutcome } from '../../../lib/contracts/account-service-contract';
import type { ErrorCode } from '../../../lib/contracts/error-codes';
import { entryId, overdraftLimitInForce, type AccountDocument, type EntryDocument, type Head, type Operation } from './model';

/**
 * Balances are stored as signed 64-bit integers, and BSON writes a bigint beyond that range
 * silently wrapped. Amounts have at most 18 digits, so ten large credits could get there.
 */
export const balanceMinorMax = 2n ** 63n - 1n;
export const balanceMinorMin = -(2n ** 63n);

/**
 * The bank day an entry is decided on: the day of the clock, but never earlier than the head's.
 * Processes' clocks differ; were a chain's day to move back, a process whose clock is behind would
 * start the head's day's total again from 0 and the two would take turns resetting the limit. So
 * a chain's day only moves forward, and a slow clock decides on the day the chain has reached.
 */
export function chainDay(head: Head, clockDay: string): string {
  return head.day !== undefined && head.day > clockDay ? head.day : clockDay;
}

/** What the day's running total was before this entry: the head's, if the head is of the same day. */
function dayDebitedBefore(head: Head, day: string): bigint {
  return head.day === day ? (head.dayDebitedMinor ?? 0n) : 0n;
}

/**
 * The day's running total after the entry. An applied debit adds to it; a refund gives the amount
 * back only when its debit was decided on the same day (a later day's total was never charged).
 */
function dayDebitedAfter(operation: Operation, before: bigint, day: string, refused: boolean): bigint {
  if (refused) return before;
  if (operation.kind === 'debit') return before + operation.amountMinor;
  if (operation.kind === 'refund' && operation.debitDay === day) {
    const after = before - operation.amountMinor;
    return after < 0n ? 0n : after;
  }
  return before;
}

/** The limit an `overdraft` operation asks for; the route has checked it, so its absence is a bug. */
function askedOverdraftLimit(operation: Operation): bigint {
  if (operation.overdraftLimitMinor === undefined || operation.overdraftLimitMinor < 0n) throw new Error(`ledger invariant: ${operation.operationId} changes the overdraft limit without a limit >= 0`);
  return operation.overdraftLimitMinor;
}

/**
 * Administration is decided in the chain like money, so a refusal is an entry too and its
 * replay answers the same: a close refused while the account held money stays refused after
 * it is emptied. Closing a closed account, like freezing a frozen one, is no refusal: it
 * changes nothing. Daily-limit changes are never refused; an overdraft limit is refused on a
 * closed account and below what the account has drawn already (a limit it would be past at once).
 */
function adminRefusalCode(operation: Operation, head: Head): ErrorCode | undefined {
  if (operation.kind === 'close') return head.statusAfter !== 'CLOSED' && head.balanceAfterMinor !== 0n ? 'ACCOUNT_NOT_EMPTY' : undefined;
  if (operation.kind === 'freeze' || operation.kind === 'unfreeze') return head.statusAfter === 'CLOSED' ? 'ACCOUNT_CLOSED' : undefined;
  if (operation.kind === 'overdraft') {
    if (head.statusAfter === 'CLOSED') return 'ACCOUNT_CLOSED';
    return head.balanceAfterMinor < -askedOverdraftLimit(operation) ? 'OVERDRAFT_BELOW_BALANCE' : undefined;
  }
  return undefined;
}

/** The window a `window` operation opens; the route has checked it, so its absence is a bug. */
function askedWindowId(operation: Operation): string {
  if (operation.windowId === undefined || operation.windowId === '') throw new Error(`ledger invariant: ${operation.operationId} marks a window without a window id`);
  return operation.windowId;
}

/**
 * A settlement window's own operations. A marker is applied whatever the status but closed. A
 * settlement move must land whatever the overdraft limit (a window's settlement is not a debit the
 * account chose) and, like a refund, whatever a freeze; only a closed account, another currency
 * and a balance beyond 64 bits refuse it.
 */
function windowRefusalCode(operation: Operation, head: Head, account: AccountDocument): ErrorCode | undefined {
  if (head.statusAfter === 'CLOSED') return 'ACCOUNT_CLOSED';
  if (operation.kind === 'window') return undefined;
  if (operation.amountMinor === 0n) throw new Error(`ledger invariant: ${operation.operationId} settles a zero amount`);
  if (operation.currency !== account.currency) return 'CURRENCY_MISMATCH';
  const after = head.balanceAfterMinor + operation.amountMinor;
  return after > balanceMinorMax || after < balanceMinorMin ? 'BALANCE_LIMIT_EXCEEDED' : undefined;
}

/**
 * A clearing entry is the counterpart of a leg already applied: it is never refused (nothing
 * closes or freezes a clearing account), and only ever lands on one.
 */
function checkClearing(operation: Operation, account: AccountDocument): void {
  if (account.clearing !== true) throw new Error(`ledger invariant: ${operation.operationId} books clearing on ${account._id}, which is no clearing account`);
  if (operation.currency !== account.currency) throw new Error(`ledger invariant: ${operation.operationId} books ${operation.currency} on ${account._id}`);
  if (operation.amountMinor === 0n) throw new Error(`ledger invariant: ${operation.operationId} books a zero counterpart`);
}

function refusalCode(operation: Operation, head: Head, account: AccountDocument, day: string): ErrorCode | undefined {
  if (operation.kind === 'clearing') {
    checkClearing(operation, account);
    return undefined;
  }
  if (operation.kind === 'window' || operation.kind === 'settle') return windowRefusalCode(operation, head, account);
  const moves = operation.kind === 'deposit' || operation.kind === 'debit' || operation.kind === 'credit';
  if (!moves) return adminRefusalCode(operation, head);
  if (head.statusAfter === 'CLOSED') return 'ACCOUNT_CLOSED';
  if (head.statusAfter === 'FROZEN') return 'ACCOUNT_FROZEN';
  if (operation.currency !== account.currency) return 'CURRENCY_MISMATCH';
  if (operation.kind === 'debit' && head.balanceAfterMinor - operation.amountMinor < -overdraftLimitInForce(account, head)) return 'INSUFFICIENT_FUNDS';
  if (operation.kind === 'debit' && head.dailyDebitLimitMinor !== undefined && dayDebitedBefore(head, day) + operation.amountMinor > head.dailyDebitLimitMinor) {
    return 'DAILY_LIMIT_EXCEEDED';
  }
  // The day's total is stored as a signed 64-bit integer like a balance (deposits can refill an account all day long).
  if (operation.kind === 'debit' && dayDebitedBefore(head, day) + operation.amountMinor > balanceMinorMax) return 'BALANCE_LIMIT_EXCEEDED';
  if (operation.kind !== 'debit' && head.balanceAfterMinor + operation.amountMinor > balanceMinorMax) return 'BALANCE_LIMIT_EXCEEDED';
  return undefined;
}

function signedAmount(operation: Operation): bigint {
  switch (operation.kind) {
    case 'debit':
      return -operation.amountMinor;
    case 'deposit':
    case 'credit':
    case 'refund':
    case 'settle':
    case 'clearing':
      return operation.amountMinor;
    default:
      return 0n;
  }
}

function statusAfter(operation: Operation, before: AccountStatus): AccountStatus {
  if (operation.kind === 'freeze') return 'FROZEN';
  if (operation.kind === 'unfreeze') return 'ACTIVE';
  if (operation.kind === 'close') return 'CLOSED';
  return before;
}

function limitAfter(operation: Operation, head: Head, refused: boolean): bigint | undefined {
  if (refused || operation.kind !== 'limit' || operation.dailyDebitLimitMinor === undefined) return head.dailyDebitLimitMinor;
  return operation.dailyDebitLimitMinor ?? undefined;
}

/**
 * Carries the overdraft limit forward once a chain has one of its own. An `overdraft` entry holds
 * both the limit before it and the one after (the old one again when refused), so that its view and
 * reconciliation read the change from the entry alone.
 */
function setOverdraftLimit(entry: EntryDocument, account: AccountDocument, head: Head, operation: Operation, refused: boolean): void {
  if (operation.kind !== 'overdraft') {
    if (head.overdraftLimitMinor !== undefined) entry.overdraftLimitMinor = head.overdraftLimitMinor;
    return;
  }
  const before = overdraftLimitInForce(account, head);
  entry.overdraftLimitMinor = refused ? before : askedOverdraftLimit(operation);
  entry.overdraftLimitBeforeMinor = before;
}

/** Carries the chain's settlement window forward; an applied marker sets its own (a refused one keeps the old). */
function setWindow(entry: EntryDocument, head: Head, operation: Operation, refused: boolean): void {
  const asked = operation.kind === 'window' ? askedWindowId(operation) : undefined;
  const windowId = asked !== undefined && !refused ? asked : head.windowId;
  if (windowId !== undefined) entry.windowId = windowId;
}

/** The UTC calendar day of an ISO 8601 time: the bank day when no time zone is configured. */
export function utcDay(isoTime: string): string {
  return isoTime.slice(0, 10);
}

/**
 * The next entry of a chain for an operation: applied, or a zero-amount refusal with its code.
 * Pure, so that a batch of operations can be decided in memory from one head.
 * Refunds and voids always apply, whatever the account's status; settlement moves too, but not
 * on a closed account. `clockDay` is the bank's calendar
 * day at `now` (its time zone applied); every entry carries it (or the head's, if later: see
 * chainDay) with the day's running debited total, so the daily limit is decided in the chain like
 * the balance. A debit that would take that total past 2^63 - 1 is refused BALANCE_LIMIT_EXCEEDED.
 */
export function decide(account: AccountDocument, head: Head, operation: Operation, now: string, clockDay: string = utcDay(now)): EntryDocument {
  const seq = head.seq + 1;
  const day = chainDay(head, clockDay);
  const code = refusalCode(operation, head, account, day);
  const amountMinor = code ? 0n : signedAmount(operation);
  const outcome: EntryOutcome = code ? 'REFUSED' : operation.nothingToRefund ? 'NOTHING_TO_REFUND' : 'APPLIED';
  const entry: EntryDocument = {
    _id: entryId(account._id, seq),
    accountId: account._id,
    seq,
    operationId: operation.operationId,
    kind: operation.kind,
    amountMinor,
    balanceAfterMinor: head.balanceAfterMinor + amountMinor,
    statusAfter: code ? head.statusAfter : statusAfter(operation, head.statusAfter),
    outcome,
    requestedAmountMinor: operation.kind === 'overdraft' ? askedOverdraftLimit(operation) : operation.amountMinor,
    requestedCurrency: operation.currency,
    createdAt: now,
    day,
    dayDebitedMinor: dayDebitedAfter(operation, dayDebitedBefore(head, day), day, code !== undefined),
  };
  if (code) entry.code = code;
  const dailyDebitLimitMinor = limitAfter(operation, head, code !== undefined);
  if (dailyDebitLimitMinor !== undefined) entry.dailyDebitLimitMinor = dailyDebitLimitMinor;
  setOverdraftLimit(entry, account, head, operation, code !== undefined);
  setWindow(entry, head, operation, code !== undefined);
  if (operation.clearingAccountId !== undefined && outcome === 'APPLIED') entry.clearingAccountId = operation.clearingAccountId;
  // Invariant: an applied entry never takes the balance below the overdraft limit in force, except a refund, reversal or settlement move.
  if (!code && operation.kind === 'debit' && entry.balanceAfterMinor < -overdraftLimitInForce(account, entry)) throw new Error('ledger invariant: debit below limit');
  // Invariant: an applied overdraft change never leaves the balance below its new limit.
  if (!code && operation.kind === 'overdraft' && entry.balanceAfterMinor < -overdraftLimitInForce(account, entry)) throw new Error('ledger invariant: overdraft limit below the balance');
  // Invariant: an applied debit never takes the day's total past the daily limit in force.
  if (!code && operation.kind === 'debit' && entry.dailyDebitLimitMinor !== undefined && (entry.dayDebitedMinor ?? 0n) > entry.dailyDebitLimitMinor) {
    throw new Error('ledger invariant: debit beyond the daily limit');
  }
  // Invariant: the day's total fits its 64 bits (a debit past it is refused above, a refund only lowers it).
  if ((entry.dayDebitedMinor ?? 0n) > balanceMinorMax) throw new Error(`ledger invariant: day's debits of ${account._id} beyond 64 bits`);
  // A refund cannot be refused, and a wrapped balance would be money made or lost: fail, record nothing, let the caller retry.
  if (entry.balanceAfterMinor > balanceMinorMax || entry.balanceAfterMinor < balanceMinorMin) throw new Error(`ledger invariant: balance of ${account._id} beyond 64 bits`);
  return entry;
}

/** An account's first entry (seq 0): built from the account document alone, so any process can (re)write it. */
export function openingEntry(account: AccountDocument): EntryDocument {
  const entry: EntryDocument = {
    _id: entryId(account._id, 0),
    accountId: account._id,
    seq: 0,
    operationId: 'open',
    kind: 'open',
    amountMinor: 0n,
    balanceAfterMinor: 0n,
    statusAfter: 'ACTIVE',
    outcome: 'APPLIED',
    requestedAmountMinor: 0n,
    requestedCurrency: account.currency,
    createdAt: account.createdAt,
  };
  if (account.dailyDebitLimitMinor !== undefined) entry.dailyDebitLimitMinor = account.dailyDebitLimitMinor;
  return entry;
}

/** Decides a batch in order from one head: each entry's head is the previous entry. */
export function decideBatch(account: AccountDocument, head: Head, operations: readonly Operation[], now: string, day: string = utcDay(now)): EntryDocument[] {
  const entries: EntryDocument[] = [];
  let current = head;
  for (const operation of operations) {
    const entry = decide(account, current, operation, now, day);
    entries.push(entry);
    current = entry;
  }
  return entries;
}
