import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createReconciliationActivities, reconciliationNotConfiguredType } from '../../../activities/reconciliation-activities';
import { AccountServiceClient } from '../../../lib/clients/account-service-client';
import type { AccountView, EntryKind, LedgerEntryView } from '../../../lib/contracts/account-service-contract';
import { reconcile, type ReconciliationReport, type ReconciliationState } from '../../../lib/reconciliation/reconciliation';
import { CutUnreadableError, type ReconciliationCuts, type StoredCut } from '../../../lib/reconciliation/cut-store';
import { readForReconciliation, type PreviousCut, type ReadProgress } from '../../../lib/reconciliation/reader';
import type { TransferState, TransferStatus } from '../../../lib/contracts/transfer-contract';
import type { TransferHistory, TransferRecordReader, TransferStatusEntry } from '../../../lib/record/transfer-record';
import type { SettlementPolicy } from '../../../lib/contracts/settlement';

/** A bank's account service in memory, answering the three read routes reconciliation uses. */
class FakeBank {
  readonly chains = new Map<string, { view: AccountView; entries: LedgerEntryView[] }>();
  entryPagesServed = 0;

  constructor(readonly bankId: string) {}

  open(accountId: string, currency = 'EUR', overdraftLimitMinor = '0'): this {
    const view: AccountView = { accountId, bankId: this.bankId, owner: accountId, currency, status: 'ACTIVE', balanceMinor: '0', overdraftLimitMinor, dayDebitedMinor: '0', sequence: 0 };
    this.chains.set(accountId, { view, entries: [{ operationId: 'open', accountId, kind: 'open', amountMinor: '0', balanceAfterMinor: '0', sequence: 0, outcome: 'APPLIED', createdAt: new Date().toISOString() }] });
    return this;
  }

  append(accountId: string, operationId: string, kind: EntryKind, amountMinor: bigint, extras: Pick<LedgerEntryView, 'clearingAccountId' | 'windowId'> = {}): this {
    const chain = this.chains.get(accountId);
    if (!chain) throw new Error(`no account ${accountId}`);
    const balance = BigInt(chain.view.balanceMinor) + amountMinor;
    const sequence = chain.entries.length;
    chain.entries.push({ operationId, accountId, kind, amountMinor: String(amountMinor), balanceAfterMinor: String(balance), sequence, outcome: 'APPLIED', createdAt: new Date(Date.UTC(2025, 0, 1) + sequence * 1_000).toISOString(), ...extras });
    chain.view = { ...chain.view, balanceMinor: String(balance), sequence };
    return this;
  }

  answer(url: URL): { status: number; body: unknown } {
    const limit = Number(url.searchParams.get('limit') ?? '100');
    const after = url.searchParams.get('after');
    if (url.pathname === '/v1/accounts') {
      const ids = [...this.chains.keys()].sort().filter((id) => after === null || id > after);
      const page = ids.slice(0, limit).map((id) => this.chains.get(id)?.view);
      return { status: 200, body: { data: page, nextCursor: ids.length > limit ? (ids[limit - 1] ?? null) : null } };
    }
    const match = /^\/v1\/accounts\/([^/]+)(\/entries)?$/.exec(url.pathname);
    const chain = match ? this.chains.get(decodeURIComponent(match[1] ?? '')) : undefined;
    if (!match || !chain) return { status: 404, body: { error: { code: 'ACCOUNT_NOT_FOUND', message: 'no such account' } } };
    if (!match[2]) return { status: 200, body: chain.view };
    this.entryPagesServed += 1;
    const from = after === null ? 0 : Number(after) + 1;
    const data = chain.entries.slice(from, from + limit);
    return { status: 200, body: { data, nextCursor: from + limit < chain.entries.length ? String(from + limit - 1) : null } };
  }
}

function fetchOf(banks: readonly FakeBank[]): typeof fetch {
  return (async (input: string | URL | Request) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const bank = banks.find((candidate) => candidate.bankId === url.hostname);
    const { status, body } = bank ? bank.answer(url) : { status: 502, body: null };
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
}

const signingKey = { keyId: 'k', secret: 's' };
const clientsOf = (banks: readonly FakeBank[]) => banks.map((bank) => new AccountServiceClient({ bankId: bank.bankId, baseUrl: `http://${bank.bankId}`, signingKey, requestTimeoutMs: 1_000, fetch: fetchOf(banks) }));

const terminal: readonly TransferStatus[] = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'];

/**
 * The record in memory; `onRead` lets a test move the world on while the record is being read.
 * A transfer has one status (`statuses`) or a history of workflow runs (`write`, `histories`).
 */
class FakeRecord implements TransferRecordReader {
  readonly statuses = new Map<string, TransferStatus>();
  readonly histories = new Map<string, TransferStatusEntry[]>();
  /** How every transfer of this record settles (as the API fixes it when it records one); none: recorded before settlement. */
  settlement: SettlementPolicy | undefined;
  onRead: (transferId: string) => void = () => undefined;
  forgetFails = false;
  /** Runs as a transfer is about to be forgotten: a write that races the forgetting. */
  beforeForget: (transferId: string) => void = () => undefined;

  async history(transferId: string): Promise<TransferHistory | undefined> {
    this.onRead(transferId);
    const status = this.statuses.get(transferId);
    const request = { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'bob' }, amountMinor: '1', currency: 'EUR', reference: null };
    const record = { _id: transferId, client: 'c', fingerprint: 'f', request, createdAt: 'then', ...(this.settlement ? { settlement: this.settlement } : {}) };
    const entries = this.histories.get(transferId);
    if (entries) return { record, entries: [...entries] };
    if (status === undefined) return undefined;
    const state = { transferId, status, steps: [] } as unknown as TransferState;
    return { record, entries: [{ _id: `${transferId}:1`, n: 1, transferId, writer: { runId: 'r', changedAtMs: 1, revision: 1 }, state, recordedAt: 'then' }] };
  }

  /** Appends a status entry as TransferRecordStore.appendStatus does: after a final one, the transfer is reopened. */
  write(transferId: string, runId: string, changedAtMs: number, status: TransferStatus, approval: 'RUNNING' | 'SUCCEEDED' = 'SUCCEEDED'): void {
    const entries = this.histories.get(transferId) ?? [];
    const previous = entries.at(-1);
    const n = entries.length + 1;
    const state = { transferId, status, steps: [{ name: 'approval', status: approval, startedAt: 'then', attempts: 1 }] } as unknown as TransferState;
    entries.push({ _id: `${transferId}:${n}`, n, transferId, writer: { runId, changedAtMs, revision: n }, state, recordedAt: new Date(Date.UTC(2025, 1, 1) + n * 1_000).toISOString() });
    this.histories.set(transferId, entries);
    if (previous && terminal.includes(previous.state.status)) this.reopened.add(transferId);
  }

  readonly reopened = new Set<string>();

  async reopenedTransfers(): Promise<string[]> {
    return [...this.reopened];
  }

  async forgetReopened(transferId: string): Promise<void> {
    if (this.forgetFails) throw new Error('the record did not answer');
    this.beforeForget(transferId);
    this.reopened.delete(transferId);
  }
}

class MemoryCuts implements ReconciliationCuts {
  readonly cuts: ReconciliationState[] = [];
  unreadable = false;

  async latest(): Promise<StoredCut | undefined> {
    if (this.unreadable) throw new CutUnreadableError(this.cuts.length, `cut ${this.cuts.length} has lost its part 0`);
    const state = this.cuts.at(-1);
    return state ? { n: this.cuts.length, state: structuredClone(state) } : undefined;
  }

  async append(after: number, state: ReconciliationState): Promise<boolean> {
    if (after !== this.cuts.length) return false;
    this.cuts.push(structuredClone(state));
    return true;
  }

  async prune(): Promise<void> {}
}

function world() {
  const bankA = new FakeBank('bank-a').open('alice').append('alice', 'seed:deposit', 'deposit', 1_000n);
  const bankB = new FakeBank('bank-b').open('bob');
  return { bankA, bankB, banks: [bankA, bankB], record: new FakeRecord() };
}

async function reconcileOnce(banks: readonly FakeBank[], record: FakeRecord, previous: PreviousCut, onProgress?: (progress: ReadProgress) => void) {
  return reconcile({ ...(await readForReconciliation(clientsOf(banks), record, previous, onProgress)), reconciledAt: '2030-01-01T00:00:00.000Z' });
}

const kindsOf = (report: { discrepancies: Array<{ kind: string; transferId?: string }> }) => report.discrepancies.map((d) => `${d.kind}${d.transferId ? ` ${d.transferId}` : ''}`);

describe('reading for reconciliation', () => {
  test('when a transfer completes between the ledger read and the record read, then its target chain is read again and it is judged whole', async () => {
    const { bankA, bankB, banks, record } = world();
    bankA.append('alice', 't1:debit', 'debit', -300n);
    record.statuses.set('t1', 'DEBITED');
    record.onRead = (transferId) => {
      // The saga credits bob and records COMPLETED while reconciliation reads the record; t2 starts meanwhile.
      if (transferId !== 't1' || record.statuses.get('t1') === 'COMPLETED') return;
      bankB.append('bob', 't1:credit', 'credit', 300n);
      bankA.append('alice', 't2:debit', 'debit', -5n);
      bankB.append('bob', 't2:credit', 'credit', 5n);
      record.statuses.set('t1', 'COMPLETED');
      record.statuses.set('t2', 'COMPLETED');
    };
    const { report, state } = await reconcileOnce(banks, record, undefined);
    expect(kindsOf(report)).toEqual([]);
    // t2's entries were read after the record was: t2 waits for the next run.
    expect(report.transfers).toEqual({ seen: 2, completed: 1, reversed: 0, inFlight: 1 });
    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: '1000', balancesMinor: '1000', inFlightMinor: '0', holds: true }]);
    const next = await reconcileOnce(banks, record, { n: 1, state });
    expect(kindsOf(next.report)).toEqual([]);
    expect(next.report.transfers).toEqual({ seen: 2, completed: 2, reversed: 0, inFlight: 0 });
    expect(next.report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 0, entriesRead: 0 });
  });

  test('when entries follow the cut, then only they are read, a page at a time with progress after each page', async () => {
    const { bankA, bankB, banks, record } = world();
    const first = await reconcileOnce(banks, record, undefined);
    for (let index = 0; index < 1_200; index += 1) bankA.append('alice', `d${index}:deposit`, 'deposit', 1n);
    bankB.append('bob', 'd-b:deposit', 'deposit', 7n);
    const progress: ReadProgress[] = [];
    bankA.entryPagesServed = 0;
    const { report } = await reconcileOnce(banks, record, { n: 1, state: first.state }, (step) => progress.push(step));
    expect(report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 2, entriesRead: 1_201 });
    expect(report.conservation[0]).toMatchObject({ depositsMinor: '2207', balancesMinor: '2207', holds: true });
    // 1,200 entries after alice's mark, read from the marked entry on: 3 pages of 500.
    expect(bankA.entryPagesServed).toBe(3);
    expect(progress.filter((step) => step.phase === 'entries' && step.bankId === 'bank-a').map((step) => step.done)).toEqual([500, 1_000, 1_201]);
  });

  test('when a bank was reseeded with a chain shorter than the cut, then every chain is read again and the report says why', async () => {
    const { bankB, banks, record } = world();
    bankB.append('bob', 'd-b:deposit', 'deposit', 7n);
    const first = await reconcileOnce(banks, record, undefined);
    const reseeded = new FakeBank('bank-b').open('bob');
    const { report } = await reconcileOnce([banks[0] as FakeBank, reseeded], record, { n: 1, state: first.state });
    expect(report.read).toEqual({ fromCut: null, fullReadReason: 'chain bank-b/bob ends at 0, before the cut\'s 1 (a reseeded bank?)', accountsRead: 2, entriesRead: 3 });
    expect(kindsOf(report)).toEqual([]);
  });

  test('when a chain was rewritten under the same account, or the cut cannot be read, then the run reads every chain', async () => {
    const { bankB, banks, record } = world();
    bankB.append('bob', 'd-b:deposit', 'deposit', 7n);
    const first = await reconcileOnce(banks, record, undefined);
    const rewritten = new FakeBank('bank-b').open('bob').append('bob', 'other:deposit', 'deposit', 7n).append('bob', 'd-c:deposit', 'deposit', 1n);
    const { report } = await reconcileOnce([banks[0] as FakeBank, rewritten], record, { n: 1, state: first.state });
    expect(report.read.fullReadReason).toBe("chain bank-b/bob no longer holds the cut's entry 1 (d-b:deposit)");
    const lost = await reconcileOnce(banks, record, { n: 1, unreadable: 'cut 1 has lost its part 0' });
    expect(lost.report.read).toMatchObject({ fromCut: null, fullReadReason: 'cut 1 has lost its part 0' });
  });
});

describe('the reconciliation activity', () => {
  // The activity's own log lines (and the failure the last test expects) are noise here.
  const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  test('when it runs twice, then it stores a cut each time and the second reads only the new entries, judging from the record alone', async () => {
    const { bankA, bankB, banks, record } = world();
    bankA.append('alice', 't1:debit', 'debit', -10n);
    bankB.append('bob', 't1:credit', 'credit', 10n);
    record.statuses.set('t1', 'COMPLETED');
    const cuts = new MemoryCuts();
    const activities = createReconciliationActivities({ banks: banks.map((bank) => ({ bankId: bank.bankId, url: `http://${bank.bankId}` })), signingKey, requestTimeoutMs: 1_000, fetch: fetchOf(banks), reconciliation: { records: record, cuts } });
    const environment = quietEnvironment();
    const heartbeats: unknown[] = [];
    environment.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const first: ReconciliationReport = await environment.run(activities.reconcileLedgers, { requestedBy: 'test' });
    expect(first).toMatchObject({ discrepancyCount: 0, transfers: { completed: 1 }, read: { fromCut: null, fullReadReason: 'no earlier cut' } });
    bankA.append('alice', 'ghost:debit', 'debit', -1n);
    const second: ReconciliationReport = await environment.run(activities.reconcileLedgers, { requestedBy: 'test' });
    expect(second.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 1, entriesRead: 1 });
    expect(kindsOf(second).sort()).toEqual(['CONSERVATION', 'UNKNOWN_TRANSFER ghost']);
    expect(cuts.cuts).toHaveLength(2);
    expect(heartbeats.length).toBeGreaterThan(0);
    cuts.unreadable = true;
    const third: ReconciliationReport = await environment.run(activities.reconcileLedgers, { requestedBy: 'test' });
    expect(third.read).toMatchObject({ fromCut: null, fullReadReason: 'cut 2 has lost its part 0' });
    expect(kindsOf(third).sort()).toEqual(['CONSERVATION', 'UNKNOWN_TRANSFER ghost']);
  });

  test('when the worker has no transfer record, then a run fails without retrying', async () => {
    const activities = createReconciliationActivities({ banks: [], signingKey, requestTimeoutMs: 1_000 });
    await expect(quietEnvironment().run(activities.reconcileLedgers, { requestedBy: 'test' })).rejects.toMatchObject({ type: reconciliationNotConfiguredType, nonRetryable: true });
  });
});

describe('transfers the record reopened after they ended', () => {
  const quietEnvironment = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

  /** t1 moved 10 from alice to bob and its first run recorded it approved and COMPLETED; a first reconciliation judged it. */
  async function judgedCompleted() {
    const { bankA, bankB, banks, record } = world();
    bankA.append('alice', 't1:debit', 'debit', -10n);
    bankB.append('bob', 't1:credit', 'credit', 10n);
    record.write('t1', 'run-1', 1, 'AWAITING_APPROVAL', 'RUNNING');
    record.write('t1', 'run-1', 1, 'DEBITED');
    record.write('t1', 'run-1', 1, 'COMPLETED');
    const cuts = new MemoryCuts();
    const activities = createReconciliationActivities({ banks: banks.map((bank) => ({ bankId: bank.bankId, url: `http://${bank.bankId}` })), signingKey, requestTimeoutMs: 1_000, fetch: fetchOf(banks), reconciliation: { records: record, cuts } });
    const environment = quietEnvironment();
    const reconcileNow = (): Promise<ReconciliationReport> => environment.run(activities.reconcileLedgers, { requestedBy: 'test' });
    const first = await reconcileNow();
    expect(first).toMatchObject({ discrepancyCount: 0, transfers: { seen: 1, completed: 1, inFlight: 0 } });
    return { record, cuts, reconcileNow };
  }

  test('when a reset re-runs the approval of a COMPLETED transfer, then APPROVAL_REPEATED is reported once over the run that sees it in flight and the run that sees it end', async () => {
    const { record, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'AWAITING_APPROVAL', 'RUNNING');
    expect(record.reopened).toEqual(new Set(['t1']));
    const awaiting = await reconcileNow();
    expect(kindsOf(awaiting)).toEqual(['APPROVAL_REPEATED t1']);
    expect(awaiting.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 0, entriesRead: 0 });
    // Not final again: it stays in the set for the next run.
    expect(record.reopened).toEqual(new Set(['t1']));
    record.write('t1', 'run-2', 2, 'DEBITED');
    record.write('t1', 'run-2', 2, 'COMPLETED');
    const ended = await reconcileNow();
    expect(kindsOf(ended)).toEqual(['APPROVAL_REPEATED t1']);
    expect(ended.discrepancyCount).toBe(1);
    expect(ended.transfers).toEqual({ seen: 1, completed: 1, reversed: 0, inFlight: 0 });
    expect(record.reopened.size).toBe(0);
    expect((await reconcileNow()).discrepancyCount).toBe(1);
  });

  test('when a reset run ends REFUNDED a transfer whose legs are a debit and its credit, then STATUS_CONTRADICTS_LEDGER names it, once', async () => {
    const { record, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'REFUNDED');
    const report = await reconcileNow();
    expect(report.discrepancies).toEqual([
      { kind: 'STATUS_CONTRADICTS_LEDGER', transferId: 't1', bankId: 'bank-b', accountId: 'bob', detail: 'a later workflow run recorded REFUNDED, the ledgers hold a debit and its credit (judged when it was COMPLETED)' },
    ]);
    // What the money did is unchanged: the transfer still counts as completed.
    expect(report.transfers).toEqual({ seen: 1, completed: 1, reversed: 0, inFlight: 0 });
    expect(record.reopened.size).toBe(0);
    const next = await reconcileNow();
    expect(kindsOf(next)).toEqual(['STATUS_CONTRADICTS_LEDGER t1']);
    expect(next.discrepancyCount).toBe(1);
  });

  test('when a reset run ends COMPLETED again, then nothing is reported and the transfer leaves the reopened set', async () => {
    const { record, cuts, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'DEBITED');
    record.write('t1', 'run-2', 2, 'COMPLETED');
    expect(record.reopened).toEqual(new Set(['t1']));
    const report = await reconcileNow();
    expect(report.discrepancyCount).toBe(0);
    expect(record.reopened.size).toBe(0);
    expect(cuts.cuts.at(-1)?.reopened).toEqual([{ transferId: 't1', entries: 5, final: true, approvalRepeatedReported: false }]);
    // The run after reads its history once more, finds no write since, and lets it go.
    expect((await reconcileNow()).discrepancyCount).toBe(0);
    expect(cuts.cuts.at(-1)?.reopened).toEqual([]);
  });

  test('when a reset run is still in flight, then nothing is reported and the transfer stays in the reopened set', async () => {
    const { record, cuts, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'DEBITED');
    expect((await reconcileNow()).discrepancyCount).toBe(0);
    expect((await reconcileNow()).discrepancyCount).toBe(0);
    expect(record.reopened).toEqual(new Set(['t1']));
    expect(cuts.cuts.at(-1)?.reopened).toEqual([{ transferId: 't1', entries: 4, final: false, approvalRepeatedReported: false }]);
  });

  test('when the transfer cannot be forgotten after the cut is stored, then the next run forgets it without reporting it again', async () => {
    const { record, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'REFUNDED');
    record.forgetFails = true;
    expect((await reconcileNow()).discrepancyCount).toBe(1);
    expect(record.reopened).toEqual(new Set(['t1']));
    record.forgetFails = false;
    const next = await reconcileNow();
    expect(kindsOf(next)).toEqual(['STATUS_CONTRADICTS_LEDGER t1']);
    expect(next.discrepancyCount).toBe(1);
    expect(record.reopened.size).toBe(0);
  });

  test('when a run writes again between the reading and the forgetting, then the next run judges the transfer again', async () => {
    const { record, reconcileNow } = await judgedCompleted();
    record.write('t1', 'run-2', 2, 'COMPLETED');
    // The write lands while the reopened entry is still there (so it adds nothing), and is then forgotten with it.
    record.beforeForget = () => record.write('t1', 'run-3', 3, 'CANCELLED');
    expect((await reconcileNow()).discrepancyCount).toBe(0);
    expect(record.reopened.size).toBe(0);
    record.beforeForget = () => undefined;
    const next = await reconcileNow();
    expect(next.discrepancies).toEqual([
      { kind: 'STATUS_CONTRADICTS_LEDGER', transferId: 't1', bankId: 'bank-b', accountId: 'bob', detail: 'a later workflow run recorded CANCELLED, the ledgers hold a debit and its credit (judged when it was COMPLETED)' },
    ]);
  });
});

/** A settlement bank with both participants' positions (cap 1000), marked with the first window. */
function settlementWorld() {
  const { bankA, bankB, record } = world();
  record.settlement = { model: 'deferred-net', bankId: 'settlement' };
  const settlement = new FakeBank('settlement').open('position.bank-a.EUR', 'EUR', '1000').open('position.bank-b.EUR', 'EUR', '1000').open('reserve.bank-a.EUR');
  for (const accountId of ['position.bank-a.EUR', 'position.bank-b.EUR']) settlement.append(accountId, 'w-000001:window', 'window', 0n, { windowId: 'w-000001' });
  settlement.append('reserve.bank-a.EUR', 'opening-reserve:deposit', 'deposit', 5_000n);
  return { bankA, bankB, settlement, record, all: [bankA, bankB, settlement] };
}

const cleared = { clearingAccountId: 'clearing.EUR' };
const inW1 = { windowId: 'w-000001' };

async function reconcileWithSettlement(all: readonly FakeBank[], record: FakeRecord, previous: PreviousCut) {
  const clients = clientsOf(all);
  const settlementBank = clients.find((client) => client.bankId === 'settlement');
  const read = await readForReconciliation(clients.filter((client) => client !== settlementBank), record, previous, undefined, settlementBank ? { settlementBank } : {});
  return reconcile({ ...read, reconciledAt: '2030-01-01T00:00:00.000Z' });
}

describe('reading the settlement bank with the banks', () => {
  test('when the settlement bank is read, then it is listed and marked like a bank, judged apart, and the next run reads on from its marks', async () => {
    const { bankA, bankB, settlement, record, all } = settlementWorld();
    bankA.append('alice', 't1:debit', 'debit', -200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:debit', 'clearing', 200n);
    settlement.append('position.bank-a.EUR', 't1:debit', 'debit', -200n, inW1).append('position.bank-b.EUR', 't1:credit', 'credit', 200n, inW1);
    bankB.append('bob', 't1:credit', 'credit', 200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:credit', 'clearing', -200n);
    record.statuses.set('t1', 'COMPLETED');
    const first = await reconcileWithSettlement(all, record, undefined);
    expect(kindsOf(first.report)).toEqual([]);
    expect(first.report).toMatchObject({ banks: ['bank-a', 'bank-b'], settlementBank: 'settlement', conservation: [{ currency: 'EUR', depositsMinor: '1000', balancesMinor: '1000', holds: true }] });
    expect(first.report.clearing.map((row) => [row.bankId, row.clearingMinor, row.settlementMinor, row.holds])).toEqual([['bank-a', '200', '-200', true], ['bank-b', '-200', '200', true]]);
    expect(first.report.windows).toEqual([{ windowId: 'w-000001', currency: 'EUR', netMinor: '0', transfers: 1, inFlight: 0 }]);
    expect(first.state.accounts.filter((mark) => mark.bankId === 'settlement').map((mark) => mark.accountId)).toEqual(['position.bank-a.EUR', 'position.bank-b.EUR', 'reserve.bank-a.EUR']);
    const second = await reconcileWithSettlement(all, record, { n: 1, state: first.state });
    expect(second.report.read).toEqual({ fromCut: 1, fullReadReason: null, accountsRead: 0, entriesRead: 0 });
    expect({ ...second.report, read: undefined }).toEqual({ ...first.report, read: undefined });
  });

  test("when a transfer completes while the record is read, then the receiving bank's clearing account (opened after the listing) and the settlement credit are read too, and it is judged whole", async () => {
    const { bankA, bankB, settlement, record, all } = settlementWorld();
    bankA.append('alice', 't1:debit', 'debit', -200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:debit', 'clearing', 200n);
    settlement.append('position.bank-a.EUR', 't1:debit', 'debit', -200n, inW1);
    record.statuses.set('t1', 'DEBITED');
    record.onRead = (transferId) => {
      if (transferId !== 't1' || record.statuses.get('t1') === 'COMPLETED') return;
      bankB.append('bob', 't1:credit', 'credit', 200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:credit', 'clearing', -200n);
      settlement.append('position.bank-b.EUR', 't1:credit', 'credit', 200n, inW1);
      record.statuses.set('t1', 'COMPLETED');
    };
    const { report, state } = await reconcileWithSettlement(all, record, undefined);
    expect(kindsOf(report)).toEqual([]);
    expect(report.transfers).toMatchObject({ completed: 1, inFlight: 0 });
    expect(report.clearing.find((row) => row.bankId === 'bank-b')).toMatchObject({ clearingMinor: '-200', settlementMinor: '200', holds: true });
    expect(state.accounts.some((mark) => mark.bankId === 'bank-b' && mark.accountId === 'clearing.EUR' && mark.sequence === 1)).toBe(true);
  });

  test('when the cut did not read the settlement bank, then a run that reads it reads every chain from its start, and finds nothing', async () => {
    const { bankA, bankB, settlement, record, all } = settlementWorld();
    bankA.append('alice', 't1:debit', 'debit', -200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:debit', 'clearing', 200n);
    settlement.append('position.bank-a.EUR', 't1:debit', 'debit', -200n, inW1).append('position.bank-b.EUR', 't1:credit', 'credit', 200n, inW1);
    bankB.append('bob', 't1:credit', 'credit', 200n, cleared).open('clearing.EUR').append('clearing.EUR', 't1:credit', 'clearing', -200n);
    record.statuses.set('t1', 'COMPLETED');
    const withoutSettlement = await reconcileWithSettlement([bankA, bankB], record, undefined);
    expect(kindsOf(withoutSettlement.report)).toEqual([]);
    const next = await reconcileWithSettlement(all, record, { n: 1, state: withoutSettlement.state });
    expect(next.report.read).toMatchObject({ fromCut: null, fullReadReason: 'the cut did not read the settlement bank settlement' });
    expect(kindsOf(next.report)).toEqual([]);
  });
});
