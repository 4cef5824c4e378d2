import type { LedgerMetrics } from './ledger-metrics';
import { decideBatch, openingEntry, utcDay } from './decide';
import type { LedgerStore } from './ledger-store';
import type { AccountDocument, EntryDocument, Head, Operation } from './model';
import { accountServiceLimits } from '../limits';


export class AccountNotFoundError extends Error {
  override readonly name = 'AccountNotFoundError';
}

export type Clock = () => Date;

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
}

export const groupCommitDefaults: GroupCommitOptions = { batchSizeMax: 100, batchLingerMs: 0 };

interface Pending {
  operation: Operation;
  resolve: (entry: EntryDocument) => void;
  reject: (error: unknown) => void;
}

/**
 * Decides operations on account chains: every decision is an insert at `<account>:<seq>`
 * guarded by unique indexes, every look-up is by `_id`. Operations for one account queue in
 * the process and are decided as a batch from one head (group commit); the unique indexes
 * still guard everything across processes, the queue only removes wasted work.
 */
export class Ledger {
  private readonly accounts = new Map<string, AccountDocument>();
  private readonly heads = new Map<string, Head>();
  private readonly queues = new Map<string, Pending[]>();

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly metrics: LedgerMetrics,
    private readonly groupCommit: GroupCommitOptions = groupCommitDefaults,
    readonly dayOf: DayOf = utcDayOf,
  ) {}

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

  /** The chain's latest entry: from a hint, rolled forward by `_id` look-ups of seq + 1. */
  async head(account: AccountDocument): Promise<Head> {
    let head = this.heads.get(account._id);
    if (!head) {
      const hinted = await this.store.findEntry(account._id, account.headSeq);
      const start = hinted ?? (account.headSeq === 0 ? null : await this.store.findEntry(account._id, 0));
      head = start ?? (await this.writeOpeningEntry(account));
    }
    for (;;) {
      const next = await this.store.findEntry(account._id, head.seq + 1);
      if (!next) break;
      head = next;
    }
    this.heads.set(account._id, head);
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

  /** The entry that decided an operation, if any: its pointer, or a scan when a crash lost the pointer. */
  async decided(accountId: string, operationId: string, scan = false): Promise<EntryDocument | null> {
    const pointer = await this.store.findPointer(accountId, operationId);
    if (pointer) {
      const entry = await this.store.findEntry(accountId, pointer.seq);
      if (entry) return entry;
    }
    if (!scan) return null;
    const found = await this.store.scanForOperation(accountId, operationId);
    if (found) await this.store.writePointers([found]);
    return found;
  }

  /**
   * Decides an operation once. Returns the entry holding its operation id: the new one, or
   * the one decided earlier (by a duplicate of this request, a retry, or a void that took the slot).
   */
  async apply(accountId: string, operation: Operation): Promise<EntryDocument> {
    const account = await this.account(accountId);
    return new Promise((resolve, reject) => {
      const queue = this.queues.get(accountId);
      if (queue) {
        queue.push({ operation, resolve, reject });
        return;
      }
      // Nothing queued: this request starts the account's drain at once.
      this.queues.set(accountId, [{ operation, resolve, reject }]);
      // Fire-and-forget: drain settles every queued request itself and never rejects.
      void this.drain(account);
    });
  }

  private async drain(account: AccountDocument): Promise<void> {
    const queue = this.queues.get(account._id) as Pending[];
    try {
      if (this.groupCommit.batchLingerMs > 0) await new Promise((resolve) => setTimeout(resolve, this.groupCommit.batchLingerMs));
      while (queue.length > 0) {
        const batch = queue.splice(0, this.groupCommit.batchSizeMax);
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
      const operationIds = [...waiting.keys()];
      const earlier = await Promise.all(operationIds.map((operationId) => this.decided(account._id, operationId)));
      earlier.forEach((entry, index) => {
        if (entry) settle(operationIds[index] as string, entry);
      });
      const undecided = [...waiting.values()].map((same) => (same[0] as Pending).operation);
      if (undecided.length === 0) return;

      const head = await this.head(account);
      const { now, day } = this.moment();
      const entries = decideBatch(account, head, undecided, now, day);
      const inserted = await this.appendDecided(entries);
      for (const entry of entries.slice(0, inserted)) settle(entry.operationId, entry, true);
      if (inserted === entries.length) return;

      // The insert stopped at the first conflict: the prefix before it is decided, the rest goes round again.
      const blocked = entries[inserted] as EntryDocument;
      const occupant = await this.store.findEntry(account._id, blocked.seq);
      if (occupant) {
        this.heads.set(account._id, occupant);
        if (waiting.has(occupant.operationId)) settle(occupant.operationId, occupant);
        else this.metrics.sequenceConflicts.inc();
        continue;
      }
      // The seq was free, so the operation index refused: that operation was decided before.
      const decided = await this.decided(account._id, blocked.operationId, true);
      if (decided) settle(blocked.operationId, decided);
    }
  }

  /** Appends consecutive entries with one ordered insert; returns how many were decided. */
  private async appendDecided(entries: readonly EntryDocument[]): Promise<number> {
    const inserted = await this.store.appendEntries(entries);
    if (inserted === 0) return 0;
    const decided = entries.slice(0, inserted);
    const last = decided[decided.length - 1] as EntryDocument;
    this.heads.set(last.accountId, last);
    await this.store.writePointers(decided);
    for (const entry of decided) {
      this.metrics.decisions.inc({ kind: entry.kind, outcome: entry.outcome, code: entry.code ?? 'NONE' });
      if (entry.statusAfter === 'CLOSED' && entry.amountMinor !== 0n) this.metrics.closedAccountMovements.inc({ kind: entry.kind });
    }
    // Every 64 entries is enough for a cold process to find the head in a few look-ups.
    if (Math.floor(last.seq / 64) > Math.floor((last.seq - inserted) / 64)) await this.store.advanceHeadHint(last.accountId, last.seq);
    return inserted;
  }
}
