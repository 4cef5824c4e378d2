import { MongoClient } from 'mongodb';
import type { TransferState } from '../../../lib/contracts/transfer-contract';
import { compareWriters, type StatusWriter, type TransferRecordDocument } from '../../../lib/record/transfer-record';
import { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { startTestRecordStore } from '../../support/cluster';
import { sampleRecord, sampleState } from '../../support/transfer-records';

jest.setTimeout(120_000);

/**
 * The transfer record on a real FerretDB: its decisions are uniquely keyed inserts, so they hold
 * under concurrency without transactions, and a late write never rolls the record back.
 */
describe('transfer record store on FerretDB', () => {
  let stop: () => Promise<void>;
  let mongo: MongoClient;
  let store: TransferRecordStore;

  beforeAll(async () => {
    ({ store, mongo, stop } = await startTestRecordStore('transfer-record-store'));
  });

  afterAll(async () => {
    await stop?.();
  });

  const recordOf = (id: string, client = 'client-a', fingerprint = 'f1'): TransferRecordDocument => sampleRecord(id, { client, fingerprint });
  const stateOf = (id: string, status: TransferState['status'], needsAttention = false): TransferState => sampleState(id, status, { needsAttention });

  test('when 20 creates of one transfer id race, then exactly one creates it and the others find it', async () => {
    const outcomes = await Promise.all(Array.from({ length: 20 }, (_, index) => store.create(recordOf('tr-race', 'client-a', `f${index}`))));
    const created = outcomes.filter((outcome) => outcome.outcome === 'created');
    expect(created).toHaveLength(1);
    const found = outcomes.flatMap((outcome) => (outcome.outcome === 'exists' ? [outcome.record.fingerprint] : []));
    expect(found).toHaveLength(19);
    // Every loser sees the winner's record, whichever fingerprint it brought.
    expect(new Set(found).size).toBe(1);
    expect((await store.openTransfers()).map((open) => open._id)).toContain('tr-race');
  });

  test('when 30 transfers of one client are listed concurrently, each twice, then each holds exactly one place and the chain has no gap', async () => {
    const records = Array.from({ length: 30 }, (_, index) => recordOf(`tr-chain-${index}`, 'client-chain'));
    for (const record of records) await store.create(record);
    await Promise.all([...records, ...records].map((record) => store.ensureListed(record)));
    // A second store (another API process) races the same appends.
    const other = new TransferRecordStore(mongo.db('transfer_api'));
    await Promise.all(records.map((record) => other.ensureListed(record)));
    const head = await store.chainHeadSeq('client-chain');
    expect(head).toBe(30);
    const places = await store.chainDown('client-chain', head, 30);
    expect(places.map((place) => place.seq)).toEqual(Array.from({ length: 30 }, (_, index) => 30 - index));
    expect(new Set(places.map((place) => place.transferId)).size).toBe(30);
    expect(await store.listClients()).toContain('client-chain');
  });

  test('when a late, retried write of an older change arrives after a newer one, then it is refused and the record keeps the newer', async () => {
    await store.create(recordOf('tr-order'));
    const run: Omit<StatusWriter, 'revision'> = { runId: 'run-1', changedAtMs: 1_000 };
    expect(await store.appendStatus({ transferId: 'tr-order', writer: { ...run, revision: 1 }, state: stateOf('tr-order', 'DEBITED') })).toBe(true);
    expect(await store.appendStatus({ transferId: 'tr-order', writer: { ...run, revision: 2 }, state: stateOf('tr-order', 'COMPLETED') })).toBe(true);
    expect(await store.appendStatus({ transferId: 'tr-order', writer: { ...run, revision: 1 }, state: stateOf('tr-order', 'DEBITED') })).toBe(false);
    expect(await store.appendStatus({ transferId: 'tr-order', writer: { ...run, revision: 2 }, state: stateOf('tr-order', 'COMPLETED') })).toBe(false);
    const found = await store.find('tr-order');
    expect(found?.latest?.state.status).toBe('COMPLETED');
    expect(found?.latest?.n).toBe(2);
    // A final status takes the transfer out of the open set.
    expect((await store.openTransfers()).map((open) => open._id)).not.toContain('tr-order');
  });

  test('when a later run writes after an earlier run, then the later run wins even with a lower revision', async () => {
    await store.create(recordOf('tr-runs'));
    expect(await store.appendStatus({ transferId: 'tr-runs', writer: { runId: 'run-1', changedAtMs: 1_000, revision: 3 }, state: stateOf('tr-runs', 'DEBITED', true) })).toBe(true);
    expect((await store.attentionTransfers()).map((flagged) => flagged._id)).toContain('tr-runs');
    expect(await store.appendStatus({ transferId: 'tr-runs', writer: { runId: 'run-2', changedAtMs: 2_000, revision: 1 }, state: stateOf('tr-runs', 'REFUNDED') })).toBe(true);
    expect(await store.appendStatus({ transferId: 'tr-runs', writer: { runId: 'run-1', changedAtMs: 1_000, revision: 4 }, state: stateOf('tr-runs', 'COMPLETED') })).toBe(false);
    const history = await store.history('tr-runs');
    expect(history?.entries.map((entry) => entry.state.status)).toEqual(['DEBITED', 'REFUNDED']);
    expect((await store.attentionTransfers()).map((flagged) => flagged._id)).not.toContain('tr-runs');
  });

  test('when 10 writers append the same change concurrently, then it is written once', async () => {
    await store.create(recordOf('tr-dup'));
    const change = { transferId: 'tr-dup', writer: { runId: 'run-1', changedAtMs: 1_000, revision: 1 }, state: stateOf('tr-dup', 'DEBITED') };
    const answers = await Promise.all(Array.from({ length: 10 }, () => store.appendStatus(change)));
    expect(answers.filter(Boolean).length).toBeGreaterThanOrEqual(1);
    expect((await store.history('tr-dup'))?.entries).toHaveLength(1);
  });

  test('when records older than UETRs exist, then the UETR index is built over them, a second transfer with a UETR is refused with nothing recorded, and records without one never collide', async () => {
    // A database of its own: the records written before UETRs are there before the index is.
    const db = mongo.db('transfer_api_uetr');
    await db.collection<TransferRecordDocument>('transfers').insertMany([recordOf('tr-legacy-1'), recordOf('tr-legacy-2'), recordOf('tr-legacy-3')]);
    const uetrStore = new TransferRecordStore(db);
    await uetrStore.ensureIndexes();
    await uetrStore.ensureIndexes();
    const uetr = '7d444840-9dc0-41c4-8a7e-5d8a3b9f0c21';
    expect(await uetrStore.create({ ...recordOf('tr-uetr-1'), uetr, endToEndId: 'E2E-1' })).toEqual({ outcome: 'created' });
    expect(await uetrStore.create({ ...recordOf('tr-uetr-2'), uetr, endToEndId: null })).toEqual({ outcome: 'uetr-taken' });
    expect(await uetrStore.find('tr-uetr-2')).toBeUndefined();
    // The same transfer again (a replay that generated another UETR) finds the first, with its UETR.
    const replay = await uetrStore.create({ ...recordOf('tr-uetr-1'), uetr: '8d444840-9dc0-41c4-8a7e-5d8a3b9f0c21' });
    expect(replay.outcome === 'exists' && [replay.record.uetr, replay.record.endToEndId]).toEqual([uetr, 'E2E-1']);
    expect(await uetrStore.create(recordOf('tr-legacy-4'))).toEqual({ outcome: 'created' });
    expect(await uetrStore.create({ ...recordOf('tr-uetr-3'), uetr: '9d444840-9dc0-41c4-8a7e-5d8a3b9f0c21' })).toEqual({ outcome: 'created' });
    expect(await uetrStore.references('tr-uetr-1')).toEqual({ uetr, endToEndId: 'E2E-1' });
    expect(await uetrStore.references('tr-legacy-1')).toEqual({});
  });

  test('when writers are compared, then the run start orders runs and the revision orders one run', () => {
    expect(compareWriters({ runId: 'b', changedAtMs: 1, revision: 9 }, { runId: 'a', changedAtMs: 2, revision: 1 })).toBeLessThan(0);
    expect(compareWriters({ runId: 'a', changedAtMs: 1, revision: 1 }, { runId: 'a', changedAtMs: 1, revision: 2 })).toBeLessThan(0);
    expect(compareWriters({ runId: 'a', changedAtMs: 1, revision: 2 }, { runId: 'a', changedAtMs: 1, revision: 2 })).toBe(0);
  });
});
