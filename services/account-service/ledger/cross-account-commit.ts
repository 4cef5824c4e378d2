import { outcomesOfOrderedWrite, runsInNextWrite, type RunOutcome } from './commit-plan';
import type { LedgerStore } from './ledger-store';
import type { EntryDocument } from './model';

/**
 * Writes one account's run of consecutive entries, then their pointers. Resolves to how many of
 * the entries were decided: all, or the prefix before the first conflict (the account's own
 * decision loop resolves the conflict). Rejects, with nothing answered, if a write failed.
 */
export type AppendRun = (entries: readonly EntryDocument[]) => Promise<number>;

/** Each account's run on its own: one ordered insert of its entries, then one of their pointers. */
export function appendAlone(store: LedgerStore): AppendRun {
  return async (entries) => {
    const inserted = await store.appendEntries(entries);
    await store.writePointers(entries.slice(0, inserted));
    return inserted;
  };
}

interface Run {
  entries: readonly EntryDocument[];
  resolve: (inserted: number) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit across accounts: the runs of every account whose batch is decided while the previous
 * write is under way (or within the tick, when none is) are appended with one insert, and their
 * pointers with one more. Each account has at most one run here at a time (its queue waits for the
 * answer), so per-account order is the queue's.
 *
 * The insert is ordered, on purpose: an unordered one would go on past a refused entry and insert
 * the same account's later entries, built on a head that is not in the chain (another process took
 * the seq) or above a hole (the operation index refused it). Ordered, it stops at the first refusal:
 * the runs before it are decided, the refused run gets its prefix and resolves the conflict alone,
 * and the runs behind it, which were never tried, are written by the next insert as they are.
 */
export class CrossAccountCommit {
  private readonly waiting: Run[] = [];
  private writing = false;

  constructor(
    private readonly store: LedgerStore,
    /** Most entries in one insert; a run is never split, so a write holds at least one whole run. */
    private readonly entriesPerWriteMax: number,
  ) {}

  /** Runs decided and not yet in a write. */
  get runsWaiting(): number {
    return this.waiting.length;
  }

  readonly append: AppendRun = (entries) => {
    if (entries.length === 0) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.waiting.push({ entries, resolve, reject });
      if (this.writing) return;
      this.writing = true;
      // After the I/O callbacks of this turn of the event loop: other accounts' decisions that are ready by then join.
      setImmediate(() => void this.writeWaiting());
    });
  };

  /** Never rejects: each write answers its own runs. */
  private async writeWaiting(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const runs = this.waiting.splice(0, runsInNextWrite(this.waiting.map((run) => run.entries.length), this.entriesPerWriteMax));
        await this.write(runs);
      }
    } finally {
      this.writing = false;
    }
  }

  private async write(runs: readonly Run[]): Promise<void> {
    try {
      if (new Set(runs.map((run) => run.entries[0]?.accountId)).size !== runs.length) throw new Error('ledger invariant: two runs of one account in one write');
      const inserted = await this.store.appendEntries(runs.flatMap((run) => run.entries));
      const outcomes = outcomesOfOrderedWrite(runs.map((run) => run.entries.length), inserted);
      const tried = runs.map((run, index) => ({ run, outcome: outcomes[index] as RunOutcome }));
      // Pointers before any answer, as for a run written alone: should they fail, every head stays behind and its next roll-forward writes them.
      await this.store.writePointers(tried.flatMap(({ run, outcome }) => (outcome.reached ? run.entries.slice(0, outcome.inserted) : [])));
      this.waiting.unshift(...tried.filter(({ outcome }) => !outcome.reached).map(({ run }) => run));
      for (const { run, outcome } of tried) if (outcome.reached) run.resolve(outcome.inserted);
    } catch (error) {
      for (const run of runs) run.reject(error);
    }
  }
}
