import type { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { recordedState, type RecordedTransfer } from '../../../lib/record/transfer-record';
import type { TransferState } from '../../../lib/contracts/transfer-contract';
import { ApiError } from '../../../lib/http/errors';
import type { Caller } from '../http/auth';
import type { ListTransfersQuery, TransferView } from '../schemas';
import { transferView } from '../../../lib/contracts/transfer-view';
import { transferIdentifiers } from '../../../lib/record/transfer-identifiers';
import { transferApiLimits } from '../limits';

/**
 * Lists answer from the record, newest first. Each client's transfers are a chain read down by
 * `_id`; an operator's list merges the clients' chains by creation time. A page reads at most
 * `scanBudget` transfers, so a rare filter may give a short page with a cursor to go on: its cost
 * never grows with the number of recorded transfers. needsAttention=true reads the attention set.
 */

export interface TransferPage {
  data: TransferView[];
  nextCursor: string | null;
}

const scanBudgetPerItem = 20;
const scanBudgetMin = 200;

type Positions = Record<string, number>;

export async function listTransfers(records: TransferRecordStore, caller: Caller, query: ListTransfersQuery): Promise<TransferPage> {
  const matches = (state: TransferState): boolean => matchesFilter(state, query) && (caller.role === 'operator' || state.requestedBy === caller.name);
  if (query.needsAttention === 'true') return listNeedingAttention(records, query, matches);
  const positions = query.cursor === undefined ? await startingPositions(records, caller) : decodeCursor(query.cursor, isPositions, 'p');
  const entries = Object.entries(positions);
  // Each chain is read a batch ahead: a page's share of it, so a merge of many clients reads little more than a page.
  const batch = Math.min(transferApiLimits.chainBatchMax, Math.max(transferApiLimits.chainBatchMin, Math.ceil(query.limit / Math.max(1, entries.length))));
  const streams = entries.map(([client, next]) => new ChainStream(records, client, next, batch));
  const data: TransferView[] = [];
  const budget = Math.max(scanBudgetMin, query.limit * scanBudgetPerItem);
  for (let scanned = 0; data.length < query.limit && scanned < budget; scanned += 1) {
    const newest = await newestOf(streams);
    if (!newest) break;
    const transfer = newest.take();
    if (matches(recordedState(transfer))) data.push(transferView(recordedState(transfer), transferIdentifiers(transfer.record._id, transfer.record)));
  }
  const open = streams.filter((stream) => stream.next > 0);
  return { data, nextCursor: open.length === 0 ? null : encodeCursor({ p: Object.fromEntries(open.map((stream) => [stream.client, stream.next])) }) };
}

function matchesFilter(state: TransferState, query: ListTransfersQuery): boolean {
  if (query.status && state.status !== query.status) return false;
  if (query.sourceBank && state.source.bankId !== query.sourceBank) return false;
  if (query.targetBank && state.target.bankId !== query.targetBank) return false;
  if (query.account && state.source.accountId !== query.account && state.target.accountId !== query.account) return false;
  if (query.needsAttention && state.needsAttention !== (query.needsAttention === 'true')) return false;
  return true;
}

async function startingPositions(records: TransferRecordStore, caller: Caller): Promise<Positions> {
  const clients = caller.role === 'operator' ? await records.listClients() : [caller.name];
  const heads = await Promise.all(clients.map((client) => records.chainHeadSeq(client)));
  return Object.fromEntries(clients.map((client, index) => [client, heads[index] ?? 0]));
}

/** One client's transfers, newest first, read a batch ahead. `next` is the place not yet taken. */
class ChainStream {
  private buffer: Array<{ seq: number; transfer: RecordedTransfer }> = [];
  private readUpTo: number;

  constructor(
    private readonly records: TransferRecordStore,
    readonly client: string,
    public next: number,
    private readonly batch: number,
  ) {
    this.readUpTo = next;
  }

  async peek(): Promise<RecordedTransfer | undefined> {
    while (this.buffer.length === 0 && this.readUpTo > 0) {
      const places = await this.records.chainDown(this.client, this.readUpTo, this.batch);
      this.readUpTo = Math.max(0, this.readUpTo - this.batch);
      const found = await Promise.all(places.map(async (place) => ({ seq: place.seq, transfer: await this.records.find(place.transferId) })));
      this.buffer = found.flatMap((item) => (item.transfer ? [{ seq: item.seq, transfer: item.transfer }] : []));
      if (this.buffer.length === 0) this.next = this.readUpTo;
    }
    return this.buffer[0]?.transfer;
  }

  take(): RecordedTransfer {
    const item = this.buffer.shift();
    if (!item) throw new Error(`nothing to take from the chain of ${this.client}`);
    this.next = this.buffer[0]?.seq ?? item.seq - 1;
    return item.transfer;
  }
}

async function newestOf(streams: readonly ChainStream[]): Promise<ChainStream | undefined> {
  let newest: { stream: ChainStream; createdAt: string } | undefined;
  for (const stream of streams) {
    const head = await stream.peek();
    if (head && (!newest || head.record.createdAt > newest.createdAt)) newest = { stream, createdAt: head.record.createdAt };
  }
  return newest?.stream;
}

/** The attention set is small: read whole, ordered newest first, paged by (createdAt, id). */
async function listNeedingAttention(records: TransferRecordStore, query: ListTransfersQuery, matches: (state: TransferState) => boolean): Promise<TransferPage> {
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, isKeyset, 'a');
  const flagged = await records.attentionTransfers();
  const found = await Promise.all(flagged.map((document) => records.find(document._id)));
  const views = found
    .flatMap((transfer) => (transfer ? [{ state: recordedState(transfer), identifiers: transferIdentifiers(transfer.record._id, transfer.record) }] : []))
    .filter(({ state }) => matches(state))
    .sort((a, b) => b.state.createdAt.localeCompare(a.state.createdAt) || b.state.transferId.localeCompare(a.state.transferId))
    .filter(({ state }) => !after || state.createdAt < after[0] || (state.createdAt === after[0] && state.transferId < after[1]));
  const page = views.slice(0, query.limit);
  const last = page.at(-1)?.state;
  return { data: page.map(({ state, identifiers }) => transferView(state, identifiers)), nextCursor: last && views.length > page.length ? encodeCursor({ a: [last.createdAt, last.transferId] }) : null };
}

function isPositions(value: unknown): value is Positions {
  return typeof value === 'object' && value !== null && Object.values(value).every((seq) => Number.isSafeInteger(seq) && (seq as number) >= 0);
}

function isKeyset(value: unknown): value is [string, string] {
  return Array.isArray(value) && value.length === 2 && value.every((part) => typeof part === 'string');
}

function encodeCursor(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeCursor<T>(cursor: string, valid: (value: unknown) => value is T, key: 'p' | 'a'): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[key] : undefined;
  if (!valid(value)) throw new ApiError('VALIDATION_FAILED', 'cursor is not a nextCursor of this list', 'cursor');
  return value;
}
