import type { LedgerMetrics } from './ledger-metrics';
import { BoundedCache } from './bounded-cache';
import { appendAlone, CrossAccountCommit, type AppendRun } from './cross-account-commit';
import { decideBatch, openingEntry, utcDay } from './decide';
import type { LedgerStore } from './ledger-store';
import type { AccountDocument, EntryDocument, Head, Operation } from './model';
import { accountServiceLimits } from '../limits';


export class AccountNotFoundError extends Error {
  override readonly name = 'AccountNotFoundError';
}

export type Clock = () => Date;

/** Entries a walk back for a lost pointer reads at once. */
const walkBackBatch = 50;

/** The stored head hint moves every this many entries. */
const headHintStride = 64;

/** The bank's calendar day (`2026-11-29`) of a moment: UTC, or the bank's configured time zone. */
export type DayOf = (moment: Date) => string;

export const utcDayOf: DayOf = (moment) => utcDay(moment.toISOString());

/** Days in an IANA time zone; en-CA formats a date as YYYY-MM-DD. */
export function dayOfInTimeZone(timeZone: string | undefined): DayOf {
  if (timeZone === undefined) return utcDayOf;
  const format = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
  return (moment) => format.format(moment);
}

export interface GroupCommitOptions {
  /** Most operations decided from one head read and appended with one insert. */
  batchSizeMax: number;
  /** How long the first operation of an idle account's batch waits for company; 0 = never waits. */
  batchLingerMs: number;
  /** The decided batches of many accounts appended with one insert (and their pointers with one more); false: each on its own. */
  crossAccount: boolean;
  /** Most entries in one cross-account insert (whole batches: at least one). */
  entriesPerWriteMax: number;
  /**
   * A batch's first attempt decides from the cached head without reading the chain's next seq, and
   * decides new operations (all but voids) without looking for an earlier decision: the unique
   * indexes refuse a stale head or a repeat, and the attempt after a refusal reads both, as every
   * attempt does when this is false.
   */
  optimistic: boolean;
}

export const groupCommitDefaults: GroupCommitOptions = { batchSizeMax: 100, batchLingerMs: 0, crossAccount: true, entriesPerWriteMax: 1_000, optimistic: true };

/** How much a process keeps per account: everything cached can be read again, everything queued is waited for. */
export interface LedgerBounds {
  /** Account documents kept in memory (least recently used dropped first). */
  accountsCachedMax: number;
  /** Chain heads kept in memory; a dropped head is found again from the stored hint. */
  headsCachedMax: number;
  /** Operations of callers one account's queue holds (besides the batch being decided); one more is OVERLOADED. */
  queuedPerAccountMax: number;
}

export const ledgerBoundsDefaults: LedgerBounds = { accountsCachedMax: 10_000, headsCachedMax: 10_000, queuedPerAccountMax: 1_000 };

/**
 * Who waits for an operation's answer. Without one (the bank's own counterpart bookings, which
 * follow a leg already decided) an operation is never refused for load nor dropped.
 */
export interface Caller {
  /** `performance.now()` past which the caller no longer waits; undefined: it waits as long as it takes. */
  deadlineAt?: number;
  /** true once the caller's request closed before its answer. */
  hasLeft: () => boolean;
}

/** An account's queue was full: nothing was decided, the caller may retry after a pause. */
export class LedgerOverloadedError extends Error {
  override readonly name = 'LedgerOverloadedError';
}

/** An operation nobody waits for any more, dropped from its queue before it was decided. */
export class OperationDroppedError extends Error {
  override readonly name = 'OperationDroppedError';
  constructor(
    readonly reason: 'deadline' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  operation: Operation;
  caller: Caller | undefined;
  resolve: (entry: EntryDocument) => void;
  reject: (error: unknown) => void;
}

/** Why a queued operation is no longer worth deciding, if it is not. */
function abandonment(caller: Caller | undefined, now: number): OperationDroppedError['reason'] | undefined {
  if (caller === undefined) return undefined;
  if (caller.hasLeft()) return 'closed';
  return caller.deadlineAt !== undefined && now >= caller.deadlineAt ? 'deadline' : undefined;
}

/**
 * Decides operations on account chains: every decision is an insert at `<account>:<seq>`
 * guarded by unique indexes, every look-up is by `_id`. Operations for one account queue in
 * the process and are decided as a batch from one head (group commit); the batches of many
 * accounts decided at once are appended together (cross-account commit). The unique indexes
 * still guard everything across processes, the queue only removes wasted work.
 */
export class Ledger {
  private readonly accounts: BoundedCache<string, AccountDocument>;
  private readonly heads: BoundedCache<string, Head>;
  /** Only accounts with operations in flight: drain() removes an account's queue once it is empty. */
  private readonly queues = new Map<string, Pending[]>();
  private readonly appendRun: AppendRun;
  private readonly crossAccountCommit: CrossAccountCommit | undefined;

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly metrics: LedgerMetrics,
    private readonly groupCommit: GroupCommitOptions = groupCommitDefaults,
    readonly dayOf: DayOf = utcDayOf,
    private readonly bounds: LedgerBounds = ledgerBoundsDefaults,
  ) {
    this.accounts = new BoundedCache('accounts', bounds.accountsCachedMax, metrics.caches);
    // A cached account document's head hint is as old as the document: a dropped head takes its
    // document along, so that the head is found again from a fresh hint, not rolled over the whole chain.
    this.heads = new BoundedCache('heads', bounds.headsCachedMax, metrics.caches, (accountId) => this.accounts.delete(accountId));
    this.crossAccountCommit = groupCommit.crossAccount ? new CrossAccountCommit(store, groupCommit.entriesPerWriteMax) : undefined;
    this.appendRun = this.crossAccountCommit?.append ?? appendAlone(store);
  }

  /** Accounts' decided runs waiting for the cross-account write under way (0 without the cross-account commit). */
  get runsAwaitingWrite(): number {
    return this.crossAccountCommit?.runsWaiting ?? 0;
  }

  /** Accounts with a queue now: those with operations in flight, never an idle one. */
  get accountsQueued(): number {
    return this.queues.size;
  }

  /** The time and bank day every decision of one batch is taken at. */
  moment(): { now: string; day: string } {
    const at = this.clock();
    return { now: at.toISOString(), day: this.dayOf(at) };
  }

  async account(accountId: string): Promise<AccountDocument> {
    const cached = this.accounts.get(accountId);
    if (cached) return cached;
    const found = await this.store.findAccount(accountId);
    if (!found) throw new AccountNotFoundError(`no account ${accountId}`);
    this.accounts.set(accountId, found);
    return found;
  }

  /**
   * An account the bank opens itself (a clearing account): the stored document, inserted first if
   * there is none. Concurrent openers insert the same document; the loser reads the winner's.
   */
  async ensureAccount(candidate: AccountDocument): Promise<AccountDocument> {
    const cached = this.accounts.get(candidate._id);
    if (cached) return cached;
    const found = (await this.store.findAccount(candidate._id)) ?? ((await this.store.insertAccount(candidate)) ? candidate : await this.store.findAccount(candidate._id));
    if (!found) throw new Error(`ledger invariant: account ${candidate._id} vanished`);
    this.accounts.set(found._id, found);
    return found;
  }

  /**
   * The chain's latest entry for a reader walking many accounts (the account listing that
   * reconciliation pages through): the cached head if there is one, without making it recent, else
   * rolled forward from the stored hint, without caching it. A walk over every account then leaves
   * the hot accounts' heads where they were.
   */
  async peekHead(account: AccountDocument): Promise<Head> {
    return this.rollForward(account, this.heads.peek(account._id) ?? (await this.storedHead(account)));
  }

  /** The chain's latest entry: the cached head or the stored hint's entry, rolled forward by `_id` look-ups of seq + 1. */
  async head(account: AccountDocument): Promise<Head> {
    const start = this.heads.get(account._id) ?? (await this.storedHead(account));
    const head = await this.rollForward(account, start);
    this.heads.set(account._id, head);
    return head;
  }

  /** The entry at the stored hint (the opening entry if the hint is lost), written first if a crash left none. */
  private async storedHead(account: AccountDocument): Promise<Head> {
    const hinted = await this.store.findEntry(account._id, account.headSeq);
    const start = hinted ?? (account.headSeq === 0 ? null : await this.store.findEntry(account._id, 0));
    return start ?? (await this.writeOpeningEntry(account));
  }

  /**
   * Follows the chain past `start`. The entries it passes were written by another process, or by a
   * request of this one that failed before its pointers: their pointers are written (duplicates
   * ignored) before the head moves past them, and the stored hint only after that. So every entry at
   * or below a head a process holds, and below the stored hint, has its pointer, and finding an
   * earlier decision never needs a filter on anything but `_id`.
   */
  private async rollForward(account: AccountDocument, start: Head): Promise<Head> {
    let head = start;
    const passed: EntryDocument[] = [];
    for (;;) {
      const next = await this.store.findEntry(account._id, head.seq + 1);
      if (!next) break;
      passed.push(next);
      head = next;
      if (passed.length >= accountServiceLimits.rollForwardPointerBatch) await this.store.writePointers(passed.splice(0));
    }
    await this.store.writePointers(passed);
    // A long roll-forward is worth saving: the next cold process starts from here.
    if (head.seq - start.seq >= headHintStride) await this.store.advanceHeadHint(account._id, head.seq);
    return head;
  }

  /**
   * The account document is inserted before its opening entry; a crash between the two leaves
   * an account without a chain. The opening entry follows from the document alone, so whoever
   * finds it missing writes it (a concurrent writer's identical insert loses harmlessly).
   */
  private async writeOpeningEntry(account: AccountDocument): Promise<EntryDocument> {
    const opening = openingEntry(account);
    await this.store.appendEntries([opening]);
    const written = await this.store.findEntry(account._id, 0);
    if (!written) throw new Error(`ledger invariant: account ${account._id} has no opening entry`);
    return written;
  }

  /** The entry that decided an operation, if any, found by its pointer. */
  async decided(accountId: string, operationId: string): Promise<EntryDocument | null> {
    const pointer = await this.store.findPointer(accountId, operationId);
    if (!pointer) return null;
    return this.store.findEntry(accountId, pointer.seq);
  }

  /**
   * Decides an operation once. Returns the entry holding its operation id: the new one, or
   * the one decided earlier (by a duplicate of this request, a retry, or a void that took the slot).
   * A caller's operation is refused at once (LedgerOverloadedError, nothing decided) when its
   * account's queue is full, and dropped before it is decided once the caller has given up.
   */
  async apply(accountId: string, operation: Operation, caller?: Caller): Promise<EntryDocument> {
    const account = await this.account(accountId);
    return new Promise((resolve, reject) => {
      const pending: Pending = { operation, caller, resolve, reject };
      const queue = this.queues.get(accountId);
      if (!queue) {
        // Nothing queued: this request starts the account's drain at once.
        this.queues.set(accountId, [pending]);
        // Fire-and-forget: drain settles every queued request itself and never rejects.
        void this.drain(account);
        return;
      }
      if (caller !== undefined && queue.length >= this.bounds.queuedPerAccountMax) {
        this.metrics.shedOperations.inc({ reason: 'overloaded' });
        reject(new LedgerOverloadedError(`account ${accountId} has ${queue.length} operations queued (at most ${this.bounds.queuedPerAccountMax}); nothing was decided`));
        return;
      }
      queue.push(pending);
    });
  }

  /** The batch without the operations nobody waits for any more, which are answered as dropped. */
  private withoutAbandoned(batch: readonly Pending[]): Pending[] {
    const now = performance.now();
    return batch.filter((pending) => {
      const reason = abandonment(pending.caller, now);
      if (reason === undefined) return true;
      this.metrics.shedOperations.inc({ reason });
      const why = reason === 'closed' ? 'its request closed' : "its caller's deadline passed";
      pending.reject(new OperationDroppedError(reason, `${pending.operation.operationId} was dropped while queued (${why}); nothing was decided`));
      return false;
    });
  }

  private async drain(account: AccountDocument): Promise<void> {
    const queue = this.queues.get(account._id) as Pending[];
    try {
      if (this.groupCommit.batchLingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.groupCommit.batchLingerMs));
      while (queue.length > 0) {
        // Checked here, before anything is decided: once decided, an operation is answered whatever happens.
        const batch = this.withoutAbandoned(queue.splice(0, this.groupCommit.batchSizeMax));
        if (batch.length === 0) continue;
        try {
          await this.decideQueued(account, batch);
        } catch (error) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.queues.delete(account._id);
    }
  }

  /** Decides a batch: answers earlier decisions, appends the rest from one head, retries what a conflict cut off. */
  private async decideQueued(account: AccountDocument, batch: Pending[]): Promise<void> {
    // Two requests for one operation in a batch share one decision.
    const waiting = new Map<string, Pending[]>();
    for (const pending of batch) {
      const same = waiting.get(pending.operation.operationId);
      if (same) same.push(pending);
      else waiting.set(pending.operation.operationId, [pending]);
    }
    /** `decidedNow`: this batch wrote the entry, so its first request is no duplicate. */
    const settle = (operationId: string, entry: EntryDocument, decidedNow = false): void => {
      (waiting.get(operationId) ?? []).forEach((pending, index) => {
        if (index > 0 || !decidedNow) this.metrics.duplicates.inc({ kind: entry.kind });
        pending.resolve(entry);
      });
      waiting.delete(operationId);
    };

    for (let attempt = 0; waiting.size > 0; attempt += 1) {
      if (attempt >= accountServiceLimits.batchAttemptsMax) throw new Error(`ledger: could not decide a batch on ${account._id} after ${accountServiceLimits.batchAttemptsMax} attempts`);
      const optimistic = attempt === 0 && this.groupCommit.optimistic;
      const operationIds = [...waiting.entries()].filter(([, same]) => !optimistic || mayBeDecidedAlready(same)).map(([operationId]) => operationId);
      const earlier = await Promise.all(operationIds.map((operationId) => this.decided(account._id, operationId)));
      earlier.forEach((entry, index) => {
        if (entry) settle(operationIds[index] as string, entry);
      });
      const undecided = [...waiting.values()].map((same) => (same[0] as Pending).operation);
      if (undecided.length === 0) return;

      const head = (optimistic ? this.heads.get(account._id) : undefined) ?? (await this.head(account));
      const { now, day } = this.moment();
      const entries = decideBatch(account, head, undecided, now, day);
      const inserted = await this.appendDecided(entries);
      for (const entry of entries.slice(0, inserted)) settle(entry.operationId, entry, true);
      if (inserted === entries.length) return;

      // The insert stopped at the first conflict: the prefix before it is decided, the rest goes round again.
      const blocked = entries[inserted] as EntryDocument;
      const occupant = await this.store.findEntry(account._id, blocked.seq);
      if (occupant) {
        // Its pointer first, like every entry a head passes; the next attempt starts after it.
        await this.store.writePointers([occupant]);
        this.heads.set(account._id, occupant);
        if (waiting.has(occupant.operationId)) settle(occupant.operationId, occupant);
        else this.metrics.sequenceConflicts.inc();
        continue;
      }
      const decided = await this.earlierDecision(account, blocked.operationId, blocked.seq - 1);
      if (decided) settle(blocked.operationId, decided);
    }
  }

  /**
   * The seq was free, so the operation index refused: the operation was decided at an earlier seq,
   * at most `belowSeq`. A roll-forward writes the pointers of the entries it passes, so its pointer
   * is there; only a chain damaged before roll-forwards wrote pointers lacks it, and is walked back.
   */
  private async earlierDecision(account: AccountDocument, operationId: string, belowSeq: number): Promise<EntryDocument | null> {
    return (await this.decided(account._id, operationId)) ?? (await this.walkBackFor(account._id, belowSeq, operationId));
  }

  /** Walks a chain back from `fromSeq` by `_id` look-ups, a batch at a time, for an operation's entry, and writes its lost pointer. */
  private async walkBackFor(accountId: string, fromSeq: number, operationId: string): Promise<EntryDocument | null> {
    const batch = walkBackBatch;
    for (let top = fromSeq; top >= 0; top -= batch) {
      const seqs = Array.from({ length: Math.min(batch, top + 1) }, (_, offset) => top - offset);
      const entry = (await Promise.all(seqs.map((seq) => this.store.findEntry(accountId, seq)))).find((found) => found?.operationId === operationId);
      if (!entry) continue;
      await this.store.writePointers([entry]);
      this.metrics.pointersRepaired.inc();
      return entry;
    }
    return null;
  }

  /** Appends consecutive entries and their pointers (with other accounts' when cross-account); returns how many were decided. */
  private async appendDecided(entries: readonly EntryDocument[]): Promise<number> {
    // Pointers are written before this answers: should they fail, the head stays behind and the next roll-forward writes them.
    const inserted = await this.appendRun(entries);
    if (inserted === 0) return 0;
    const decided = entries.slice(0, inserted);
    const last = decided[decided.length - 1] as EntryDocument;
    this.heads.set(last.accountId, last);
    for (const entry of decided) {
      this.metrics.decisions.inc({ kind: entry.kind, outcome: entry.outcome, code: entry.code ?? 'NONE' });
      if (entry.statusAfter === 'CLOSED' && entry.amountMinor !== 0n) this.metrics.closedAccountMovements.inc({ kind: entry.kind });
    }
    // Every 64 entries is enough for a cold process to find the head in a few look-ups.
    if (Math.floor(last.seq / headHintStride) > Math.floor((last.seq - inserted) / headHintStride)) await this.store.advanceHeadHint(last.accountId, last.seq);
    return inserted;
  }
}

/**
 * Operations expected to find an earlier decision, which an optimistic attempt looks for first: a
 * void takes the slot of a debit or credit that usually exists, and a repeated request in one batch
 * is a retry. Anything else is new in the common case, and a repeat is refused by the index.
 */
function mayBeDecidedAlready(same: readonly Pending[]): boolean {
  return same.length > 1 || (same[0] as Pending).operation.kind === 'void';
}
