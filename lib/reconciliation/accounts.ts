import type { AccountView, LedgerEntryView } from '../contracts/account-service-contract';
import { formatMinor } from '../contracts/money';
import type { DatedDiscrepancy, DiscrepancyKind } from './discrepancy';

/**
 * The rules for one account's chain, over the part of it a run reads: from the start, or from
 * where the previous run stopped (its mark). Pure functions.
 */

/** An account as reconciliation judges it: what the reader took from the bank's answer, its money in bigint. */
export interface ChainAccount extends Pick<AccountView, 'accountId' | 'currency' | 'sequence'> {
  balanceMinor: bigint;
  overdraftLimitMinor: bigint;
}

/** An entry as reconciliation judges it, its money in bigint. */
export interface ChainEntry extends Pick<LedgerEntryView, 'operationId' | 'accountId' | 'kind' | 'sequence' | 'outcome' | 'code' | 'createdAt'> {
  amountMinor: bigint;
  balanceAfterMinor: bigint;
  /** On `overdraft` entries: the overdraft limit in force after the entry, and the one before it. */
  overdraftLimitMinor?: bigint;
  overdraftLimitBeforeMinor?: bigint;
  /** The settlement window the entry was decided in, when its chain has a window marker before it. */
  windowId?: string;
  /** On an applied interbank customer leg: the clearing account holding its counterpart (lib/reconciliation/clearing.ts). */
  clearingAccountId?: string;
}

/** One account as listed when it was read, and its entries after its mark, oldest first. */
export interface AccountLedger {
  account: ChainAccount;
  entries: readonly ChainEntry[];
}

/** Where reconciliation stopped in one chain: the next run continues after `sequence`. */
export interface AccountMark {
  bankId: string;
  accountId: string;
  currency: string;
  /** Sequence of the last entry reconciled; -1 before any. */
  sequence: number;
  /** What the chain sums to up to there (not what its entries claim: a claim may be the discrepancy). */
  balanceMinor: bigint;
  /** The operation of that entry, so that the next run can tell the chain is still the one it read. */
  operationId: string;
}

export function initialMark(bankId: string, account: ChainAccount): AccountMark {
  return { bankId, accountId: account.accountId, currency: account.currency, sequence: -1, balanceMinor: 0n, operationId: '' };
}

export interface AccountCheck {
  mark: AccountMark;
  /** Applied deposits among the entries read. */
  depositsMinor: bigint;
  /** Findings about entries: facts of the chain, found once and carried by later runs. */
  found: DatedDiscrepancy[];
  /** Findings about the account as it is now (its balance against its chain): made afresh by every run. */
  foundNow: DatedDiscrepancy[];
}

/**
 * The overdraft limit in force at each entry read, without keeping limits in the cut: the account
 * gives the one in force now, and each `overdraft` entry read the one before it, so walking back
 * from the newest entry every entry finds the limit it was decided against.
 */
function overdraftLimitsAt(account: ChainAccount, entries: readonly ChainEntry[]): bigint[] {
  const limits: bigint[] = new Array<bigint>(entries.length);
  let limit = account.overdraftLimitMinor;
  for (let index = entries.length - 1; index >= 0; index -= 1) {
    const entry = entries[index] as ChainEntry;
    if (entry.kind === 'overdraft') {
      limits[index] = entry.overdraftLimitMinor ?? limit;
      limit = entry.overdraftLimitBeforeMinor ?? limit;
    } else {
      limits[index] = limit;
    }
  }
  return limits;
}

/** An unbroken chain, each balance the running sum, never below the limit, no operation twice within what was read. */
export function checkAccount(bankId: string, ledger: AccountLedger, previous: AccountMark, reconciledAt: string): AccountCheck {
  const { account, entries } = ledger;
  const found: DatedDiscrepancy[] = [];
  const at = (entry: ChainEntry, kind: DiscrepancyKind, detail: string): void => {
    found.push({ at: entry.createdAt, discrepancy: { kind, bankId, accountId: account.accountId, detail } });
  };
  const overdraftLimits = overdraftLimitsAt(account, entries);
  const operations = new Set<string>();
  let running = previous.balanceMinor;
  let depositsMinor = 0n;
  let mark = previous;
  entries.forEach((entry, index) => {
    const expected = previous.sequence + 1 + index;
    if (entry.sequence !== expected) at(entry, 'CHAIN_BROKEN', `entry ${expected} has sequence ${entry.sequence}`);
    if (operations.has(entry.operationId)) at(entry, 'DUPLICATE_OPERATION', `operation ${entry.operationId} decided twice`);
    operations.add(entry.operationId);
    running += entry.amountMinor;
    if (entry.balanceAfterMinor !== running) at(entry, 'BALANCE_MISMATCH', `entry ${entry.sequence} says ${formatMinor(entry.balanceAfterMinor)}, its chain sums to ${formatMinor(running)}`);
    // A refund or credit may land on an account already below its limit; only a debit may not take it there.
    // A `settle` entry is a settlement bank's move of a position or reserve, applied past the limit on purpose: not judged here.
    const limit = -(overdraftLimits[index] as bigint);
    if (entry.kind === 'debit' && entry.outcome === 'APPLIED' && entry.balanceAfterMinor < limit) {
      at(entry, 'BELOW_LIMIT', `entry ${entry.sequence} left ${formatMinor(entry.balanceAfterMinor)}, below the limit ${formatMinor(limit)}`);
    }
    // Conservation sums deposits per ledger against its balances. A settlement bank's `settle`
    // entries move money within that bank (positions against reserves) and are no deposits: the
    // settlement bank is not reconciled as a participant, its ledger is read apart.
    if (entry.kind === 'deposit' && entry.outcome === 'APPLIED') depositsMinor += entry.amountMinor;
    mark = { ...mark, sequence: entry.sequence, balanceMinor: running, operationId: entry.operationId };
  });
  const foundNow: DatedDiscrepancy[] = [];
  if (account.balanceMinor !== running) {
    foundNow.push({ at: reconciledAt, discrepancy: { kind: 'BALANCE_MISMATCH', bankId, accountId: account.accountId, detail: `balance ${formatMinor(account.balanceMinor)}, entries sum to ${formatMinor(running)}` } });
  }
  return { mark, depositsMinor, found, foundNow };
}
