import type { AccountServiceClient } from './account-service-client';
import type { AccountPage, EntryPage, LedgerEntryView } from './account-service-contract';
import type { AccountLedger, BankLedger } from './reconciliation';

/**
 * Reads a whole bank through its account service: accounts page by page in id order, and
 * each account's chain page by page along its `_id`s (the service never scans entries).
 */

export const ledgerReadPageLimit = 500;

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

async function getPage<T>(client: AccountServiceClient, path: string): Promise<T> {
  const response = await client.request('GET', path);
  if (response.status !== 200) throw new LedgerReadError(client.bankId, response.status, `${client.bankId} answered ${response.status} to GET ${path}`);
  return response.body as T;
}

/** The chain from its start up to `upToSequence` (the whole chain when omitted); never reads past it. */
export async function readAccountEntries(client: AccountServiceClient, accountId: string, upToSequence = Number.POSITIVE_INFINITY): Promise<LedgerEntryView[]> {
  const entries: LedgerEntryView[] = [];
  let after: string | null = null;
  do {
    const query: string = after === null ? `limit=${ledgerReadPageLimit}` : `limit=${ledgerReadPageLimit}&after=${after}`;
    const page: EntryPage = await getPage<EntryPage>(client, `/v1/accounts/${encodeURIComponent(accountId)}/entries?${query}`);
    entries.push(...page.data.filter((entry) => entry.sequence <= upToSequence));
    after = page.data.some((entry) => entry.sequence >= upToSequence) ? null : page.nextCursor;
  } while (after !== null);
  return entries;
}

/** `onProgress` runs after each account (activities heartbeat from it). */
export async function readBankLedger(client: AccountServiceClient, onProgress: (accountsRead: number) => void = () => undefined): Promise<BankLedger> {
  const accounts: AccountLedger[] = [];
  let after: string | null = null;
  do {
    const query: string = after === null ? `limit=${ledgerReadPageLimit}` : `limit=${ledgerReadPageLimit}&after=${encodeURIComponent(after)}`;
    const page: AccountPage = await getPage<AccountPage>(client, `/v1/accounts?${query}`);
    for (const listed of page.data) {
      // A consistent cut per account: its chain up to the head the listing saw, whose balance the view gives.
      const entries = await readAccountEntries(client, listed.accountId, listed.sequence);
      accounts.push({ account: listed, entries });
      onProgress(accounts.length);
    }
    after = page.nextCursor;
  } while (after !== null);
  return { bankId: client.bankId, accounts };
}
