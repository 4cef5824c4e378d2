import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import { Registry } from 'prom-client';
import { decide } from '../../../services/account-service/ledger/decide';
import { createLedgerMetrics, type LedgerMetrics } from '../../../services/account-service/ledger/ledger-metrics';
import { Ledger, groupCommitDefaults } from '../../../services/account-service/ledger/ledger';
import { LedgerStore } from '../../../services/account-service/ledger/ledger-store';
import { pointerId, type EntryDocument } from '../../../services/account-service/ledger/model';
import { openAccount } from '../../../services/account-service/use-cases/accounts';
import { debit, type Decision } from '../../../services/account-service/use-cases/ledger-operations';
import { startLedgerDatabase } from '../../support/ledger-database';
import { chainOf, expectValidChain } from '../../support/ledger-chain';

jest.setTimeout(180_000);

/** Every operation of an account lingers this long in its queue, so that an account's two debits share one batch. */
const lingerMs = 20;

/**
 * A store whose next append can be held: the write waits, and the batches other accounts decide
 * meanwhile queue behind it for the next one. It can also stage a race just before an append, or
 * lose a pointers write as a process killed between the two inserts would.
 */
class HeldStore extends LedgerStore {
  appendCalls = 0;
  beforeAppend: ((entries: readonly EntryDocument[]) => Promise<void>) | undefined;
  /** The pointers write these entries are chosen by is lost, once. */
  losePointersOf: ((entries: readonly EntryDocument[]) => boolean) | undefined;
  private held: Promise<void> | undefined;
  private release: (() => void) | undefined;

  hold(): () => void {
    this.held = new Promise((resolve) => (this.release = resolve));
    return () => this.release?.();
  }

  override async appendEntries(entries: readonly EntryDocument[]): Promise<number> {
    this.appendCalls += 1;
    // Both taken as the call starts: a hook set while a write is held is for the next write.
    const held = this.held;
    this.held = undefined;
    const hook = this.beforeAppend;
    this.beforeAppend = undefined;
    if (held) await held;
    if (hook) await hook(entries);
    return super.appendEntries(entries);
  }

  override async writePointers(entries: readonly EntryDocument[]): Promise<void> {
    if (this.losePointersOf?.(entries)) {
      this.losePointersOf = undefined;
      throw new Error('the pointers write was lost (as if the process died between the two inserts)');
    }
    return super.writePointers(entries);
  }
}

/** What the driver sent: inserts with their documents, finds with their filters. */
class Wire {
  readonly inserts: Array<{ collection: string; documents: Document[] }> = [];
  readonly finds: Array<{ collection: string; filter: Document }> = [];

  constructor(mongo: MongoClient) {
    mongo.on('commandStarted', (event: CommandStartedEvent) => {
      const collection = String(event.command[event.commandName] ?? '');
      if (event.commandName === 'insert') this.inserts.push({ collection, documents: event.command.documents as Document[] });
      if (event.commandName === 'find') this.finds.push({ collection, filter: event.command.filter as Document });
    });
  }

  clear(): void {
    this.inserts.length = 0;
    this.finds.length = 0;
  }

  /** Documents of each insert into a collection, in order. */
  insertSizes(collection: string): number[] {
    return this.inserts.filter((insert) => insert.collection === collection).map((insert) => insert.documents.length);
  }
}


describe('cross-account commit: the decided batches of many accounts appended together', () => {
  let db: Db;
  let wire: Wire;
  let cleanup: () => Promise<void>;
  let opened = 0;

  beforeAll(async () => {
    const database = await startLedgerDatabase('cross-account-commit', { monitorCommands: true });
    wire = new Wire(database.mongo);
    db = database.db;
    cleanup = database.stop;
  });

  afterAll(async () => {
    await cleanup?.();
  });

  function ledgerProcess(crossAccount = true): { ledger: Ledger; store: HeldStore; metrics: LedgerMetrics } {
    const store = new HeldStore(db);
    const metrics = createLedgerMetrics(new Registry());
    return { store, metrics, ledger: new Ledger(store, () => new Date(), metrics, { ...groupCommitDefaults, batchLingerMs: lingerMs, crossAccount }) };
  }

  /** `count` new accounts holding 1,000 each, opened and funded one at a time before anything is watched. */
  async function fundedAccounts(ledger: Ledger, store: LedgerStore, count: number): Promise<string[]> {
    const ids: string[] = [];
    for (let n = 0; n < count; n += 1) {
      opened += 1;
      const accountId = `xa-${opened}`;
      await openAccount(store, ledger, 'bank-a', { accountId, owner: 'x', currency: 'EUR', overdraftLimitMinor: 0n }, new Date());
      await ledger.apply(accountId, { operationId: `seed-${accountId}:deposit`, kind: 'deposit', amountMinor: 1_000n, currency: 'EUR' });
      ids.push(accountId);
    }
    return ids;
  }

  const debitOf = (ledger: Ledger, accountId: string, id: string): Promise<Decision> => debit(ledger, { accountId, id, amountMinor: 10n, currency: 'EUR' });

  /**
   * Holds a write of one account's debit, so that the debits `requests` starts on other accounts are
   * all decided while it waits, then lets it go: the runs of all of them go into the next write.
   */
  async function behindAHeldWrite<T>(ledger: Ledger, store: HeldStore, requests: () => Array<Promise<T>>, runs: number): Promise<T[]> {
    const [blocker] = await fundedAccounts(ledger, store, 1);
    wire.clear();
    const release = store.hold();
    const calls = store.appendCalls;
    const held = debitOf(ledger, blocker as string, 'blocker');
    while (store.appendCalls === calls) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = requests();
    const deadline = Date.now() + 30_000;
    while (ledger.runsAwaitingWrite < runs) {
      if (Date.now() > deadline) throw new Error(`only ${ledger.runsAwaitingWrite} of ${runs} accounts' runs were decided`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    release();
    expect((await held).entry.outcome).toBe('APPLIED');
    return Promise.all(started);
  }

  test('when debits on twenty accounts are decided together, then their entries are appended with one insert and their pointers with one more, and every balance is exact', async () => {
    const { ledger, store } = ledgerProcess();
    const ids = await fundedAccounts(ledger, store, 20);
    const decisions = await behindAHeldWrite(ledger, store, () => [...ids.flatMap((accountId) => [debitOf(ledger, accountId, 'one'), debitOf(ledger, accountId, 'two')]), debitOf(ledger, ids[0] as string, 'one')], ids.length);
    // The held write (one entry), then one write for all twenty accounts' batches of two.
    expect(wire.insertSizes('entries')).toEqual([1, 40]);
    expect(wire.insertSizes('pointers')).toEqual([1, 40]);
    expect(decisions.every((decision) => decision.entry.outcome === 'APPLIED')).toBe(true);
    expect(decisions.at(-1)?.entry).toEqual(decisions[0]?.entry);
    for (const accountId of ids) {
      const chain = await chainOf(db, accountId);
      expectValidChain(chain);
      expect(chain.map((entry) => entry.operationId)).toEqual(['open', `seed-${accountId}:deposit`, 'one:debit', 'two:debit']);
      expect(chain.at(-1)?.balanceAfterMinor).toBe(980n);
    }
  });

  test('when another process wrote the next seq of one account in the middle of a write, then the accounts before it stand, the ones behind it are written as decided, and only that account is decided again', async () => {
    const { ledger, store, metrics } = ledgerProcess();
    const ids = await fundedAccounts(ledger, store, 20);
    let victim = '';
    const intrude = async (entries: readonly EntryDocument[]): Promise<void> => {
      // Another process decides a deposit at the seq of the eleventh run's first entry.
      const blocked = entries[20] as EntryDocument;
      victim = blocked.accountId;
      const account = await store.findAccount(victim);
      const head = await store.findEntry(victim, blocked.seq - 1);
      if (!account || !head) throw new Error(`no account or head for ${victim}`);
      await db.collection<EntryDocument>('entries').insertOne(decide(account, head, { operationId: 'intruder:deposit', kind: 'deposit', amountMinor: 5n, currency: 'EUR' }, new Date().toISOString()));
    };
    const requests = (): Array<Promise<Decision>> => {
      store.beforeAppend = intrude;
      return ids.flatMap((accountId) => [debitOf(ledger, accountId, 'one'), debitOf(ledger, accountId, 'two')]);
    };
    const decisions = await behindAHeldWrite(ledger, store, requests, ids.length);

    expect(decisions.every((decision) => decision.entry.outcome === 'APPLIED')).toBe(true);
    expect((await metrics.sequenceConflicts.get()).values[0]?.value).toBe(1);
    // The held write, the intruder's, the write of all twenty (which stops at the victim's batch), then the rest.
    const [held, intruder, all, ...rest] = wire.insertSizes('entries');
    expect([held, intruder, all]).toEqual([1, 1, 40]);
    expect(rest.reduce((sum, size) => sum + size, 0)).toBe(9 * 2 + 2);
    for (const accountId of ids) {
      const chain = await chainOf(db, accountId);
      expectValidChain(chain);
      const expected = accountId === victim ? ['intruder:deposit', 'one:debit', 'two:debit'] : ['one:debit', 'two:debit'];
      expect({ accountId, operations: chain.slice(2).map((entry) => entry.operationId) }).toEqual({ accountId, operations: expected });
      expect(chain.at(-1)?.balanceAfterMinor).toBe(accountId === victim ? 985n : 980n);
      // Decided again only where the conflict was: the first attempt looks nothing up (optimistic decisions), the one after the conflict looks up both.
      const lookUps = wire.finds.filter((find) => find.collection === 'pointers' && [pointerId(accountId, 'one:debit'), pointerId(accountId, 'two:debit')].includes(find.filter._id as string));
      expect({ accountId, lookUps: lookUps.length }).toEqual({ accountId, lookUps: accountId === victim ? 2 : 0 });
    }
    // A batch behind the conflict was sent again as it was decided, never decided anew.
    const sent = new Map<string, string[]>();
    for (const insert of wire.inserts.filter((each) => each.collection === 'entries')) {
      for (const document of insert.documents) sent.set(String(document._id), [...(sent.get(String(document._id)) ?? []), JSON.stringify(document, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))]);
    }
    for (const [id, versions] of sent) if (!id.startsWith(`${victim}:`)) expect({ id, versions: new Set(versions).size }).toEqual({ id, versions: 1 });
  });

  test('when operations decided earlier are repeated on many accounts with new ones, then each repeat answers its first entry and only the new ones are appended', async () => {
    const { ledger, store, metrics } = ledgerProcess();
    const ids = await fundedAccounts(ledger, store, 20);
    const first = await Promise.all(ids.map((accountId) => debitOf(ledger, accountId, 'first')));
    wire.clear();
    const again = await Promise.all(ids.flatMap((accountId) => [debitOf(ledger, accountId, 'first'), debitOf(ledger, accountId, 'later'), debitOf(ledger, accountId, 'first')]));
    ids.forEach((_accountId, index) => {
      expect(again[3 * index]?.entry).toEqual(first[index]?.entry);
      expect(again[3 * index + 2]?.entry).toEqual(first[index]?.entry);
      expect(again[3 * index + 1]?.entry.outcome).toBe('APPLIED');
    });
    const appended = wire.inserts.filter((insert) => insert.collection === 'entries').flatMap((insert) => insert.documents.map((document) => document.operationId as string));
    expect(appended.sort()).toEqual(ids.map(() => 'later:debit'));
    expect((await metrics.duplicates.get()).values.reduce((sum, value) => sum + value.value, 0)).toBe(40);
    for (const accountId of ids) {
      const chain = await chainOf(db, accountId);
      expectValidChain(chain);
      expect(chain.at(-1)?.balanceAfterMinor).toBe(980n);
    }
  });

  test('when the pointers write of a cross-account insert is lost, then every caller of it gets an error, and their retries answer the entries written, each once, with their pointers back', async () => {
    const { ledger, store } = ledgerProcess();
    const ids = await fundedAccounts(ledger, store, 10);
    store.losePointersOf = (entries) => entries.length === ids.length;
    const lost = await behindAHeldWrite(ledger, store, () => ids.map((accountId) => debitOf(ledger, accountId, 'lost').then(() => 'answered', (error: Error) => error.message)), ids.length);
    expect(lost).toEqual(ids.map(() => 'the pointers write was lost (as if the process died between the two inserts)'));
    const retried = await Promise.all(ids.map((accountId) => debitOf(ledger, accountId, 'lost')));
    for (const [index, accountId] of ids.entries()) {
      const chain = await chainOf(db, accountId);
      expectValidChain(chain);
      expect(chain.map((entry) => entry.operationId)).toEqual(['open', `seed-${accountId}:deposit`, 'lost:debit']);
      expect(retried[index]?.entry).toEqual(chain[2]);
      expect(await store.findPointer(accountId, 'lost:debit')).toEqual({ _id: pointerId(accountId, 'lost:debit'), seq: 2 });
    }
  });

  test('when the cross-account commit is off, then each account appends its own batch', async () => {
    const { ledger, store } = ledgerProcess(false);
    const ids = await fundedAccounts(ledger, store, 10);
    wire.clear();
    await Promise.all(ids.map((accountId) => debitOf(ledger, accountId, 'alone')));
    expect(wire.insertSizes('entries')).toEqual(ids.map(() => 1));
    expect(wire.insertSizes('pointers')).toEqual(ids.map(() => 1));
  });
});
