import { MongoBulkWriteError, MongoServerError, type Collection, type Db } from 'mongodb';
import { entryId, pointerId, type AccountDocument, type EntryDocument, type PointerDocument } from './model';

const duplicateKey = 11000;

export function isDuplicateKey(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === duplicateKey;
}

/** The write errors of a bulk insert when all of them are duplicate keys; undefined otherwise. */
function duplicateWriteErrors(error: unknown): Array<{ index: number; code: number }> | undefined {
  if (error instanceof MongoBulkWriteError) {
    const writeErrors = Array.isArray(error.writeErrors) ? error.writeErrors : [error.writeErrors];
    const mapped = writeErrors.map((writeError) => ({ index: writeError.index, code: writeError.code }));
    return mapped.length > 0 && mapped.every((writeError) => writeError.code === duplicateKey) ? mapped.sort((a, b) => a.index - b.index) : undefined;
  }
  if (isDuplicateKey(error)) return [{ index: 0, code: duplicateKey }];
  return undefined;
}

/**
 * The ledger's documents in one bank's database. Every hot read is a filter of exactly
 * `{ _id }` (the only index FerretDB uses); every decision is an insert guarded by a unique index.
 */
export class LedgerStore {
  readonly accounts: Collection<AccountDocument>;
  readonly entries: Collection<EntryDocument>;
  readonly pointers: Collection<PointerDocument>;

  constructor(db: Db) {
    this.accounts = db.collection<AccountDocument>('accounts');
    this.entries = db.collection<EntryDocument>('entries');
    this.pointers = db.collection<PointerDocument>('pointers');
  }

  /** The unique index that refuses a second decision for one operation. Idempotent. */
  async ensureIndexes(): Promise<void> {
    await this.entries.createIndex({ accountId: 1, operationId: 1 }, { unique: true, name: 'account_operation_unique' });
  }

  async findAccount(accountId: string): Promise<AccountDocument | null> {
    return this.accounts.findOne({ _id: accountId });
  }

  /** Accounts in `_id` order after a cursor: the one range read, on the small accounts collection. */
  async listAccounts(afterAccountId: string | undefined, limit: number): Promise<AccountDocument[]> {
    const filter = afterAccountId === undefined ? {} : { _id: { $gt: afterAccountId } };
    return this.accounts.find(filter).sort({ _id: 1 }).limit(limit).toArray();
  }

  /** false when an account with this id exists already. */
  async insertAccount(account: AccountDocument): Promise<boolean> {
    try {
      await this.accounts.insertOne(account);
      return true;
    } catch (error) {
      if (isDuplicateKey(error)) return false;
      throw error;
    }
  }

  async findEntry(accountId: string, seq: number): Promise<EntryDocument | null> {
    return this.entries.findOne({ _id: entryId(accountId, seq) });
  }

  /**
   * Appends entries with one ordered insert: a run of one account's consecutive entries, or the
   * runs of many accounts laid end to end. Both MongoDB and FerretDB keep the prefix inserted
   * before the first conflict, so the answer is how many (from the start) were inserted.
   */
  async appendEntries(entries: readonly EntryDocument[]): Promise<number> {
    if (entries.length === 0) return 0;
    try {
      await this.entries.insertMany([...entries], { ordered: true });
      return entries.length;
    } catch (error) {
      const first = duplicateWriteErrors(error)?.[0];
      // Ordered: everything before the first failing index was inserted, nothing after it.
      if (first) return first.index;
      throw error;
    }
  }

  async findPointer(accountId: string, operationId: string): Promise<PointerDocument | null> {
    return this.pointers.findOne({ _id: pointerId(accountId, operationId) });
  }

  /** One unordered insert: a pointer that exists already (a duplicate, a roll-forward's repeat) is skipped, the others land. */
  async writePointers(entries: readonly EntryDocument[]): Promise<void> {
    if (entries.length === 0) return;
    try {
      await this.pointers.insertMany(
        entries.map((entry) => ({ _id: pointerId(entry.accountId, entry.operationId), seq: entry.seq })),
        { ordered: false },
      );
    } catch (error) {
      // A pointer written by a concurrent duplicate points at the same entry.
      if (!duplicateWriteErrors(error)) throw error;
    }
  }

  /** Moves the head hint forward; a lost or late update only costs extra look-ups. */
  async advanceHeadHint(accountId: string, seq: number): Promise<void> {
    await this.accounts.updateOne({ _id: accountId }, { $max: { headSeq: seq } });
  }
}
