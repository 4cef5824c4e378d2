import { randomBytes } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { AccountMark, DatedDiscrepancy, ReconciliationState, TransferLegs, WindowNet } from './reconciliation';

/**
 * Reconciliation cuts in the transfer API's database: where each run stopped, so that the next
 * one reads only what came after. Cut n is a header `cut:<n>` (zero-padded) and its parts
 * `cut:<n>:<token>:<k>`, bounded arrays of account marks, pending transfers, findings and
 * settlement windows, each chunked like the others (the few reopened-transfer marks and the
 * per-bank settlement totals stay in the header). A cut written before windows were kept has
 * none. The parts are inserted first and the header
 * last: the header's unique insert decides the cut, so a run that loses the race for n leaves
 * only parts under its own token, which nothing names.
 * Cuts are gap-free (n + 1 is written only after n was read), so the newest is found by probing
 * `_id`s, never by a scan or a sort; nothing is ever updated.
 */

export interface StoredCut {
  n: number;
  state: ReconciliationState;
}

/** What the reconciliation activity needs of the cuts (tests give it an in-memory one). */
export interface ReconciliationCuts {
  /** The newest cut, undefined before the first; CutUnreadableError when it cannot be read whole. */
  latest(): Promise<StoredCut | undefined>;
  /** Stores `state` as cut `after + 1`; false when another run stored that cut first. */
  append(after: number, state: ReconciliationState): Promise<boolean>;
  /** Removes the parts of cuts older than `keepFrom` (headers stay: they keep the numbering gap-free). */
  prune(keepFrom: number): Promise<void>;
}

export class CutUnreadableError extends Error {
  override readonly name = 'CutUnreadableError';
  constructor(
    readonly n: number,
    message: string,
  ) {
    super(message);
  }
}

type PartKind = 'accounts' | 'pending' | 'discrepancies' | 'windows';

interface CutHeader extends Omit<ReconciliationState, PartKind> {
  _id: string;
  n: number;
  token: string;
  /** Items of each kind, over all parts: checked after every read (`windows` absent in older cuts). */
  counts: Omit<Record<PartKind, number>, 'windows'> & { windows?: number };
  parts: number;
}

type CutPart =
  | { _id: string; kind: 'accounts'; items: AccountMark[] }
  | { _id: string; kind: 'pending'; items: TransferLegs[] }
  | { _id: string; kind: 'discrepancies'; items: DatedDiscrepancy[] }
  | { _id: string; kind: 'windows'; items: WindowNet[] };

/** Items per part: keeps every document far below FerretDB's 16 MiB however many accounts there are. */
export const cutPartItemsMax = 1_000;
/** Newest probe of the exponential search: far more cuts than a run every minute writes in a century. */
const cutNumberMax = 2 ** 40;

const headerId = (n: number): string => `cut:${String(n).padStart(12, '0')}`;
const partId = (n: number, token: string, k: number): string => `${headerId(n)}:${token}:${String(k).padStart(6, '0')}`;
const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let from = 0; from < items.length; from += cutPartItemsMax) result.push(items.slice(from, from + cutPartItemsMax));
  return result;
}

/** A cut's parts hold as many items of each kind as its header says, or the cut cannot be read. */
function checkCounts(n: number, state: ReconciliationState, windows: number, counts: CutHeader['counts']): void {
  const held = [state.accounts.length, state.pending.length, state.discrepancies.length, windows];
  const said = [counts.accounts, counts.pending, counts.discrepancies, counts.windows ?? 0];
  if (held.some((count, index) => count !== said[index])) throw new CutUnreadableError(n, `cut ${n} holds ${held.join('/')} items, its header says ${said.join('/')}`);
}

export class ReconciliationCutStore implements ReconciliationCuts {
  private readonly headers: Collection<CutHeader>;
  private readonly parts: Collection<CutPart>;

  constructor(db: Db) {
    // Money in a cut is bigint in code and a 64-bit integer here, whatever the client's own default.
    this.headers = db.collection('reconciliation_cuts', { useBigInt64: true });
    this.parts = db.collection('reconciliation_cut_parts', { useBigInt64: true });
  }

  async latest(): Promise<StoredCut | undefined> {
    const n = await this.latestNumber();
    return n === 0 ? undefined : { n, state: await this.read(n) };
  }

  async append(after: number, state: ReconciliationState): Promise<boolean> {
    const n = after + 1;
    if (await this.exists(n)) return false;
    const token = randomBytes(8).toString('hex');
    const { accounts, pending, discrepancies, windows = [], ...summary } = state;
    const parts: CutPart[] = [
      ...chunks(accounts).map((items) => ({ kind: 'accounts' as const, items })),
      ...chunks(pending).map((items) => ({ kind: 'pending' as const, items })),
      ...chunks(discrepancies).map((items) => ({ kind: 'discrepancies' as const, items })),
      ...chunks(windows).map((items) => ({ kind: 'windows' as const, items })),
    ].map((part, k) => ({ ...part, _id: partId(n, token, k) }) as CutPart);
    // A state without windows (a test's, or one built before them) is stored and read back without them.
    const counts = { accounts: accounts.length, pending: pending.length, discrepancies: discrepancies.length, ...(state.windows ? { windows: windows.length } : {}) };
    if (parts.length > 0) await this.parts.insertMany(parts, { ordered: true });
    try {
      await this.headers.insertOne({ ...summary, _id: headerId(n), n, token, counts, parts: parts.length });
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async prune(keepFrom: number): Promise<void> {
    for (let n = keepFrom - 1; n >= 1; n -= 1) {
      const header = await this.headers.findOne({ _id: headerId(n) });
      if (!header) return;
      // Part 0 goes last, so without it the cut was pruned whole, and so were those before it.
      const first = header.parts > 0 ? await this.parts.findOne({ _id: partId(n, header.token, 0) }, { projection: { _id: 1 } }) : null;
      if (!first) return;
      for (let k = header.parts - 1; k >= 0; k -= 1) await this.parts.deleteOne({ _id: partId(n, header.token, k) });
    }
  }

  private async exists(n: number): Promise<boolean> {
    return (await this.headers.findOne({ _id: headerId(n) }, { projection: { _id: 1 } })) !== null;
  }

  /** Exponential probing, then bisection: about 2·log2(n) `_id` look-ups. */
  private async latestNumber(): Promise<number> {
    if (!(await this.exists(1))) return 0;
    let low = 1;
    let high = 2;
    while (high <= cutNumberMax && (await this.exists(high))) [low, high] = [high, high * 2];
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (await this.exists(middle)) low = middle;
      else high = middle;
    }
    return low;
  }

  private async read(n: number): Promise<ReconciliationState> {
    const header = await this.headers.findOne({ _id: headerId(n) });
    if (!header) throw new CutUnreadableError(n, `cut ${n} vanished while it was read`);
    const found = await Promise.all(Array.from({ length: header.parts }, (_, k) => this.parts.findOne({ _id: partId(n, header.token, k) })));
    const state: ReconciliationState = { takenAt: header.takenAt, depositsMinor: header.depositsMinor, judged: header.judged, settlement: header.settlement, discrepancyCount: header.discrepancyCount, accounts: [], pending: [], discrepancies: [] };
    // The reopened marks and settlement totals ride in the header: as many as the record's small reopened set, and as banks × currencies.
    if (header.reopened) state.reopened = header.reopened;
    if (header.clearing) state.clearing = header.clearing;
    // Windows are kept since the settlement bank is read: a cut from before has none (undefined, not []).
    const windows: WindowNet[] = [];
    for (const [k, part] of found.entries()) {
      if (!part) throw new CutUnreadableError(n, `cut ${n} has lost its part ${k}`);
      if (part.kind === 'accounts') state.accounts.push(...part.items);
      if (part.kind === 'pending') state.pending.push(...part.items);
      if (part.kind === 'discrepancies') state.discrepancies.push(...part.items);
      if (part.kind === 'windows') windows.push(...part.items);
    }
    if (header.counts.windows !== undefined) state.windows = windows;
    checkCounts(n, state, windows.length, header.counts);
    return state;
  }
}
