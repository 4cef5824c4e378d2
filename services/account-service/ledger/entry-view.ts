import type { AccountView, LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { formatMinor } from '../../../lib/contracts/money';
import { overdraftLimitInForce, type AccountDocument, type EntryDocument, type Head } from './model';

/** An `overdraft` entry's change: the limit after it and the one before (decide sets both on every such entry). */
function overdraftChangeView(entry: EntryDocument): Pick<LedgerEntryView, 'overdraftLimitMinor' | 'overdraftLimitBeforeMinor'> {
  if (entry.kind !== 'overdraft') return {};
  return {
    ...(entry.overdraftLimitMinor === undefined ? {} : { overdraftLimitMinor: formatMinor(entry.overdraftLimitMinor) }),
    ...(entry.overdraftLimitBeforeMinor === undefined ? {} : { overdraftLimitBeforeMinor: formatMinor(entry.overdraftLimitBeforeMinor) }),
  };
}

/** The wire shape of an entry; field order is fixed so that a replay answers byte for byte the same. */
export function entryView(entry: EntryDocument): LedgerEntryView {
  return {
    operationId: entry.operationId,
    accountId: entry.accountId,
    kind: entry.kind,
    amountMinor: formatMinor(entry.amountMinor),
    balanceAfterMinor: formatMinor(entry.balanceAfterMinor),
    sequence: entry.seq,
    outcome: entry.outcome,
    ...(entry.code === undefined ? {} : { code: entry.code }),
    createdAt: entry.createdAt,
    ...(entry.day === undefined ? {} : { day: entry.day, dayDebitedMinor: formatMinor(entry.dayDebitedMinor ?? 0n) }),
    ...(entry.kind === 'limit' ? { dailyDebitLimitMinor: entry.dailyDebitLimitMinor === undefined ? null : formatMinor(entry.dailyDebitLimitMinor) } : {}),
    ...overdraftChangeView(entry),
    ...(entry.windowId === undefined ? {} : { windowId: entry.windowId }),
    ...(entry.clearingAccountId === undefined ? {} : { clearingAccountId: entry.clearingAccountId }),
  };
}

/**
 * `today` is the bank's current day by this process's clock: the head's running total counts if it
 * is of that day, or of a later one (another process's clock is ahead, and the chain's day never goes back).
 */
export function accountView(bankId: string, account: AccountDocument, head: Head, today: string): AccountView {
  return {
    accountId: account._id,
    bankId,
    owner: account.owner,
    currency: account.currency,
    status: head.statusAfter,
    balanceMinor: formatMinor(head.balanceAfterMinor),
    overdraftLimitMinor: formatMinor(overdraftLimitInForce(account, head)),
    ...(head.dailyDebitLimitMinor === undefined ? {} : { dailyDebitLimitMinor: formatMinor(head.dailyDebitLimitMinor) }),
    dayDebitedMinor: formatMinor(head.day !== undefined && head.day >= today ? (head.dayDebitedMinor ?? 0n) : 0n),
    sequence: head.seq,
    ...(head.windowId === undefined ? {} : { windowId: head.windowId }),
  };
}

/** One message per refusal code, so that every repeat of a refusal reads the same. */
export const refusalMessages: Record<string, string> = {
  INSUFFICIENT_FUNDS: 'the balance (with its overdraft limit) does not cover the amount',
  CURRENCY_MISMATCH: "the currency differs from the account's currency",
  ACCOUNT_FROZEN: 'the account is frozen',
  ACCOUNT_CLOSED: 'the account is closed',
  BALANCE_LIMIT_EXCEEDED: 'the balance would exceed the largest amount the ledger can hold',
  DAILY_LIMIT_EXCEEDED: "the amount would take the day's debits past the account's daily outgoing limit",
  TRANSFER_VOIDED: 'this leg of the transfer was voided by a refund or credit-void and can no longer happen',
};
