import { createHash, randomUUID } from 'node:crypto';
import { entriesPageLimitMax, type AccountView, type EntryPage, type LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { ApiError } from '../../../lib/http/errors';
import { renderCamt053, type StatementEntry, type TransferReferences } from '../../../lib/iso20022/camt053';
import { transferApiLimits } from '../limits';

/** A transfer's references from the transfer record: undefined when the record holds no such transfer. */
export type TransferReferenceLookup = (transferId: string) => Promise<TransferReferences | undefined>;

export interface PeriodQuery {
  /** ISO 8601 instants, UTC: the entries decided in `[since, until)`. */
  since: string;
  until: string;
  after?: string;
  limit: number;
}

/** What a statement reads: the bank's account and its entries (the bank's refusals thrown as ApiErrors), and the record's references. */
export interface StatementSources {
  account: (bankId: string, accountId: string) => Promise<AccountView>;
  entriesInPeriod: (bankId: string, accountId: string, query: PeriodQuery) => Promise<EntryPage>;
  transferReferences: TransferReferenceLookup;
}

export interface StatementRequest {
  bankId: string;
  accountId: string;
  /** Whole UTC days, `YYYY-MM-DD`, checked at the edge: real dates, from ≤ to, a bounded span. */
  fromDay: string;
  toDay: string;
  now: Date;
}

export interface StatementBounds {
  ledgerEntriesMax: number;
  lookupsConcurrent: number;
}

const defaultBounds: StatementBounds = { ledgerEntriesMax: transferApiLimits.statementLedgerEntriesMax, lookupsConcurrent: transferApiLimits.statementReferenceLookupsConcurrent };

/** Kinds whose operation id is `<transferId>:<leg>`. */
const transferKinds = new Set<LedgerEntryView['kind']>(['debit', 'credit', 'refund', 'void', 'clearing']);

function dayAfter(day: string): string {
  return new Date(Date.parse(`${day}T00:00:00.000Z`) + 86_400_000).toISOString().slice(0, 10);
}

/** Every ledger entry of the period and the balance at its start, read page by page, refused past the bound. */
async function readPeriod(sources: StatementSources, request: StatementRequest, bounds: StatementBounds): Promise<{ openingBalanceMinor: bigint; entries: LedgerEntryView[] }> {
  const base = { since: `${request.fromDay}T00:00:00.000Z`, until: `${dayAfter(request.toDay)}T00:00:00.000Z` };
  const entries: LedgerEntryView[] = [];
  let openingBalanceMinor: bigint | undefined;
  let after: string | undefined;
  do {
    // One more than the bound is read, to tell a full period from one past it.
    const limit = Math.min(entriesPageLimitMax, bounds.ledgerEntriesMax + 1 - entries.length);
    const page = await sources.entriesInPeriod(request.bankId, request.accountId, { ...base, ...(after === undefined ? {} : { after }), limit });
    if (openingBalanceMinor === undefined) {
      if (page.balanceBeforeMinor === undefined) throw new Error(`bank ${request.bankId} answered a period of entries without balanceBeforeMinor`);
      openingBalanceMinor = BigInt(page.balanceBeforeMinor);
    }
    entries.push(...page.data);
    if (entries.length > bounds.ledgerEntriesMax) {
      throw new ApiError('STATEMENT_TOO_LARGE', `${request.accountId} has more than ${bounds.ledgerEntriesMax} ledger entries from ${request.fromDay} to ${request.toDay}; ask for a shorter period`);
    }
    after = page.nextCursor ?? undefined;
  } while (after !== undefined);
  return { openingBalanceMinor, entries };
}

/** The entries carry the balance from the opening to the closing one without a gap: checked after the read, as the renderer checks the sum. */
function closingBalance(accountId: string, openingBalanceMinor: bigint, entries: readonly LedgerEntryView[]): bigint {
  let balance = openingBalanceMinor;
  entries.forEach((entry, index) => {
    const first = entries[0] as LedgerEntryView;
    balance += BigInt(entry.amountMinor);
    if (entry.sequence !== first.sequence + index || BigInt(entry.balanceAfterMinor) !== balance) {
      throw new Error(`statement of ${accountId}: entry ${entry.sequence} does not follow the chain (balance ${entry.balanceAfterMinor}, expected ${balance})`);
    }
  });
  return balance;
}

function transferIdOf(entry: LedgerEntryView): string | undefined {
  return transferKinds.has(entry.kind) ? entry.operationId.slice(0, entry.operationId.lastIndexOf(':')) : undefined;
}

/** The record's references of each transfer the entries name, a few look-ups at a time. */
async function referencesOf(lookup: TransferReferenceLookup, transferIds: readonly string[], concurrent: number): Promise<Map<string, TransferReferences>> {
  const found = new Map<string, TransferReferences>();
  const distinct = [...new Set(transferIds)];
  for (let start = 0; start < distinct.length; start += concurrent) {
    const chunk = distinct.slice(start, start + concurrent);
    const answers = await Promise.all(chunk.map((transferId) => lookup(transferId)));
    answers.forEach((references, index) => {
      if (references) found.set(chunk[index] as string, references);
    });
  }
  return found;
}

function statementId(request: StatementRequest): string {
  const digest = createHash('sha256').update(`${request.bankId}\n${request.accountId}\n${request.fromDay}\n${request.toDay}`).digest('hex');
  return `STMT-${digest.slice(0, 30)}`;
}

/**
 * An account's camt.053 statement over whole UTC days: the bank's entries of the period (one
 * bounded read), the balance at its start, and the transfer record's references of its transfers.
 * Only entries that moved the balance are bookings; the zero-amount decisions between them
 * (refusals, voids, status and limit changes, window markers) are read and left out.
 */
export async function accountStatement(sources: StatementSources, request: StatementRequest, bounds: StatementBounds = defaultBounds): Promise<string> {
  const account = await sources.account(request.bankId, request.accountId);
  const { openingBalanceMinor, entries } = await readPeriod(sources, request, bounds);
  const closingBalanceMinor = closingBalance(request.accountId, openingBalanceMinor, entries);
  const movements = entries.filter((entry) => entry.amountMinor !== '0');
  const transferIds = movements.map(transferIdOf).filter((transferId) => transferId !== undefined);
  const references = await referencesOf(sources.transferReferences, transferIds, bounds.lookupsConcurrent);
  const statementEntries = movements.map((entry): StatementEntry => {
    const transferId = transferIdOf(entry);
    const known = transferId === undefined ? undefined : references.get(transferId);
    return {
      sequence: entry.sequence,
      kind: entry.kind,
      amountMinor: BigInt(entry.amountMinor),
      bookedAt: entry.createdAt,
      ...(transferId === undefined ? {} : { transferId }),
      ...(known === undefined ? {} : { references: known }),
    };
  });
  return renderCamt053({
    messageId: randomUUID().replace(/-/g, ''),
    statementId: statementId(request),
    createdAt: request.now.toISOString(),
    bankId: request.bankId,
    account: { accountId: account.accountId, currency: account.currency, owner: account.owner },
    fromDay: request.fromDay,
    toDay: request.toDay,
    openingBalanceMinor,
    closingBalanceMinor,
    entries: statementEntries,
  });
}
