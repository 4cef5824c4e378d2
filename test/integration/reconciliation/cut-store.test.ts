import { MongoClient } from 'mongodb';
import type { ReconciliationState } from '../../../lib/reconciliation/reconciliation';
import { CutUnreadableError, cutPartItemsMax, ReconciliationCutStore } from '../../../lib/reconciliation/cut-store';
import { startTestFerretDb } from '../../support/cluster';

jest.setTimeout(120_000);

function stateWith(accounts: number, takenAt: string): ReconciliationState {
  return {
    takenAt,
    accounts: Array.from({ length: accounts }, (_, index) => ({ bankId: 'bank-a', accountId: `a-${index}`, currency: 'EUR', sequence: index, balanceMinor: 9_000_000_000_000_000_000n - BigInt(index), operationId: `op-${index}` })),
    depositsMinor: [{ currency: 'EUR', amountMinor: 9_000_000_000_000_000_001n }],
    pending: [{ transferId: 't1', debits: [{ bankId: 'bank-a', accountId: 'a-0', currency: 'EUR', amountMinor: 300n }], credits: [], refunds: [], entries: 1, lastEntryAt: takenAt, approvalRepeatedReported: false }],
    judged: { transfers: 3, completed: 2, reversed: 1 },
    settlement: [{ firstBank: 'bank-a', secondBank: 'bank-b', currency: 'EUR', amountMinor: -40n, transfers: 2 }],
    discrepancies: [{ at: takenAt, discrepancy: { kind: 'UNKNOWN_TRANSFER', transferId: 'ghost', detail: 'x' } }],
    discrepancyCount: 1,
  };
}

/** The cuts on a real FerretDB: unique inserts decide, `_id` probes find the newest, bigints round-trip. */
describe('reconciliation cut store on FerretDB', () => {
  let stop: () => Promise<void>;
  let mongo: MongoClient;
  let store: ReconciliationCutStore;

  beforeAll(async () => {
    const ferret = await startTestFerretDb('reconciliation-cut-store');
    stop = ferret.stop;
    // A client without useBigInt64: the store asks for bigints itself.
    mongo = new MongoClient(ferret.database.url);
    store = new ReconciliationCutStore(mongo.db('transfer_api'));
  });

  afterAll(async () => {
    await mongo?.close();
    await stop?.();
  });

  test('when no cut was stored, then there is none; when cuts follow each other, then the newest is read back whole, in parts', async () => {
    expect(await store.latest()).toBeUndefined();
    const big = stateWith(cutPartItemsMax * 2 + 5, 't1');
    expect(await store.append(0, big)).toBe(true);
    expect(await store.latest()).toEqual({ n: 1, state: big });
    for (let n = 1; n < 12; n += 1) expect(await store.append(n, stateWith(3, `t${n + 1}`))).toBe(true);
    expect(await store.latest()).toEqual({ n: 12, state: stateWith(3, 't12') });
  });

  test('when a cut holds the clearing totals, windows and legs with other sides, then they read back exactly; a cut from before them reads without them', async () => {
    const latest = (await store.latest())?.n ?? 0;
    const base = stateWith(2, 'clearing');
    const pending = [{ ...base.pending[0], transferId: 't2', clearing: [{ bankId: 'bank-a', accountId: 'clearing.EUR', currency: 'EUR', slot: 'debit' as const, amountMinor: 300n }], settlement: [{ bankId: 'settlement', accountId: 'position.bank-a.EUR', currency: 'EUR', slot: 'debit' as const, amountMinor: -300n, windowId: 'w-000002' }] }] as ReconciliationState['pending'];
    const windows = Array.from({ length: 3 }, (_, k) => ({ windowId: `w-${String(k + 1).padStart(6, '0')}`, currency: 'EUR', netMinor: BigInt(k) - 9_000_000_000_000_000_000n, transfers: k }));
    // Three parts, as many as the cuts around it (the pruning test below counts them): accounts, pending, windows.
    const state: ReconciliationState = { ...base, pending, discrepancies: [], discrepancyCount: 0, clearing: [{ bankId: 'bank-a', currency: 'EUR', settlementMinor: -9_000_000_000_000_000_000n }], windows: [...windows, { windowId: null, currency: 'EUR', netMinor: 0n, transfers: 1 }] };
    expect(await store.append(latest, state)).toBe(true);
    expect(await store.latest()).toEqual({ n: latest + 1, state });
    const older = stateWith(1, 'older');
    expect(await store.append(latest + 1, older)).toBe(true);
    const read = await store.latest();
    expect(read?.state).toEqual(older);
    expect(read?.state.windows).toBeUndefined();
  });

  test('when two runs store the same next cut, then exactly one of them does', async () => {
    const latest = await store.latest();
    const after = latest?.n ?? 0;
    const outcomes = await Promise.all([store.append(after, stateWith(2, 'race-a')), store.append(after, stateWith(2, 'race-b'))]);
    expect(outcomes.filter(Boolean)).toHaveLength(1);
    const winner = outcomes[0] ? 'race-a' : 'race-b';
    expect((await store.latest())?.state.takenAt).toBe(winner);
    expect(await store.append(after, stateWith(2, 'late'))).toBe(false);
  });

  test('when old cuts are pruned, then their parts go and the newest still reads; a cut that lost parts is refused, not read in part', async () => {
    const parts = mongo.db('transfer_api').collection<{ _id: string }>('reconciliation_cut_parts');
    const headers = mongo.db('transfer_api').collection<{ _id: string; token: string }>('reconciliation_cuts');
    const headerId = (n: number) => `cut:${String(n).padStart(12, '0')}`;
    const partsOf = async (n: number) => parts.countDocuments({ _id: { $regex: `^${headerId(n)}:${(await headers.findOne({ _id: headerId(n) }))?.token ?? ''}:` } });
    const latest = await store.latest();
    const n = latest?.n ?? 0;
    expect(await partsOf(1)).toBe(5);
    await store.prune(n - 2);
    expect([await partsOf(1), await partsOf(n - 3), await partsOf(n - 2)]).toEqual([0, 0, 3]);
    expect((await store.latest())?.n).toBe(n);
    await parts.deleteOne({ _id: `${headerId(n)}:${(await headers.findOne({ _id: headerId(n) }))?.token ?? ''}:000001` });
    await expect(store.latest()).rejects.toBeInstanceOf(CutUnreadableError);
  });
});
