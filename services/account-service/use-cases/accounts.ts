import type { AccountStatus, AccountView, LedgerEntryView } from '../../../lib/account-service-contract';
import { ApiError } from '../../../lib/http-errors';
import { accountView, entryView } from '../ledger/entry-view';
import { decide } from '../ledger/decide';
import type { Ledger } from '../ledger/ledger';
import type { LedgerStore } from '../ledger/ledger-store';
import type { AccountDocument } from '../ledger/model';

export interface OpenAccountCommand {
  accountId: string;
  owner: string;
  currency: string;
  overdraftLimitMinor: bigint;
  dailyDebitLimitMinor?: bigint;
}

/** Opens an account once: 201 the first time, 200 for the same request again, 409 for other fields. */
export async function openAccount(store: LedgerStore, ledger: Ledger, bankId: string, command: OpenAccountCommand, now: Date): Promise<{ created: boolean; account: AccountView }> {
  const candidate: AccountDocument = { _id: command.accountId, owner: command.owner, currency: command.currency, overdraftLimitMinor: command.overdraftLimitMinor, createdAt: now.toISOString(), headSeq: 0 };
  if (command.dailyDebitLimitMinor !== undefined) candidate.dailyDebitLimitMinor = command.dailyDebitLimitMinor;
  const created = await store.insertAccount(candidate);
  const account = created ? candidate : await store.findAccount(command.accountId);
  if (!account) throw new Error(`ledger invariant: account ${command.accountId} vanished`);
  const sameFields = account.owner === command.owner && account.currency === command.currency && account.overdraftLimitMinor === command.overdraftLimitMinor;
  if (!sameFields || account.dailyDebitLimitMinor !== command.dailyDebitLimitMinor) {
    throw new ApiError('IDEMPOTENCY_CONFLICT', `account ${command.accountId} exists with other fields`, 'accountId');
  }
  // The head look-up also writes the opening entry, and repairs one that a crash prevented.
  return { created, account: accountView(bankId, account, await ledger.head(account), ledger.moment().day) };
}

export const accountsPageLimitDefault = 100;
export const accountsPageLimitMax = 500;

/** Every account of the bank in `_id` order, with its balance: what reconciliation walks. */
export async function listAccounts(store: LedgerStore, ledger: Ledger, bankId: string, after: string | undefined, limit: number): Promise<{ data: AccountView[]; nextCursor: string | null }> {
  const accounts = await store.listAccounts(after, limit + 1);
  const page = accounts.slice(0, limit);
  const data: AccountView[] = [];
  const today = ledger.moment().day;
  for (const account of page) data.push(accountView(bankId, account, await ledger.head(account), today));
  const last = page.at(-1);
  return { data, nextCursor: accounts.length > limit && last ? last._id : null };
}

export async function readAccount(ledger: Ledger, bankId: string, accountId: string): Promise<AccountView> {
  const account = await ledger.account(accountId);
  return accountView(bankId, account, await ledger.head(account), ledger.moment().day);
}

const transitions: Record<'freeze' | 'unfreeze' | 'close', AccountStatus> = { freeze: 'FROZEN', unfreeze: 'ACTIVE', close: 'CLOSED' };

/**
 * Freeze, unfreeze and close go through the chain like money, so every later decision sees
 * them. Asking for the status the account already has changes nothing.
 */
export async function changeStatus(ledger: Ledger, bankId: string, accountId: string, change: 'freeze' | 'unfreeze' | 'close'): Promise<AccountView> {
  const account = await ledger.account(accountId);
  for (;;) {
    const head = await ledger.head(account);
    const { now, day } = ledger.moment();
    if (head.statusAfter === transitions[change]) return accountView(bankId, account, head, day);
    if (head.statusAfter === 'CLOSED') throw new ApiError('ACCOUNT_CLOSED', `account ${accountId} is closed`);
    if (change === 'close' && head.balanceAfterMinor !== 0n) throw new ApiError('ACCOUNT_NOT_EMPTY', `account ${accountId} holds ${head.balanceAfterMinor}; only an empty account can be closed`);
    const entry = decide(account, head, { operationId: `${change}@${head.seq + 1}`, kind: change, amountMinor: 0n, currency: account.currency }, now, day);
    if (await ledger.append(entry)) return accountView(bankId, account, entry, day);
  }
}

/**
 * Sets (or, with null, removes) the daily outgoing limit through the chain, so every debit
 * decided after the entry sees it and none before does. Setting the limit in force changes nothing.
 */
export async function changeDailyLimit(ledger: Ledger, bankId: string, accountId: string, dailyDebitLimitMinor: bigint | null): Promise<AccountView> {
  const account = await ledger.account(accountId);
  for (;;) {
    const head = await ledger.head(account);
    const { now, day } = ledger.moment();
    if ((head.dailyDebitLimitMinor ?? null) === dailyDebitLimitMinor) return accountView(bankId, account, head, day);
    const operation = { operationId: `limit@${head.seq + 1}`, kind: 'limit' as const, amountMinor: 0n, currency: account.currency, dailyDebitLimitMinor };
    const entry = decide(account, head, operation, now, day);
    if (await ledger.append(entry)) return accountView(bankId, account, entry, day);
  }
}

export const entriesPageLimitDefault = 100;
export const entriesPageLimitMax = 500;

/** Entries after a sequence number, oldest first: a run of `_id` look-ups, never a range scan. */
export async function listEntries(store: LedgerStore, ledger: Ledger, accountId: string, after: number, limit: number): Promise<{ data: LedgerEntryView[]; nextCursor: string | null }> {
  await ledger.account(accountId);
  const data: LedgerEntryView[] = [];
  let seq = after + 1;
  for (; data.length < limit; seq += 1) {
    const entry = await store.findEntry(accountId, seq);
    if (!entry) break;
    data.push(entryView(entry));
  }
  const more = data.length === limit && (await store.findEntry(accountId, seq)) !== null;
  return { data, nextCursor: more ? String(seq - 1) : null };
}
