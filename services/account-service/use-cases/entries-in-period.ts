import type { LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { formatMinor } from '../../../lib/contracts/money';
import { entryView } from '../ledger/entry-view';
import type { Ledger } from '../ledger/ledger';
import type { LedgerStore } from '../ledger/ledger-store';
import type { EntryDocument } from '../ledger/model';

/** One entry by its `_id`: the only read the search makes. */
export type FindEntry = (seq: number) => Promise<EntryDocument | null>;

/**
 * The first seq in `[0, headSeq + 1]` whose entry was decided at or after `instant` (`headSeq + 1`
 * when none was): a bisection of the chain by `_id` look-ups, about log2(headSeq) of them. It takes
 * the chain's order for its time order, which it is up to the difference between the clocks of the
 * service's processes: an entry decided within that difference of `instant` may fall either side,
 * but every boundary is a place in the chain, so a period is always a run of whole entries.
 * `instant` and `createdAt` are both `toISOString()` texts, which order as the times they name.
 */
export async function firstSeqAtOrAfter(findEntry: FindEntry, headSeq: number, instant: string): Promise<number> {
  let low = 0;
  let high = headSeq + 1;
  while (low < high) {
    const middle = Math.floor((low + high) / 2);
    const entry = await findEntry(middle);
    if (!entry) throw new Error(`ledger invariant: entry ${middle} missing below the head ${headSeq}`);
    if (entry.createdAt >= instant) high = middle;
    else low = middle + 1;
  }
  return low;
}

export interface PeriodQuery {
  /** Entries after this seq (a page cursor); -1 for none. */
  after: number;
  limit: number;
  /** Normalised instants (`toISOString()`); the page holds entries decided in `[since, until)`. */
  since?: string;
  until?: string;
}

export interface PeriodPage {
  data: LedgerEntryView[];
  nextCursor: string | null;
  balanceBeforeMinor: string;
}

/**
 * A page of the entries decided in a period, oldest first, with the balance at the page's start:
 * the balance at `since` on the period's first page, so that a statement needs no other read.
 * Every read is by `_id`: the two boundaries are bisections, the page a run of look-ups.
 */
export async function listEntriesInPeriod(store: LedgerStore, ledger: Ledger, accountId: string, query: PeriodQuery): Promise<PeriodPage> {
  const account = await ledger.account(accountId);
  const head = await ledger.peekHead(account);
  const findEntry: FindEntry = (seq) => store.findEntry(accountId, seq);
  // A cursor is never past the head it was read below; clamped, a hand-made one answers an empty page.
  const startSeq = Math.min(head.seq + 1, Math.max(query.after + 1, query.since === undefined ? 0 : await firstSeqAtOrAfter(findEntry, head.seq, query.since)));
  const endSeq = query.until === undefined ? head.seq + 1 : await firstSeqAtOrAfter(findEntry, head.seq, query.until);
  const entries: EntryDocument[] = [];
  for (let seq = startSeq; seq < endSeq && entries.length < query.limit; seq += 1) {
    const entry = await findEntry(seq);
    if (!entry) throw new Error(`ledger invariant: entry ${accountId}:${seq} missing below the head ${head.seq}`);
    entries.push(entry);
  }
  const first = entries[0];
  const last = entries.at(-1);
  const before = await balanceBefore(findEntry, startSeq, first);
  const more = last !== undefined && last.seq + 1 < endSeq;
  return { data: entries.map(entryView), nextCursor: more ? String(last.seq) : null, balanceBeforeMinor: formatMinor(before) };
}

/** The balance after the entry before `seq`: the first entry's own balance less its amount, or a look-up when the page is empty. */
async function balanceBefore(findEntry: FindEntry, seq: number, first: EntryDocument | undefined): Promise<bigint> {
  if (first) return first.balanceAfterMinor - first.amountMinor;
  if (seq === 0) return 0n;
  const previous = await findEntry(seq - 1);
  if (!previous) throw new Error(`ledger invariant: entry ${seq - 1} missing before a period's start`);
  return previous.balanceAfterMinor;
}
