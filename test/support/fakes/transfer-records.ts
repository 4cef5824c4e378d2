import type { OpenOutcome, TransferRecordStore } from '../../../lib/record/transfer-record-store';
import type { TransferState } from '../../../lib/contracts/transfer-contract';
import type { RecordedTransfer, TransferRecordDocument, TransferStatusEntry } from '../../../lib/record/transfer-record';
import { portFake } from './port-fake';

/** What the create, read and metrics paths of the API ask of the transfer record. */
export type TransferRecordPort = Pick<TransferRecordStore, 'create' | 'ensureListed' | 'entries' | 'find' | 'countAttention'>;

/**
 * The transfer record in memory: records, unique by id and by UETR as the store's indexes make
 * them, and no status entries unless a test writes some (no saga runs to write them).
 */
export class FakeTransferRecords implements TransferRecordPort {
  readonly inserted: TransferRecordDocument[] = [];
  private readonly statuses = new Map<string, TransferStatusEntry[]>();

  async create(record: TransferRecordDocument): Promise<OpenOutcome> {
    const existing = this.inserted.find((earlier) => earlier._id === record._id);
    if (existing) return { outcome: 'exists', record: existing };
    if (record.uetr !== undefined && this.inserted.some((earlier) => earlier.uetr === record.uetr)) return { outcome: 'uetr-taken' };
    this.inserted.push(record);
    return { outcome: 'created' };
  }

  async ensureListed(_record: TransferRecordDocument): Promise<void> {}

  async entries(transferId: string): Promise<TransferStatusEntry[]> {
    return [...(this.statuses.get(transferId) ?? [])];
  }

  async find(transferId: string): Promise<RecordedTransfer | undefined> {
    const record = this.inserted.find((earlier) => earlier._id === transferId);
    return record ? { record, latest: this.statuses.get(transferId)?.at(-1) } : undefined;
  }

  /** Writes a status entry as the saga would: the transfer's whole state after one change. */
  recordState(state: TransferState, recordedAt = state.updatedAt): void {
    const entries = this.statuses.get(state.transferId) ?? [];
    const n = entries.length + 1;
    entries.push({ _id: `${state.transferId}:${n}`, n, transferId: state.transferId, writer: { runId: 'fake-run', changedAtMs: Date.parse(recordedAt), revision: n }, state, recordedAt });
    this.statuses.set(state.transferId, entries);
  }

  async countAttention(): Promise<number> {
    return 0;
  }

  /** The store the app is typed against; every method outside the port throws. */
  asStore(): TransferRecordStore {
    return portFake<TransferRecordStore>('TransferRecordStore', {
      create: (record) => this.create(record),
      ensureListed: (record) => this.ensureListed(record),
      entries: (transferId) => this.entries(transferId),
      find: (transferId) => this.find(transferId),
      countAttention: () => this.countAttention(),
    });
  }
}
