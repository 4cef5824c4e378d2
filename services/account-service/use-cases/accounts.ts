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
}

/** Opens an account once: 201 the first time, 200 for the same request again, 409 for other fields. */
export async function openAccount(store: LedgerStore, ledger: Ledger, bankId: string, command: OpenAccountCommand, now: Date): Promise<{ created: boolean; account: AccountView }> {
  const candidate: AccountDocument = { _id: command.accountId, owner: command.owner, currency: command.currency, overdraftLimitMinor: command.overdraftLimitMinor, createdAt: now.toISOString(), headSeq: 0 };
  const created = await store.insertAccount(candidate);
  const account = created ? candidate : await store.findAccount(command.accountId);
  if (!account) throw new Error(`ledger invariant: account ${command.accountId} vanished`);
  if (account.owner !== command.owner || account.currency !== command.currency || account.overdraftLimitMinor !== command.overdraftLimitMinor) {
    throw new ApiError('IDEMPOTENCY_CONFLICT', `account ${command.accountId} exists with other fields`, 'accountId');
  }
  // The head look-up also writes the opening entry, and repairs one that a crash prevented.
  return { created, account: accountView(bankId, account, await ledger.head(account)) };
}

export const accountsPageLimitDefault = 100;
export const accountsPageLimitMax = 500;

/** Every account of the bank in `_id` order, with its balance: what reconciliation walks. */
export async function listAccounts(store: LedgerStore, ledger: Ledger, bankId: string, after: string | undefined, limit: number): Promise<{ data: AccountView[]; nextCursor: string | null }> {
  const accounts = await store.listAccounts(after, limit + 1);
  const page = accounts.slice(0, limit);
  const data: AccountView[] = [];
  for (const account of page) data.push(accountView(bankId, account, await ledger.head(account)));
  const last = page.at(-1);
  return { data, nextCursor: accounts.length > limit && last ? last._id : null };
}

export async function readAccount(ledger: Ledger, bankId: string, accountId: string): Promise<AccountView> {
  const account = await ledger.account(accountId);
  return accountView(bankId, account, await ledger.head(account));
}

const transitions: Record<'freeze' | 'unfreeze' | 'close', AccountStatus> = { freeze: 'FROZEN', unfreeze: 'ACTIVE', close: 'CLOSED' };

/**
 * Freeze, unfreeze and close go through the chain like money, so every later decision sees
 * them. Asking for the status the account already has changes nothing.
 */
export async function changeStatus(ledger: Ledger, bankId: string, accountId: string, change: 'freeze' | 'unfreeze' | 'close', now: () => Date): Promise<AccountView> {
  const account = await ledger.account(accountId);
  for (;;) {
    const head = await ledger.head(account);
    if (head.statusAfter === transitions[change]) return accountView(bankId, account, head);
    if (head.statusAfter === 'CLOSED') throw new ApiError('ACCOUNT_CLOSED', `account ${accountId} is closed`);
    if (change === 'close' && head.balanceAfterMinor !== 0n) throw new ApiError('ACCOUNT_NOT_EMPTY', `account ${accountId} holds ${head.balanceAfterMinor}; only an empty account can be closed`);
    const entry = decide(account, head, { operationId: `${change}@${head.seq + 1}`, kind: change, amountMinor: 0n, currency: account.currency }, now().toISOString());
    if (await ledger.append(entry)) return accountView(bankId, account, entry);
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
