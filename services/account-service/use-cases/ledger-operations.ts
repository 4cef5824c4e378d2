import { creditOperationId, debitOperationId, depositOperationId, refundOperationId, settlementOperationId, windowOperationId } from '../../../lib/contracts/account-service-contract';
import { ApiError } from '../../../lib/http/errors';
import type { Caller, Ledger } from '../ledger/ledger';
import type { EntryDocument, Operation } from '../ledger/model';
import { bookCounterpart, clearingOf } from './clearing';

/** The decided entry of a money-moving request, and whether it moved money. */
export interface Decision {
  entry: EntryDocument;
  /** Set when the entry is a refusal (or a void that refuses the leg): the HTTP answer's code. */
  refusal?: string;
}

export interface MoneyRequest {
  accountId: string;
  /** depositId, transferId or settlementId */
  id: string;
  /** Unsigned, but signed for a settlement move. */
  amountMinor: bigint;
  currency: string;
  /** A debit or credit between two banks: its counterpart is booked on the bank's clearing account. */
  clearing?: boolean;
  /** Who waits for the answer (deadline, connection); undefined: the operation is never shed. */
  caller?: Caller;
}

function conflicts(entry: EntryDocument, request: MoneyRequest): boolean {
  return entry.requestedAmountMinor !== request.amountMinor || entry.requestedCurrency !== request.currency;
}

async function move(ledger: Ledger, kind: 'deposit' | 'debit' | 'credit', operationId: string, request: MoneyRequest): Promise<Decision> {
  const operation: Operation = { operationId, kind, amountMinor: request.amountMinor, currency: request.currency, ...clearingOf(request.currency, request.clearing) };
  const entry = await ledger.apply(request.accountId, operation, request.caller);
  if (entry.kind === 'void') return { entry, refusal: 'TRANSFER_VOIDED' };
  if (conflicts(entry, request)) throw new ApiError('IDEMPOTENCY_CONFLICT', `${operationId} was decided with another amount or currency`);
  // On a replay too: the request that applied the leg may have stopped before its counterpart.
  await bookCounterpart(ledger, entry, request.caller);
  return entry.outcome === 'REFUSED' ? { entry, refusal: entry.code } : { entry };
}

export function deposit(ledger: Ledger, request: MoneyRequest): Promise<Decision> {
  return move(ledger, 'deposit', depositOperationId(request.id), request);
}

export function debit(ledger: Ledger, request: MoneyRequest): Promise<Decision> {
  return move(ledger, 'debit', debitOperationId(request.id), request);
}

export function credit(ledger: Ledger, request: MoneyRequest): Promise<Decision> {
  return move(ledger, 'credit', creditOperationId(request.id), request);
}

/**
 * Opens a settlement window in an account's chain: a zero-amount marker under `<windowId>:window`
 * whose id every entry decided after it carries, until the next marker. Ordered with debits by the
 * account's queue like any operation, so each debit says exactly which window it was decided in. A
 * repeat answers the first decision (the marker, or its ACCOUNT_CLOSED refusal).
 */
export async function markWindow(ledger: Ledger, accountId: string, windowId: string, caller?: Caller): Promise<Decision> {
  const account = await ledger.account(accountId);
  const operationId = windowOperationId(windowId);
  const entry = await ledger.apply(accountId, { operationId, kind: 'window', amountMinor: 0n, currency: account.currency, windowId }, caller);
  if (entry.kind !== 'window') throw new Error(`ledger invariant: ${operationId} was decided as a ${entry.kind}`);
  return entry.outcome === 'REFUSED' ? { entry, refusal: entry.code } : { entry };
}

/**
 * Moves a position or reserve by a signed amount under `<settlementId>:settle`: a window's
 * settlement, applied past the overdraft limit (it must land), refused only on a closed account,
 * for another currency or beyond 64 bits. The same id with another amount or currency is
 * IDEMPOTENCY_CONFLICT, like a deposit's; it never counts toward the day's debited total.
 */
export async function settle(ledger: Ledger, request: MoneyRequest): Promise<Decision> {
  const operationId = settlementOperationId(request.id);
  const entry = await ledger.apply(request.accountId, { operationId, kind: 'settle', amountMinor: request.amountMinor, currency: request.currency }, request.caller);
  if (entry.kind !== 'settle') throw new Error(`ledger invariant: ${operationId} was decided as a ${entry.kind}`);
  if (conflicts(entry, request)) throw new ApiError('IDEMPOTENCY_CONFLICT', `${operationId} was decided with another amount or currency`);
  return entry.outcome === 'REFUSED' ? { entry, refusal: entry.code } : { entry };
}

/**
 * Reverses the debit of a transfer at most once. When there is no debit yet, a void takes its
 * slot so that it never can happen; a refused debit gets a zero-amount NOTHING_TO_REFUND entry.
 * The refund of a cleared debit is cleared too, after the debit's own counterpart (which a crash
 * may have left unbooked), so that the clearing account never holds a reversal without its leg.
 */
export async function refund(ledger: Ledger, accountId: string, transferId: string, caller?: Caller): Promise<EntryDocument> {
  const earlier = await ledger.decided(accountId, refundOperationId(transferId));
  if (earlier) {
    await bookCounterpart(ledger, earlier, caller);
    return earlier;
  }
  const account = await ledger.account(accountId);
  const debitSlot = await ledger.apply(accountId, { operationId: debitOperationId(transferId), kind: 'void', amountMinor: 0n, currency: account.currency }, caller);
  if (debitSlot.kind === 'void') return debitSlot;
  await bookCounterpart(ledger, debitSlot, caller);
  const applied = debitSlot.outcome === 'APPLIED';
  const reversal = await ledger.apply(accountId, {
    operationId: refundOperationId(transferId),
    kind: 'refund',
    amountMinor: applied ? -debitSlot.amountMinor : 0n,
    currency: account.currency,
    ...(applied ? {} : { nothingToRefund: true }),
    // The debit's own day: the refund gives the amount back to that day's total only.
    ...(applied && debitSlot.day !== undefined ? { debitDay: debitSlot.day } : {}),
    ...(applied && debitSlot.clearingAccountId !== undefined ? { clearingAccountId: debitSlot.clearingAccountId } : {}),
  }, caller);
  await bookCounterpart(ledger, reversal, caller);
  return reversal;
}

/**
 * Takes a transfer's credit slot with a void, or answers with the credit that already holds it
 * (whose counterpart it books, should the credit's own request have stopped before it).
 */
export async function voidCredit(ledger: Ledger, accountId: string, transferId: string, caller?: Caller): Promise<EntryDocument> {
  const account = await ledger.account(accountId);
  const slot = await ledger.apply(accountId, { operationId: creditOperationId(transferId), kind: 'void', amountMinor: 0n, currency: account.currency }, caller);
  await bookCounterpart(ledger, slot, caller);
  return slot;
}
