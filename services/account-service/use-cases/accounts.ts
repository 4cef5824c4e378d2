import type { AccountView, LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { ApiError } from '../../../lib/http/errors';
import { formatMinor } from '../../../lib/contracts/money';
import { accountView, entryView } from '../ledger/entry-view';
import type { Caller, Ledger } from '../ledger/ledger';
import type { LedgerStore } from '../ledger/ledger-store';
import type { AccountDocument, EntryDocument, Operation } from '../ledger/model';

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


/** Every account of the bank in `_id` order, with its balance: what reconciliation walks. */
export async function listAccounts(store: LedgerStore, ledger: Ledger, bankId: string, after: string | undefined, limit: number): Promise<{ data: AccountView[]; nextCursor: string | null }> {
  const accounts = await store.listAccounts(after, limit + 1);
  const page = accounts.slice(0, limit);
  const data: AccountView[] = [];
  const today = ledger.moment().day;
  for (const account of page) data.push(accountView(bankId, account, await ledger.peekHead(account), today));
  const last = page.at(-1);
  return { data, nextCursor: accounts.length > limit && last ? last._id : null };
}

export async function readAccount(ledger: Ledger, bankId: string, accountId: string): Promise<AccountView> {
  const account = await ledger.account(accountId);
  return accountView(bankId, account, await ledger.head(account), ledger.moment().day);
}

/** One administrative change of an account: a status change, a new daily outgoing limit (null removes it), or a new overdraft limit. */
export type AccountChange = { action: 'freeze' | 'unfreeze' | 'close' } | { action: 'limit'; dailyDebitLimitMinor: bigint | null } | { action: 'overdraft'; overdraftLimitMinor: bigint };

export interface AccountChangeAnswer {
  /** The account as of the entry that decided the change. */
  account: AccountView;
  /** The change id had been decided before this request arrived: this answers that decision. */
  replayed: boolean;
}

/**
 * The ledger operation of a change: the caller's change id alone, so that it is unique per
 * account like a transfer id and a replay finds its first decision. A suffix like the other
 * operations' (`<transferId>:debit`): ids cannot hold a colon, so no change collides with a leg.
 */
export function changeOperationId(changeId: string): string {
  return `${changeId}:admin`;
}

function operationOf(account: AccountDocument, operationId: string, change: AccountChange): Operation {
  const operation: Operation = { operationId, kind: change.action, amountMinor: 0n, currency: account.currency };
  if (change.action === 'limit') operation.dailyDebitLimitMinor = change.dailyDebitLimitMinor;
  if (change.action === 'overdraft') operation.overdraftLimitMinor = change.overdraftLimitMinor;
  return operation;
}

/**
 * Daily-limit changes are never refused, so their entry's limit is the one asked for. An overdraft
 * change may be refused (its entry keeps the old limit), so its entry records the limit asked for.
 */
function isSameChange(entry: EntryDocument, change: AccountChange): boolean {
  if (entry.kind !== change.action) return false;
  if (change.action === 'limit') return (entry.dailyDebitLimitMinor ?? null) === change.dailyDebitLimitMinor;
  if (change.action === 'overdraft') return entry.requestedAmountMinor === change.overdraftLimitMinor;
  return true;
}

/** The same code and words for a refusal and every replay of it: both read the one entry. */
function refusalOf(entry: EntryDocument, headers: Record<string, string>): ApiError {
  if (entry.code === 'ACCOUNT_NOT_EMPTY') {
    return new ApiError('ACCOUNT_NOT_EMPTY', `account ${entry.accountId} holds ${formatMinor(entry.balanceAfterMinor)}; only an empty account can be closed`, undefined, headers);
  }
  if (entry.code === 'ACCOUNT_CLOSED') return new ApiError('ACCOUNT_CLOSED', `account ${entry.accountId} is closed`, undefined, headers);
  if (entry.code === 'OVERDRAFT_BELOW_BALANCE') {
    const message = `account ${entry.accountId} holds ${formatMinor(entry.balanceAfterMinor)}; an overdraft limit of ${formatMinor(entry.requestedAmountMinor)} does not cover what it has drawn`;
    return new ApiError('OVERDRAFT_BELOW_BALANCE', message, 'overdraftLimitMinor', headers);
  }
  throw new Error(`ledger invariant: ${entry._id} refuses a change with ${entry.code ?? 'no code'}`);
}

/**
 * Freeze, unfreeze, close, daily-limit and overdraft-limit changes go through the chain like money, so every later
 * decision sees them, and through the ledger's queue like money, so concurrent requests for one
 * account are decided in order, a lost append is decided again and a duplicate shares the first
 * decision (counted in ledger_duplicate_requests_total).
 *
 * Every change writes its decision as an entry, a refusal too, and so does one asking for the
 * status or limit already in force: a replay must find what was decided and answer it, or it
 * would act on the account as it is now (an `unfreeze` replayed after a later freeze would
 * unfreeze). Recording "nothing to do" anywhere but the chain would be a second write without a
 * transaction and would not be ordered with the chain's other decisions.
 */
export async function changeAccount(ledger: Ledger, bankId: string, accountId: string, changeId: string, change: AccountChange, caller?: Caller): Promise<AccountChangeAnswer> {
  const account = await ledger.account(accountId);
  const operationId = changeOperationId(changeId);
  // Looked up only to say `replayed`; the queue looks again and answers it. A duplicate racing the
  // first request (both in flight, nothing decided yet) shares its decision without being told so.
  const replayed = (await ledger.decided(accountId, operationId)) !== null;
  const entry = await ledger.apply(accountId, operationOf(account, operationId, change), caller);
  if (!isSameChange(entry, change)) throw new ApiError('IDEMPOTENCY_KEY_REUSED', `change ${changeId} of account ${accountId} was decided for another change`, 'changeId');
  if (entry.outcome === 'REFUSED') throw refusalOf(entry, replayed ? { 'idempotent-replayed': 'true' } : {});
  return { account: accountView(bankId, account, entry, ledger.moment().day), replayed };
}


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
