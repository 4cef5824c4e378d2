import type { LedgerMetrics } from '../http/metrics';
import { decide } from './decide';
import type { LedgerStore } from './ledger-store';
import type { AccountDocument, EntryDocument, Head, Operation } from './model';

/** A chain that keeps losing races this often is a bug or a storm; stop instead of spinning. */
const decideAttemptsMax = 10_000;

export class AccountNotFoundError extends Error {
  override readonly name = 'AccountNotFoundError';
}

export type Clock = () => Date;

/**
 * Decides operations on account chains: one uniquely keyed insert per decision, every
 * look-up by `_id`. Correct with any number of processes on one database; the in-memory
 * hints only save look-ups.
 */
export class Ledger {
  private readonly accounts = new Map<string, AccountDocument>();
  private readonly heads = new Map<string, Head>();

  constructor(
    private readonly store: LedgerStore,
    private readonly clock: Clock,
    private readonly metrics: LedgerMetrics,
  ) {}

  async account(accountId: string): Promise<AccountDocument> {
    const cached = this.accounts.get(accountId);
    if (cached) return cached;
    const found = await this.store.findAccount(accountId);
    if (!found) throw new AccountNotFoundError(`no account ${accountId}`);
    this.accounts.set(accountId, found);
    return found;
  }

  /** The chain's latest entry: from a hint, rolled forward by `_id` look-ups of seq + 1. */
  async head(account: AccountDocument): Promise<Head> {
    let head = this.heads.get(account._id);
    if (!head) {
      const hinted = await this.store.findEntry(account._id, account.headSeq);
      head = hinted ?? (await this.store.findEntry(account._id, 0)) ?? undefined;
      if (!head) throw new Error(`ledger invariant: account ${account._id} has no opening entry`);
    }
    for (;;) {
      const next = await this.store.findEntry(account._id, head.seq + 1);
      if (!next) break;
      head = next;
    }
    this.heads.set(account._id, head);
    return head;
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
   * Decides an operation once. Returns the entry holding its operation id: the new one,
   * or the one decided earlier (by this request's duplicate, a retry, or a void that took the slot).
   */
  async apply(accountId: string, operation: Operation): Promise<EntryDocument> {
    const account = await this.account(accountId);
    for (let attempt = 0; attempt < decideAttemptsMax; attempt += 1) {
      const earlier = await this.decided(accountId, operation.operationId);
      if (earlier) return earlier;
      const head = await this.head(account);
      const entry = decide(account, head, operation, this.clock().toISOString());
      if (await this.append(entry)) return entry;
      const occupant = await this.store.findEntry(accountId, entry.seq);
      if (occupant) {
        this.heads.set(accountId, occupant);
        if (occupant.operationId === operation.operationId) return occupant;
        this.metrics.sequenceConflicts.inc();
        continue;
      }
      // The seq was free, so the operation index refused: this operation was decided before.
      const decided = await this.decided(accountId, operation.operationId, true);
      if (decided) return decided;
    }
    throw new Error(`ledger: could not decide ${operation.operationId} on ${accountId} after ${decideAttemptsMax} attempts`);
  }

  /** Inserts one entry at its seq; false when the seq or the operation is taken. */
  async append(entry: EntryDocument): Promise<boolean> {
    const inserted = await this.store.appendEntries([entry]);
    if (inserted === 0) return false;
    this.heads.set(entry.accountId, entry);
    await this.store.writePointers([entry]);
    this.metrics.decisions.inc({ kind: entry.kind, outcome: entry.outcome });
    if (entry.statusAfter === 'CLOSED' && entry.amountMinor !== 0n) this.metrics.closedAccountMovements.inc({ kind: entry.kind });
    // Every 64 entries is enough for a cold process to find the head in a few look-ups.
    if (entry.seq % 64 === 0) await this.store.advanceHeadHint(entry.accountId, entry.seq);
    return true;
  }
}
