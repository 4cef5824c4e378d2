import type { Db } from 'mongodb';
import { Registry } from 'prom-client';
import { createLedgerMetrics, type LedgerMetrics } from '../../../services/account-service/ledger/ledger-metrics';
import { decide } from '../../../services/account-service/ledger/decide';
import { Ledger, groupCommitDefaults, ledgerBoundsDefaults, type LedgerBounds } from '../../../services/account-service/ledger/ledger';
import { LedgerStore } from '../../../services/account-service/ledger/ledger-store';
import type { EntryDocument, PointerDocument } from '../../../services/account-service/ledger/model';
import { openAccount } from '../../../services/account-service/use-cases/accounts';
import { debit, refund } from '../../../services/account-service/use-cases/ledger-operations';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';
import { startLedgerDatabase } from '../../support/ledger-database';
import { chainOf, expectValidChain } from '../../support/ledger-chain';

jest.setTimeout(180_000);

/** A store that records every batch it appends and can run a hook first, to stage races. */
class ObservedStore extends LedgerStore {
  readonly batchSizes: number[] = [];
  /** Entries and pointers read, one by one. */
  reads = 0;
  beforeAppend: ((entries: readonly EntryDocument[]) => Promise<void>) | undefined;

  override async findEntry(accountId: string, seq: number): Promise<EntryDocument | null> {
    this.reads += 1;
    return super.findEntry(accountId, seq);
  }

  override async findPointer(accountId: string, operationId: string): Promise<PointerDocument | null> {
    this.reads += 1;
    return super.findPointer(accountId, operationId);
  }

  override async appendEntries(entries: readonly EntryDocument[]): Promise<number> {
    this.batchSizes.push(entries.length);
    const hook = this.beforeAppend;
    this.beforeAppend = undefined;
    if (hook) await hook(entries);
    return super.appendEntries(entries);
  }
}


describe('group commit: batches of operations decided from one head', () => {
  let db: Db;
  let cleanup: () => Promise<void>;
  let accounts = 0;

  beforeAll(async () => {
    const database = await startLedgerDatabase('group-commit');
    db = database.db;
    cleanup = database.stop;
  });

  afterAll(async () => {
    await cleanup?.();
  });

  /** A ledger as one service process would hold it: its own caches and queues, on the shared database. */
  function ledgerProcess(lingerMs: number, bounds: LedgerBounds = ledgerBoundsDefaults, optimistic = groupCommitDefaults.optimistic): { ledger: Ledger; store: ObservedStore; metrics: LedgerMetrics; registry: Registry } {
    const store = new ObservedStore(db);
    const registry = new Registry();
    const metrics = createLedgerMetrics(registry);
    return { store, metrics, registry, ledger: new Ledger(store, () => new Date(), metrics, { ...groupCommitDefaults, batchLingerMs: lingerMs, optimistic }, undefined, bounds) };
  }

  async function fundedAccount(ledger: Ledger, store: LedgerStore, funds: bigint): Promise<string> {
    accounts += 1;
    const accountId = `gc-${accounts}`;
    await openAccount(store, ledger, 'bank-a', { accountId, owner: 'x', currency: 'EUR', overdraftLimitMinor: 0n }, new Date());
    await ledger.apply(accountId, { operationId: `seed-${accountId}:deposit`, kind: 'deposit', amountMinor: funds, currency: 'EUR' });
    return accountId;
  }

  const debitRequest = (accountId: string, id: string, amountMinor = 10n) => ({ accountId, id, amountMinor, currency: 'EUR' });

  test('when more accounts are touched than the caches hold, then the oldest are evicted, each comes back from the database, and no queue outlives its operations', async () => {
    const { ledger, store, registry } = ledgerProcess(0, { accountsCachedMax: 2, headsCachedMax: 2, queuedPerAccountMax: 1_000 });
    const ids: string[] = [];
    for (let n = 0; n < 5; n += 1) ids.push(await fundedAccount(ledger, store, 1_000n));
    // Three rounds over five accounts in turn through caches of two: every debit misses, so every head is found again from its hint.
    for (let round = 0; round < 3; round += 1) {
      for (const accountId of ids) expect((await debit(ledger, debitRequest(accountId, `evict-${round}`))).entry.outcome).toBe('APPLIED');
    }
    for (const accountId of ids) {
      const chain = await chainOf(db, accountId);
      expectValidChain(chain);
      expect([chain.length, chain.at(-1)?.balanceAfterMinor]).toEqual([5, 970n]);
    }
    const counters = Object.fromEntries((await registry.getMetricsAsJSON()).flatMap((metric) => metric.values.map((value) => [`${metric.name}{${Object.values(value.labels).join(',')}}`, value.value])));
    expect(counters['ledger_cache_evictions_total{heads}']).toBeGreaterThanOrEqual(15);
    expect(counters['ledger_cache_lookups_total{heads,miss}']).toBeGreaterThanOrEqual(15);
    expect(ledger.accountsQueued).toBe(0);
  });

  test('when the same operation comes twice in one batch, then it is decided once and both get that entry', async () => {
    const { ledger, store } = ledgerProcess(50);
    const accountId = await fundedAccount(ledger, store, 1_000n);
    store.batchSizes.length = 0;
    const [first, second, other] = await Promise.all([debit(ledger, debitRequest(accountId, 'dup')), debit(ledger, debitRequest(accountId, 'dup')), debit(ledger, debitRequest(accountId, 'other'))]);
    expect(store.batchSizes).toEqual([2]);
    expect(second.entry).toEqual(first.entry);
    expect(other.entry.seq).not.toBe(first.entry.seq);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.filter((entry) => entry.operationId === 'dup:debit')).toHaveLength(1);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(980n);
  });

  test('when a refund and its debit land in one batch, then the debit slot is decided once and the money is where it started', async () => {
    const { ledger, store } = ledgerProcess(50);
    const accountId = await fundedAccount(ledger, store, 1_000n);
    const [debited, refunded] = await Promise.all([debit(ledger, debitRequest(accountId, 'pair', 300n)), refund(ledger, accountId, 'pair')]);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.filter((entry) => entry.operationId === 'pair:debit')).toHaveLength(1);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(1_000n);
    // Either the void won the slot (the debit is refused) or the debit won (and the refund reversed it).
    if (refunded.kind === 'void') expect(debited.refusal).toBe('TRANSFER_VOIDED');
    else expect([debited.entry.outcome, refunded.kind, refunded.amountMinor]).toEqual(['APPLIED', 'refund', 300n]);
  });

  test('when another process takes a sequence in the middle of a batch, then the prefix stands and the rest is decided again after it', async () => {
    const { ledger, store, metrics } = ledgerProcess(50);
    const accountId = await fundedAccount(ledger, store, 1_000n);
    const account = await ledger.account(accountId);
    store.beforeAppend = async (entries) => {
      // Another writer decides its own operation right after the batch's second entry.
      const intruder = decide(account, entries[1] as EntryDocument, { operationId: 'intruder:deposit', kind: 'deposit', amountMinor: 5n, currency: 'EUR' }, new Date().toISOString());
      await db.collection<EntryDocument>('entries').insertOne(intruder);
    };
    store.batchSizes.length = 0;
    const decisions = await Promise.all(['b1', 'b2', 'b3', 'b4', 'b5'].map((id) => debit(ledger, debitRequest(accountId, id))));
    expect(store.batchSizes).toEqual([5, 3]);
    expect(decisions.every((decision) => decision.entry.outcome === 'APPLIED')).toBe(true);
    expect((await metrics.sequenceConflicts.get()).values[0]?.value).toBe(1);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.slice(-6).map((entry) => entry.operationId)).toEqual(['b1:debit', 'b2:debit', 'intruder:deposit', 'b3:debit', 'b4:debit', 'b5:debit']);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(1_000n - 50n + 5n);
  });

  test('when an operation of the batch was decided before but its pointer was lost, then the batch stops there and answers it from its first decision', async () => {
    const { ledger, store } = ledgerProcess(50);
    const accountId = await fundedAccount(ledger, store, 1_000n);
    const account = await ledger.account(accountId);
    const head = await ledger.head(account);
    // As if a process crashed between inserting c's entry and writing its pointer.
    const earlier = decide(account, head, { operationId: 'c:debit', kind: 'debit', amountMinor: 10n, currency: 'EUR' }, new Date().toISOString());
    await db.collection<EntryDocument>('entries').insertOne(earlier);
    const decisions = await Promise.all(['a', 'b', 'c', 'd'].map((id) => debit(ledger, debitRequest(accountId, id))));
    expect(decisions[2]?.entry.seq).toBe(earlier.seq);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.filter((entry) => entry.operationId === 'c:debit')).toHaveLength(1);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(960n);
  });

  test.each([
    ['on', 0],
    ['off', 2],
  ])('when optimistic decisions are %s and a new debit comes to an account whose head is cached, then it reads %d entries or pointers before its insert', async (mode, reads) => {
    const { ledger, store } = ledgerProcess(0, ledgerBoundsDefaults, mode === 'on');
    const accountId = await fundedAccount(ledger, store, 100n);
    store.reads = 0;
    expect((await debit(ledger, debitRequest(accountId, `warm-${mode}`))).entry.outcome).toBe('APPLIED');
    expect(store.reads).toBe(reads);
    expect((await chainOf(db, accountId)).at(-1)?.balanceAfterMinor).toBe(90n);
  });

  test('when another process debited an account whose head this process holds, then the optimistic attempt is refused by the seq and the debit is decided from the balance the other left', async () => {
    const one = ledgerProcess(0);
    const two = ledgerProcess(0);
    const accountId = await fundedAccount(one.ledger, one.store, 100n);
    expect((await debit(one.ledger, debitRequest(accountId, 'stale-warm', 10n))).entry.outcome).toBe('APPLIED');
    for (const n of [1, 2, 3]) expect((await debit(two.ledger, debitRequest(accountId, `stale-other-${n}`, 25n))).entry.outcome).toBe('APPLIED');
    one.store.batchSizes.length = 0;
    // Process one still holds the head at 90; the chain stands at 15.
    const late = await debit(one.ledger, debitRequest(accountId, 'stale-late', 20n));
    expect(late.refusal).toBe('INSUFFICIENT_FUNDS');
    expect(one.store.batchSizes).toEqual([1, 1]);
    expect((await one.metrics.sequenceConflicts.get()).values[0]?.value).toBe(1);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.slice(-4).map((entry) => entry.operationId)).toEqual(['stale-other-1:debit', 'stale-other-2:debit', 'stale-other-3:debit', 'stale-late:debit']);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(15n);
  });

  test('when an applied debit is asked again in a later batch, then the optimistic attempt is refused by the operation index and the first decision answers; the money moves once', async () => {
    const { ledger, store, metrics } = ledgerProcess(0);
    const accountId = await fundedAccount(ledger, store, 100n);
    const first = await debit(ledger, debitRequest(accountId, 'again', 60n));
    store.batchSizes.length = 0;
    const again = await debit(ledger, debitRequest(accountId, 'again', 60n));
    expect(again.entry).toEqual(first.entry);
    // One insert, refused; nothing decided again.
    expect(store.batchSizes).toEqual([1]);
    expect((await metrics.duplicates.get()).values.find((value) => value.labels.kind === 'debit')?.value).toBe(1);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.filter((entry) => entry.operationId === 'again:debit')).toHaveLength(1);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(40n);
  });

  test('when two processes race on one account with shared and distinct operations, then every operation is decided once and funds are never exceeded', async () => {
    const one = ledgerProcess(5);
    const two = ledgerProcess(5);
    const accountId = await fundedAccount(one.ledger, one.store, 600n);
    const requests = Array.from({ length: 100 }, (_, n) => n);
    const results = await Promise.all([
      ...requests.map((n) => debit(one.ledger, debitRequest(accountId, `race-${n}`))),
      ...requests.map((n) => debit(two.ledger, debitRequest(accountId, `race-${n % 2 === 0 ? n : n + 1000}`))),
    ]);
    const applied = new Set(results.filter((result) => result.entry.outcome === 'APPLIED').map((result) => result.entry.operationId));
    expect(applied.size).toBe(60);
    const chain = await chainOf(db, accountId);
    expectValidChain(chain);
    expect(chain.every((entry) => entry.balanceAfterMinor >= 0n)).toBe(true);
    expect(chain.at(-1)?.balanceAfterMinor).toBe(0n);
  });
});

describe('two account-service processes on one database', () => {
  let bank: AccountServiceFixture;
  let second: { call: AccountServiceFixture['call'] };

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-two-processes');
    second = await bank.startSecondProcess();
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'shared', owner: 'Shared', currency: 'EUR' })).status).toBe(201);
    expect((await second.call('POST', '/v1/accounts/shared/deposits', { depositId: 'seed', amountMinor: '500', currency: 'EUR' })).status).toBe(200);
  });

  afterAll(async () => {
    await bank?.stop();
  });

  test('when 200 different debits against funds for 50 and 50 identical ones are split over both processes, then each takes effect once', async () => {
    const callers = [bank.call, second.call];
    const answers = await Promise.all([
      ...Array.from({ length: 200 }, (_, n) => (callers[n % 2] as AccountServiceFixture['call'])('POST', '/v1/accounts/shared/debits', { transferId: `two-${n}`, amountMinor: '10', currency: 'EUR' })),
      ...Array.from({ length: 50 }, (_, n) => (callers[n % 2] as AccountServiceFixture['call'])('POST', '/v1/accounts/shared/credits', { transferId: 'two-same', amountMinor: '7', currency: 'EUR' })),
    ]);
    const debits = answers.slice(0, 200);
    const credits = answers.slice(200);
    expect(debits.filter((answer) => answer.status === 200)).toHaveLength(50);
    expect(new Set(credits.map((answer) => JSON.stringify(answer))).size).toBe(1);
    const account = (await second.call('GET', '/v1/accounts/shared')).body as { balanceMinor: string };
    expect(account.balanceMinor).toBe('7');
    const entries = ((await bank.call('GET', '/v1/accounts/shared/entries?limit=500')).body as { data: Array<{ operationId: string }> }).data;
    expect(new Set(entries.map((entry) => entry.operationId)).size).toBe(entries.length);
  });
});
