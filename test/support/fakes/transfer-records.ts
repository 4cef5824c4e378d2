import type { OpenOutcome, TransferRecordStore } from '../../../lib/record/transfer-record-store';
import type { RecordedTransfer, TransferRecordDocument, TransferStatusEntry } from '../../../lib/record/transfer-record';
import { portFake } from './port-fake';

/** What the create, read and metrics paths of the API ask of the transfer record. */
export type TransferRecordPort = Pick<TransferRecordStore, 'create' | 'ensureListed' | 'entries' | 'find' | 'countAttention'>;

/** The transfer record in memory: records and no status entries (no saga runs to write them). */
export class FakeTransferRecords implements TransferRecordPort {
  readonly inserted: TransferRecordDocument[] = [];

  async create(record: TransferRecordDocument): Promise<OpenOutcome> {
    const existing = this.inserted.find((earlier) => earlier._id === record._id);
    if (existing) return { outcome: 'exists', record: existing };
    this.inserted.push(record);
    return { outcome: 'created' };
  }

  async ensureListed(_record: TransferRecordDocument): Promise<void> {}

  async entries(_transferId: string): Promise<TransferStatusEntry[]> {
    return [];
  }

  async find(transferId: string): Promise<RecordedTransfer | undefined> {
    const record = this.inserted.find((earlier) => earlier._id === transferId);
    return record ? { record, latest: undefined } : undefined;
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
