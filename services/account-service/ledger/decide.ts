import type { AccountStatus, EntryOutcome } from '../../../lib/account-service-contract';
import type { ErrorCode } from '../../../lib/error-codes';
import { entryId, type AccountDocument, type EntryDocument, type Head, type Operation } from './model';

/**
 * Balances are stored as signed 64-bit integers, and BSON writes a bigint beyond that range
 * silently wrapped. Amounts have at most 18 digits, so ten large credits could get there.
 */
export const balanceMinorMax = 2n ** 63n - 1n;
export const balanceMinorMin = -(2n ** 63n);

function refusalCode(operation: Operation, head: Head, account: AccountDocument): ErrorCode | undefined {
  const moves = operation.kind === 'deposit' || operation.kind === 'debit' || operation.kind === 'credit';
  if (!moves) return undefined;
  if (head.statusAfter === 'CLOSED') return 'ACCOUNT_CLOSED';
  if (head.statusAfter === 'FROZEN') return 'ACCOUNT_FROZEN';
  if (operation.currency !== account.currency) return 'CURRENCY_MISMATCH';
  if (operation.kind === 'debit' && head.balanceAfterMinor - operation.amountMinor < -account.overdraftLimitMinor) return 'INSUFFICIENT_FUNDS';
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

/**
 * The next entry of a chain for an operation: applied, or a zero-amount refusal with its code.
 * Pure, so that a batch of operations can be decided in memory from one head.
 * Refunds and voids always apply, whatever the account's status.
 */
export function decide(account: AccountDocument, head: Head, operation: Operation, now: string): EntryDocument {
  const seq = head.seq + 1;
  const code = refusalCode(operation, head, account);
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
    requestedAmountMinor: operation.amountMinor,
    requestedCurrency: operation.currency,
    createdAt: now,
  };
  if (code) entry.code = code;
  // Invariant: an applied entry never takes the balance below the overdraft limit, except a refund or reversal.
  if (!code && operation.kind === 'debit' && entry.balanceAfterMinor < -account.overdraftLimitMinor) throw new Error('ledger invariant: debit below limit');
  // A refund cannot be refused, and a wrapped balance would be money made or lost: fail, record nothing, let the caller retry.
  if (entry.balanceAfterMinor > balanceMinorMax || entry.balanceAfterMinor < balanceMinorMin) throw new Error(`ledger invariant: balance of ${account._id} beyond 64 bits`);
  return entry;
}

/** An account's first entry (seq 0): built from the account document alone, so any process can (re)write it. */
export function openingEntry(account: AccountDocument): EntryDocument {
  return {
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
}

/** Decides a batch in order from one head: each entry's head is the previous entry. */
export function decideBatch(account: AccountDocument, head: Head, operations: readonly Operation[], now: string): EntryDocument[] {
  const entries: EntryDocument[] = [];
  let current = head;
  for (const operation of operations) {
    const entry = decide(account, current, operation, now);
    entries.push(entry);
    current = entry;
  }
  return entries;
}
