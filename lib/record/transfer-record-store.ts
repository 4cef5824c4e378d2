import { MongoServerError, type Collection, type Db, type OptionalUnlessRequiredId } from 'mongodb';
import { isTerminalStatus } from '../contracts/transfer-contract';
import {
  compareWriters,
  type RecordedTransfer,
  type TransferHistory,
  type TransferRecordDocument,
  type TransferRecordReader,
  type TransferStatusChange,
  type TransferStatusEntry,
} from './transfer-record';

/**
 * The transfer record in the API's own database (see lib/record/transfer-record.ts for the shapes).
 * FerretDB decides nothing with an update and indexes only `{ _id }` look-ups, so every decision
 * here is one uniquely keyed insert and every hot read an `_id` look-up:
 * - `transfers`: the record, `_id` = transfer id; its insert is the Idempotency-Key's decision.
 * - `transfer_status`: the status entries `<transferId>:<n>`, rolled forward by `_id`.
 * - `transfer_client_chain`: each client's transfers in creation order, `<client>:<seq>`, one place
 *   per transfer (a unique index on the transfer id), so the client's list is a walk down by `_id`.
 * - `transfer_open` / `transfer_attention`: small sets, the transfers not yet final and those that
 *   need an operator; the sweeper and the gauge read them whole.
 * - `transfer_reopened`: transfers written again after a final status (a Temporal reset or a
 *   repair of an ended transfer), for reconciliation to judge again; it removes them.
 */

export interface OpenTransferDocument {
  _id: string;
  client: string;
  createdAt: string;
}

export interface AttentionDocument {
  _id: string;
  since: string;
}

interface ChainDocument {
  _id: string;
  client: string;
  seq: number;
  transferId: string;
}

interface ChainHead {
  _id: string;
  seq: number;
}

/** `uetr-taken`: another transfer has the record's UETR, and nothing was recorded under its id. */
export type OpenOutcome = { outcome: 'created' } | { outcome: 'exists'; record: TransferRecordDocument } | { outcome: 'uetr-taken' };

const seqWidth = 12;
const statusWidth = 6;
/** Status entries read at once while rolling forward; most transfers have fewer. */
const statusProbeWidth = 3;
const appendRoundsMax = 1_000;
/** How many open or attention documents one read returns at most. */
export const transferSetReadMax = 10_000;

const chainId = (client: string, seq: number): string => `${client}:${String(seq).padStart(seqWidth, '0')}`;
const statusId = (transferId: string, n: number): string => `${transferId}:${String(n).padStart(statusWidth, '0')}`;
const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;
const ignoreDuplicate = (error: unknown): void => {
  if (!isDuplicateKey(error)) throw error;
};

export class TransferRecordStore implements TransferRecordReader {
  private readonly records: Collection<TransferRecordDocument>;
  private readonly statuses: Collection<TransferStatusEntry>;
  private readonly chain: Collection<ChainDocument>;
  private readonly chainHeads: Collection<ChainHead>;
  private readonly open: Collection<OpenTransferDocument>;
  private readonly attention: Collection<AttentionDocument>;
  private readonly reopened: Collection<AttentionDocument>;
  private readonly clients: Collection<{ _id: string }>;
  /** Appends to one client's chain from this process run one at a time: no race among themselves. */
  private readonly chainQueues = new Map<string, Promise<unknown>>();
  private readonly knownClients = new Set<string>();

  constructor(db: Db) {
    this.records = db.collection('transfers');
    this.statuses = db.collection('transfer_status');
    this.chain = db.collection('transfer_client_chain');
    this.chainHeads = db.collection('transfer_client_heads');
    this.open = db.collection('transfer_open');
    this.attention = db.collection('transfer_attention');
    this.reopened = db.collection('transfer_reopened');
    this.clients = db.collection('transfer_clients');
  }

  /**
   * The unique indexes: one place per transfer in its client's chain, and one transfer per UETR.
   * The UETR index is sparse, so that records older than UETRs (without one) never collide: MongoDB
   * leaves them out of it; FerretDB 1.24 accepts `sparse` but ignores it (and refuses
   * partialFilterExpression), and there a record without the field is NULL in the SQLite index,
   * which a unique index holds any number of.
   */
  async ensureIndexes(): Promise<void> {
    await this.chain.createIndex({ transferId: 1 }, { unique: true, name: 'chain_transfer_unique' });
    await this.records.createIndex({ uetr: 1 }, { unique: true, sparse: true, name: 'transfer_uetr_unique' });
  }

  /**
   * Records a new transfer, or finds the one its id already names. The transfer joins the open set
   * first, so that a crash right after the decision still leaves it where the sweeper looks.
   */
  async create(record: TransferRecordDocument): Promise<OpenOutcome> {
    await this.open.insertOne({ _id: record._id, client: record.client, createdAt: record.createdAt }).catch(ignoreDuplicate);
    try {
      await this.records.insertOne(record);
      return { outcome: 'created' };
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
    const existing = await this.records.findOne({ _id: record._id });
    // Not under its id: the UETR index refused it. Its open entry stays for the sweeper to drop
    // (orphanEntryAfterMs): a create of the same key may be about to record under it.
    if (!existing) return { outcome: 'uetr-taken' };
    return { outcome: 'exists', record: existing };
  }

  async find(transferId: string): Promise<RecordedTransfer | undefined> {
    const [record, entries] = await Promise.all([this.records.findOne({ _id: transferId }), this.entries(transferId)]);
    return record ? { record, latest: entries.at(-1) } : undefined;
  }

  async history(transferId: string): Promise<TransferHistory | undefined> {
    const [record, entries] = await Promise.all([this.records.findOne({ _id: transferId }), this.entries(transferId)]);
    return record ? { record, entries } : undefined;
  }

  /**
   * A transfer's payment references for a render that names it (a statement's entries): one `_id`
   * look-up of the record alone, its status entries unread. undefined when no transfer has this id;
   * a field the record does not hold (recorded before it existed) is left out.
   */
  async references(transferId: string): Promise<{ uetr?: string; endToEndId?: string | null } | undefined> {
    const found = await this.records.findOne({ _id: transferId }, { projection: { _id: 1, uetr: 1, endToEndId: 1, request: 1 } });
    if (!found) return undefined;
    // Read as unknown, on the record or its request: records written before the references existed lack them.
    type References = { uetr?: unknown; endToEndId?: unknown };
    const record = found as typeof found & References;
    const request: References = (found as { request?: References }).request ?? {};
    const uetr = record.uetr ?? request.uetr;
    const endToEndId = record.endToEndId !== undefined ? record.endToEndId : request.endToEndId;
    return { ...(typeof uetr === 'string' ? { uetr } : {}), ...(typeof endToEndId === 'string' || endToEndId === null ? { endToEndId } : {}) };
  }

  /** Every status entry of a transfer, oldest first: `_id` look-ups a few at a time until a gap. */
  async entries(transferId: string): Promise<TransferStatusEntry[]> {
    const found: TransferStatusEntry[] = [];
    for (let from = 1; ; from += statusProbeWidth) {
      const probe = await Promise.all(Array.from({ length: statusProbeWidth }, (_, index) => this.statuses.findOne({ _id: statusId(transferId, from + index) })));
      for (const entry of probe) {
        if (!entry) return found;
        found.push(entry);
      }
    }
  }

  /**
   * Appends a status change after the latest entry, unless the latest was written by the same or a
   * newer writer: a late retry of an older change never rolls the record back. True when appended.
   */
  async appendStatus(change: TransferStatusChange, now: Date = new Date()): Promise<boolean> {
    for (let round = 0; round < appendRoundsMax; round += 1) {
      const entries = await this.entries(change.transferId);
      const latest = entries.at(-1);
      if (latest && compareWriters(latest.writer, change.writer) >= 0) return false;
      const n = entries.length + 1;
      try {
        await this.statuses.insertOne({ ...change, _id: statusId(change.transferId, n), n, recordedAt: now.toISOString() });
      } catch (error) {
        ignoreDuplicate(error);
        continue;
      }
      await this.afterStatus(change, latest, now);
      return true;
    }
    throw new Error(`could not append a status of ${change.transferId}`);
  }

  /** Keeps the open and attention sets in step with the entry just written; a lost step is the sweeper's to mend. */
  private async afterStatus(change: TransferStatusChange, previous: TransferStatusEntry | undefined, now: Date): Promise<void> {
    const { state } = change;
    if (state.needsAttention && !previous?.state.needsAttention) {
      await this.attention.insertOne({ _id: change.transferId, since: now.toISOString() }).catch(ignoreDuplicate);
    }
    if (!state.needsAttention && previous?.state.needsAttention) await this.attention.deleteOne({ _id: change.transferId });
    if (isTerminalStatus(state.status)) await this.open.deleteOne({ _id: change.transferId });
    // The transfer had ended and a run wrote again: whatever it decides must be judged again.
    if (previous && isTerminalStatus(previous.state.status)) await this.reopened.insertOne({ _id: change.transferId, since: now.toISOString() }).catch(ignoreDuplicate);
    // In flight again (a Temporal reset of an ended transfer): open, so that the sweeper flags the new run if it stops too.
    if (previous && isTerminalStatus(previous.state.status) && !isTerminalStatus(state.status)) {
      await this.open.insertOne({ _id: change.transferId, client: state.requestedBy, createdAt: state.createdAt }).catch(ignoreDuplicate);
    }
  }

  /** Gives the transfer its place in its client's chain, once however often it is asked. */
  async ensureListed(record: TransferRecordDocument): Promise<void> {
    await this.rememberClient(record.client);
    const previous = this.chainQueues.get(record.client) ?? Promise.resolve();
    const appended = previous.catch(() => undefined).then(() => this.appendToChain(record.client, record._id));
    this.chainQueues.set(record.client, appended);
    try {
      await appended;
    } finally {
      if (this.chainQueues.get(record.client) === appended) this.chainQueues.delete(record.client);
    }
  }

  private async appendToChain(client: string, transferId: string): Promise<void> {
    let seq = await this.chainHeadSeq(client);
    for (let round = 0; round < appendRoundsMax; round += 1) {
      try {
        await this.chain.insertOne({ _id: chainId(client, seq + 1), client, seq: seq + 1, transferId });
        await this.chainHeads.updateOne({ _id: client }, { $max: { seq: seq + 1 } }).catch(() => undefined);
        return;
      } catch (error) {
        ignoreDuplicate(error);
      }
      const there = await this.chain.findOne({ _id: chainId(client, seq + 1) });
      // Nothing there: the unique transfer id index refused, so the transfer holds a place already.
      if (!there || there.transferId === transferId) return;
      seq = await this.rollChainForward(client, seq + 1);
    }
    throw new Error(`could not list ${transferId} for ${client}`);
  }

  private async rememberClient(client: string): Promise<void> {
    if (this.knownClients.has(client)) return;
    await this.clients.insertOne({ _id: client }).catch(ignoreDuplicate);
    this.knownClients.add(client);
  }

  /** The latest place in a client's chain; the cached head is a hint that `_id` look-ups roll forward. */
  async chainHeadSeq(client: string): Promise<number> {
    const head = await this.chainHeads.findOne({ _id: client });
    if (!head) await this.chainHeads.insertOne({ _id: client, seq: 0 }).catch(ignoreDuplicate);
    return this.rollChainForward(client, head?.seq ?? 0);
  }

  private async rollChainForward(client: string, from: number): Promise<number> {
    let seq = from;
    while (await this.chain.findOne({ _id: chainId(client, seq + 1) }, { projection: { _id: 1 } })) seq += 1;
    return seq;
  }

  /** The transfer ids at places `from`, `from - 1`, … of a client's chain (newest first), `count` at most. */
  async chainDown(client: string, from: number, count: number): Promise<Array<{ seq: number; transferId: string }>> {
    const seqs = Array.from({ length: Math.min(count, from) }, (_, index) => from - index);
    const found = await Promise.all(seqs.map((seq) => this.chain.findOne({ _id: chainId(client, seq) })));
    return found.flatMap((document) => (document ? [{ seq: document.seq, transferId: document.transferId }] : []));
  }

  /** Every client that ever created a transfer (a small collection: one document per API client). */
  async listClients(): Promise<string[]> {
    const documents = await this.clients.find({}).limit(transferSetReadMax).toArray();
    return documents.map((document) => document._id).sort();
  }

  async openTransfers(limit = transferSetReadMax): Promise<OpenTransferDocument[]> {
    return this.open.find({}).limit(limit).toArray();
  }

  async closeOpen(transferId: string): Promise<void> {
    await this.open.deleteOne({ _id: transferId });
  }

  async attentionTransfers(limit = transferSetReadMax): Promise<AttentionDocument[]> {
    return this.attention.find({}).limit(limit).toArray();
  }

  async clearAttention(transferId: string): Promise<void> {
    await this.attention.deleteOne({ _id: transferId });
  }

  async reopenedTransfers(limit = transferSetReadMax): Promise<string[]> {
    const documents = await this.reopened.find({}).limit(limit).toArray();
    return documents.map((document) => document._id);
  }

  async forgetReopened(transferId: string): Promise<void> {
    await this.reopened.deleteOne({ _id: transferId });
  }

  async countAttention(): Promise<number> {
    return this.attention.countDocuments({});
  }

  /**
   * For seeding (benchmarks) and migrations: writes transfers recorded elsewhere as the documents
   * the normal paths write (the record; its status entries `<id>:<n>` from 1; a place at the end of
   * its client's chain and the chain's head; the client; the open, attention and reopened sets as
   * the entries leave them), with ordered `insertMany` in batches of `importBatchMax`: thousands of
   * documents a second where the normal paths take a round trip each. Transfers come oldest first,
   * none recorded yet: a duplicate stops the import with the driver's bulk write error. Not beside
   * creates for the same clients: places are taken from the head without ensureListed's retry.
   */
  async importTransfers(transfers: ReadonlyArray<ImportedTransfer>): Promise<void> {
    const clients = [...new Set(transfers.map((transfer) => transfer.record.client))];
    for (const client of clients) await this.rememberClient(client);
    const heads = new Map(await Promise.all(clients.map(async (client) => [client, await this.chainHeadSeq(client)] as const)));
    const documents = importDocuments(transfers, heads);
    await insertInBatches(this.open, documents.open);
    await insertInBatches(this.records, documents.records);
    await insertInBatches(this.statuses, documents.statuses);
    await insertInBatches(this.attention, documents.attention);
    await insertInBatches(this.reopened, documents.reopened);
    await insertInBatches(this.chain, documents.chain);
    for (const [client, seq] of heads) await this.chainHeads.updateOne({ _id: client }, { $max: { seq } });
  }
}

/** A transfer to import: its record and its status entries, oldest first (numbered on import). */
export interface ImportedTransfer {
  record: TransferRecordDocument;
  entries: ReadonlyArray<Omit<TransferStatusEntry, '_id' | 'n'>>;
}

/**
 * Documents per `insertMany` of an import. Status entries are large: FerretDB wrote ~2,600 a second
 * in batches of 200 and ~3,400 in batches of 500; a larger batch holds SQLite's write lock longer.
 */
export const importBatchMax = 500;

interface ImportDocuments {
  records: TransferRecordDocument[];
  statuses: TransferStatusEntry[];
  chain: ChainDocument[];
  open: OpenTransferDocument[];
  attention: AttentionDocument[];
  reopened: AttentionDocument[];
}

/** The documents of an import; `heads` (client → latest place) moves to each client's last new place. */
function importDocuments(transfers: ReadonlyArray<ImportedTransfer>, heads: Map<string, number>): ImportDocuments {
  const documents: ImportDocuments = { records: [], statuses: [], chain: [], open: [], attention: [], reopened: [] };
  const lastCreatedAt = new Map<string, string>();
  for (const { record, entries } of transfers) {
    assertImportable(record, entries, lastCreatedAt.get(record.client));
    lastCreatedAt.set(record.client, record.createdAt);
    const seq = (heads.get(record.client) ?? 0) + 1;
    heads.set(record.client, seq);
    documents.records.push(record);
    entries.forEach((entry, index) => documents.statuses.push({ ...entry, _id: statusId(record._id, index + 1), n: index + 1 }));
    documents.chain.push({ _id: chainId(record.client, seq), client: record.client, seq, transferId: record._id });
    // afterStatus takes a transfer out of the open set at a final status and back in when a run writes after it.
    const latest = entries.at(-1);
    if (!latest || !isTerminalStatus(latest.state.status)) documents.open.push({ _id: record._id, client: record.client, createdAt: record.createdAt });
    const since = attentionSince(entries);
    if (since !== undefined) documents.attention.push({ _id: record._id, since });
    // afterStatus marks a transfer reopened at the first entry written after a final one.
    const reopenedAt = entries.find((_, index) => index > 0 && isTerminalStatus(entries[index - 1]?.state.status ?? 'PENDING'))?.recordedAt;
    if (reopenedAt !== undefined) documents.reopened.push({ _id: record._id, since: reopenedAt });
  }
  return documents;
}

/** What appendStatus and the chain hold for every transfer: its own entries, each by a newer writer, in creation order. */
function assertImportable(record: TransferRecordDocument, entries: ImportedTransfer['entries'], previousCreatedAt: string | undefined): void {
  if (previousCreatedAt !== undefined && record.createdAt < previousCreatedAt) throw new Error(`import of ${record._id}: transfers of ${record.client} must come oldest first`);
  entries.forEach((entry, index) => {
    if (entry.transferId !== record._id || entry.state.transferId !== record._id) throw new Error(`import of ${record._id}: entry ${index + 1} is of another transfer`);
    const previous = entries[index - 1];
    if (previous && compareWriters(previous.writer, entry.writer) >= 0) throw new Error(`import of ${record._id}: entry ${index + 1} is not by a newer writer than the one before`);
  });
}

/** When the transfer's entries last raised needsAttention without clearing it, as afterStatus records it. */
function attentionSince(entries: ImportedTransfer['entries']): string | undefined {
  let since: string | undefined;
  let previous: boolean | undefined;
  for (const entry of entries) {
    if (entry.state.needsAttention && !previous) since = entry.recordedAt;
    if (!entry.state.needsAttention) since = undefined;
    previous = entry.state.needsAttention;
  }
  return since;
}

async function insertInBatches<T extends { _id: string }>(collection: Collection<T>, documents: readonly T[]): Promise<void> {
  for (let start = 0; start < documents.length; start += importBatchMax) {
    const batch = documents.slice(start, start + importBatchMax);
    const inserted = await collection.insertMany(batch as OptionalUnlessRequiredId<T>[], { ordered: true });
    if (inserted.insertedCount !== batch.length) throw new Error(`import: ${inserted.insertedCount} of ${batch.length} inserted`);
  }
}
