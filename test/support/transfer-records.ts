import type { TransferState, TransferStatus } from '../../lib/contracts/transfer-contract';
import type { TransferRecordDocument } from '../../lib/record/transfer-record';

/** A transfer of 500 EUR from bank-a/alice to bank-b/bob by client-a, as tests of the record write it. */
export function sampleRecord(id: string, fields: Partial<Omit<TransferRecordDocument, '_id'>> = {}): TransferRecordDocument {
  return {
    _id: id,
    client: 'client-a',
    fingerprint: 'f1',
    request: { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '500', currency: 'EUR', reference: null },
    createdAt: new Date().toISOString(),
    ...fields,
  };
}

/** The saga's state of that transfer with the given status. */
export function sampleState(id: string, status: TransferStatus, fields: Partial<TransferState> = {}): TransferState {
  return {
    transferId: id,
    status,
    source: { bankId: 'bank-a', accountId: 'alice' },
    target: { bankId: 'bank-b', accountId: 'bob' },
    amountMinor: '500',
    currency: 'EUR',
    requestedBy: 'client-a',
    needsAttention: false,
    createdAt: '2026-12-01T00:00:00.000Z',
    updatedAt: new Date().toISOString(),
    steps: [],
    ...fields,
  };
}
