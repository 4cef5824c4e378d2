import { serviceScopes } from '../../../lib/config/env-parsers';
import type { Server } from 'node:http';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { pino } from 'pino';
import type { RunningFerretDb } from '../../../infra/processes/ferretdb';
import { AccountServiceClient } from '../../../lib/clients/account-service-client';
import { buildAccountService } from '../../../services/account-service/app';
import { decide } from '../../../services/account-service/ledger/decide';
import type { Ledger } from '../../../services/account-service/ledger/ledger';
import { LedgerStore } from '../../../services/account-service/ledger/ledger-store';
import { pointerId } from '../../../services/account-service/ledger/model';
import { testSigningKey } from '../../support/account-service';
import { startTestFerretDb } from '../../support/cluster';
import { filtersByIdOnly as byIdOnly, sentCommandsOf as sentOf, type SentCommand as Sent } from '../../support/wire-commands';

jest.setTimeout(180_000);

/**
 * The design's promise that every hot path looks up by `_id` only, checked on the wire: the
 * service runs in this process over a monitored driver, answering real HTTP on real FerretDB.
 */
describe('account service: every hot-path read and update is a look-up by _id', () => {
  let database: RunningFerretDb;
  let mongo: MongoClient;
  let server: Server;
  let ledger: Ledger;
  let client: AccountServiceClient;
  let cleanup: () => Promise<void>;
  const sent: Sent[] = [];

  beforeAll(async () => {
    const ferret = await startTestFerretDb('account-service-id-lookups');
    database = ferret.database;
    mongo = new MongoClient(database.url, { useBigInt64: true, monitorCommands: true });
    mongo.on('commandStarted', (event: CommandStartedEvent) => sent.push(...sentOf(event)));
    const built = await buildAccountService({ bankId: 'bank-a', db: mongo.db('id_lookups'), logger: pino({ level: 'silent' }), serviceKeys: new Map([[testSigningKey.keyId, { ...testSigningKey, scopes: new Set(serviceScopes) }]]) });
    ledger = built.ledger;
    server = built.app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    client = new AccountServiceClient({ bankId: 'bank-a', baseUrl: `http://127.0.0.1:${port}`, signingKey: testSigningKey, requestTimeoutMs: 30_000 });
    cleanup = async () => {
      await new Promise((resolve) => server.close(resolve));
      await mongo.close();
      await ferret.stop();
    };
  });

  afterAll(async () => {
    await cleanup?.();
  });

  /** Sends one request and returns what it sent to the database. */
  async function observe(method: 'GET' | 'POST', path: string, body?: unknown, expectedStatus = 200): Promise<Sent[]> {
    sent.length = 0;
    const answer = await client.request(method, path, body);
    expect({ path, status: answer.status }).toEqual({ path, status: expectedStatus });
    return [...sent];
  }

  async function openWithEntries(accountId: string, deposits: number): Promise<void> {
    expect((await client.request('POST', '/v1/accounts', { accountId, owner: 'Owner', currency: 'EUR' })).status).toBe(201);
    // Concurrent, so the ledger decides them in batches; each deposits 1000 minor units.
    await Promise.all(Array.from({ length: deposits }, (_, n) => ledger.apply(accountId, { operationId: `seed-${n}:deposit`, kind: 'deposit', amountMinor: 1_000n, currency: 'EUR' })));
  }

  /** Every kind of request once on an account, with what each sent to the database. */
  async function everyRequest(accountId: string, tag: string): Promise<Record<string, Sent[]>> {
    const path = (action: string): string => `/v1/accounts/${accountId}/${action}`;
    // The first request of a process on an account finds the head from the hint: not the steady state.
    await client.request('GET', `/v1/accounts/${accountId}`);
    return {
      debit: await observe('POST', path('debits'), { transferId: `${tag}-1`, amountMinor: '10', currency: 'EUR' }),
      duplicate: await observe('POST', path('debits'), { transferId: `${tag}-1`, amountMinor: '10', currency: 'EUR' }),
      refusedDebit: await observe('POST', path('debits'), { transferId: `${tag}-2`, amountMinor: '999999999999', currency: 'EUR' }, 422),
      credit: await observe('POST', path('credits'), { transferId: `${tag}-3`, amountMinor: '10', currency: 'EUR' }),
      deposit: await observe('POST', path('deposits'), { depositId: `${tag}-4`, amountMinor: '10', currency: 'EUR' }),
      refund: await observe('POST', path('refunds'), { transferId: `${tag}-1` }),
      refundAgain: await observe('POST', path('refunds'), { transferId: `${tag}-1` }),
      refundBeforeDebit: await observe('POST', path('refunds'), { transferId: `${tag}-5` }),
      voidedDebit: await observe('POST', path('debits'), { transferId: `${tag}-5`, amountMinor: '10', currency: 'EUR' }, 409),
      creditVoid: await observe('POST', path('credit-voids'), { transferId: `${tag}-6` }),
      account: await observe('GET', `/v1/accounts/${accountId}`),
      entries: await observe('GET', `${path('entries')}?limit=5&after=3`),
      freeze: await observe('POST', path('freeze'), { changeId: `${tag}-freeze` }),
      freezeReplayed: await observe('POST', path('freeze'), { changeId: `${tag}-freeze` }),
      unfreeze: await observe('POST', path('unfreeze'), { changeId: `${tag}-unfreeze` }),
      dailyLimit: await observe('POST', path('daily-limit'), { changeId: `${tag}-limit`, dailyDebitLimitMinor: '5000' }),
    };
  }

  test('when every kind of request runs on a small and on a large account, then each reads and updates by _id only, as many times on both', async () => {
    await openWithEntries('small', 3);
    await openWithEntries('large', 700);
    const small = await everyRequest('small', 's');
    const large = await everyRequest('large', 'l');
    for (const [request, commands] of Object.entries({ ...small, ...Object.fromEntries(Object.entries(large).map(([name, value]) => [`${name} (large)`, value])) })) {
      expect({ request, notById: commands.filter((command) => !byIdOnly(command)) }).toEqual({ request, notById: [] });
      expect({ request, others: commands.filter((command) => !['find', 'insert', 'update'].includes(command.command)) }).toEqual({ request, others: [] });
    }
    // The cost of a request does not grow with the chain: the same reads on 4 and on 701 entries
    // (the head hint's occasional update aside, which lands every 64 entries).
    const reads = (commands: Sent[]): number => commands.filter((command) => command.command === 'find').length;
    for (const request of Object.keys(small)) {
      expect({ request, reads: reads(large[request] as Sent[]) }).toEqual({ request, reads: reads(small[request] as Sent[]) });
    }
    // A new debit on a warm account reads nothing before its insert (optimistic decisions); a
    // repeat is refused by the operation index, then found: the refused seq, the pointer, the entry.
    expect(reads(small.debit as Sent[])).toBeLessThanOrEqual(2);
    expect(reads(small.duplicate as Sent[])).toBeLessThanOrEqual(3);
  });

  /** Every command a request sent that filters on anything but `_id`, and every command other than find, insert, update. */
  function offIndex(commands: readonly Sent[]): { notById: Sent[]; others: Sent[] } {
    return { notById: commands.filter((command) => !byIdOnly(command)), others: commands.filter((command) => !['find', 'insert', 'update'].includes(command.command)) };
  }

  test('when a pointer below the head was lost (deleted in the database) and the operation is repeated, then the first decision answers, found by _id look-ups only, and the pointer is back', async () => {
    await openWithEntries('lost', 5);
    const debit = { transferId: 'lost-1', amountMinor: '10', currency: 'EUR' };
    const first = await client.request('POST', '/v1/accounts/lost/debits', debit);
    expect(first.status).toBe(200);
    for (let n = 0; n < 3; n += 1) expect((await client.request('POST', '/v1/accounts/lost/deposits', { depositId: `after-${n}`, amountMinor: '1', currency: 'EUR' })).status).toBe(200);
    const pointers = mongo.db('id_lookups').collection<{ _id: string; seq: number }>('pointers');
    expect((await pointers.deleteOne({ _id: pointerId('lost', 'lost-1:debit') })).deletedCount).toBe(1);

    const commands = await observe('POST', '/v1/accounts/lost/debits', debit);
    expect(offIndex(commands)).toEqual({ notById: [], others: [] });
    const again = await client.request('POST', '/v1/accounts/lost/debits', debit);
    expect({ status: again.status, body: again.body }).toEqual({ status: 200, body: first.body });
    expect(await pointers.findOne({ _id: pointerId('lost', 'lost-1:debit') })).toEqual({ _id: pointerId('lost', 'lost-1:debit'), seq: 6 });
    expect((await client.request('GET', '/v1/accounts/lost')).body).toMatchObject({ balanceMinor: '4993', sequence: 9 });
  });

  test('when another process appended an entry and died before its pointer, and the operation is repeated, then the roll-forward writes the pointer and the entry answers, by _id look-ups only', async () => {
    await openWithEntries('orphan', 2);
    await client.request('GET', '/v1/accounts/orphan');
    const store = new LedgerStore(mongo.db('id_lookups'));
    const account = await store.findAccount('orphan');
    const head = await store.findEntry('orphan', 2);
    if (!account || !head) throw new Error('orphan: no account or head');
    const orphan = decide(account, head, { operationId: 'orphan-1:debit', kind: 'debit', amountMinor: 10n, currency: 'EUR' }, new Date().toISOString());
    expect(await store.appendEntries([orphan])).toBe(1);

    const commands = await observe('POST', '/v1/accounts/orphan/debits', { transferId: 'orphan-1', amountMinor: '10', currency: 'EUR' });
    expect(offIndex(commands)).toEqual({ notById: [], others: [] });
    expect(await store.findPointer('orphan', 'orphan-1:debit')).toEqual({ _id: pointerId('orphan', 'orphan-1:debit'), seq: 3 });
    expect((await client.request('GET', '/v1/accounts/orphan')).body).toMatchObject({ balanceMinor: '1990', sequence: 3 });
  });
});
