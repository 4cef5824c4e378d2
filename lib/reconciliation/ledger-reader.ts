import type { AccountServiceClient } from '../clients/account-service-client';
import type { z } from 'zod';
import { accountPageSchema, accountViewSchema, entriesPageLimitMax, entryPageSchema, type AccountView, type LedgerEntryView } from '../contracts/account-service-contract';
import type { ChainAccount, ChainEntry } from './accounts';
import type { AccountLedger, BankLedger } from './reconciliation';

/**
 * Reads banks through their account services: accounts page by page in id order, and each
 * account's chain, or the part of it after a sequence, page by page along its `_id`s (the
 * service never scans entries).
 */

export const ledgerReadPageLimit = entriesPageLimitMax;

export class LedgerReadError extends Error {
  override readonly name = 'LedgerReadError';
  constructor(
    readonly bankId: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** GETs `path` and parses the answer with the contract's schema; a body it does not describe is a read error. */
async function getParsed<T>(client: AccountServiceClient, path: string, schema: z.ZodType<T>): Promise<T> {
  const response = await client.request('GET', path);
  if (response.status !== 200) throw new LedgerReadError(client.bankId, response.status, `${client.bankId} answered ${response.status} to GET ${path}`);
  const parsed = schema.safeParse(response.body);
  if (!parsed.success) throw new LedgerReadError(client.bankId, response.status, `${client.bankId} answered GET ${path} with a body the contract does not describe: ${parsed.error.issues[0]?.path.join('.') ?? ''} ${parsed.error.issues[0]?.message ?? ''}`);
  return parsed.data;
}

/** The edge where a bank's money becomes bigint: the contract has checked every amount's digits. */
export function chainAccountOf(view: AccountView): ChainAccount {
  return { accountId: view.accountId, currency: view.currency, sequence: view.sequence, balanceMinor: BigInt(view.balanceMinor), overdraftLimitMinor: BigInt(view.overdraftLimitMinor) };
}

export function chainEntryOf(view: LedgerEntryView): ChainEntry {
  const { operationId, accountId, kind, sequence, outcome, code, createdAt, overdraftLimitMinor, overdraftLimitBeforeMinor, windowId, clearingAccountId } = view;
  return {
    operationId,
    accountId,
    kind,
    sequence,
    outcome,
    ...(code === undefined ? {} : { code }),
    createdAt,
    amountMinor: BigInt(view.amountMinor),
    balanceAfterMinor: BigInt(view.balanceAfterMinor),
    ...(overdraftLimitMinor === undefined ? {} : { overdraftLimitMinor: BigInt(overdraftLimitMinor) }),
    ...(overdraftLimitBeforeMinor === undefined ? {} : { overdraftLimitBeforeMinor: BigInt(overdraftLimitBeforeMinor) }),
    ...(windowId === undefined ? {} : { windowId }),
    ...(clearingAccountId === undefined ? {} : { clearingAccountId }),
  };
}

/** Which part of a chain to read: after `afterSequence` (from the start when omitted), up to `upToSequence` (to its end when omitted). */
export interface EntryRange {
  afterSequence?: number;
  upToSequence?: number;
}

/** Never reads past `upToSequence`; `onPage` runs after each page with the entries read so far (activities heartbeat from it). */
export async function readAccountEntries(client: AccountServiceClient, accountId: string, range: EntryRange = {}, onPage: (entriesRead: number) => void = () => undefined): Promise<ChainEntry[]> {
  const upToSequence = range.upToSequence ?? Number.POSITIVE_INFINITY;
  const entries: ChainEntry[] = [];
  // The service's cursor is the sequence of the last entry seen; there is none before the first.
  let after: string | null = range.afterSequence !== undefined && range.afterSequence >= 0 ? String(range.afterSequence) : null;
  do {
    const query: string = after === null ? `limit=${ledgerReadPageLimit}` : `limit=${ledgerReadPageLimit}&after=${after}`;
    const page = await getParsed(client, `/v1/accounts/${encodeURIComponent(accountId)}/entries?${query}`, entryPageSchema);
    entries.push(...page.data.filter((entry) => entry.sequence <= upToSequence).map(chainEntryOf));
    onPage(entries.length);
    after = page.data.some((entry) => entry.sequence >= upToSequence) ? null : page.nextCursor;
  } while (after !== null);
  return entries;
}

/** Every account of a bank in id order, each with the head its listing saw; `onPage` runs after each page. */
export async function listAccounts(client: AccountServiceClient, onPage: (accountsListed: number) => void = () => undefined): Promise<ChainAccount[]> {
  const accounts: ChainAccount[] = [];
  let after: string | null = null;
  do {
    const query: string = after === null ? `limit=${ledgerReadPageLimit}` : `limit=${ledgerReadPageLimit}&after=${encodeURIComponent(after)}`;
    const page = await getParsed(client, `/v1/accounts?${query}`, accountPageSchema);
    accounts.push(...page.data.map(chainAccountOf));
    onPage(accounts.length);
    after = page.nextCursor;
  } while (after !== null);
  return accounts;
}

export async function readAccount(client: AccountServiceClient, accountId: string): Promise<ChainAccount> {
  return chainAccountOf(await getParsed(client, `/v1/accounts/${encodeURIComponent(accountId)}`, accountViewSchema));
}

/** The account, or undefined when the bank has no such account (a clearing account is opened by its first interbank leg). */
export async function readAccountIfOpen(client: AccountServiceClient, accountId: string): Promise<ChainAccount | undefined> {
  try {
    return await readAccount(client, accountId);
  } catch (error) {
    if (error instanceof LedgerReadError && error.status === 404) return undefined;
    throw error;
  }
}

/** `onProgress` runs after each account (activities heartbeat from it). */
export async function readBankLedger(client: AccountServiceClient, onProgress: (accountsRead: number) => void = () => undefined): Promise<BankLedger> {
  const accounts: AccountLedger[] = [];
  for (const listed of await listAccounts(client)) {
    // A consistent cut per account: its chain up to the head the listing saw, whose balance the view gives.
    const entries = await readAccountEntries(client, listed.accountId, { upToSequence: listed.sequence });
    accounts.push({ account: listed, entries });
    onProgress(accounts.length);
  }
  return { bankId: client.bankId, accounts };
}
