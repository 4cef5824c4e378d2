/**
 * What a read of the transfer record costs through the real transfer API at 1k and at 100k
 * recorded transfers: GET /v1/transfers/:id and one page of the list (a client's first page, its
 * next page by cursor, a filtered page, and an operator's page, which merges every client's chain).
 * The design's promise: the same cost at both sizes, because every look-up is by `_id`.
 *
 * Real: the patched FerretDB, the API app (buildTransferApi) with its record store over HTTP on
 * loopback. Stand-ins: Temporal (liveState answers undefined; every seeded transfer is final, so
 * the API never asks) and the reconciliation gateway (not reached by these routes).
 *
 *   npm run bench:record [-- --gets 500 --pages 40 --warm-up-rounds 5]
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { MongoClient, type CommandStartedEvent } from 'mongodb';
import { pino } from 'pino';
import { ferretDbBinaryPath } from '../../infra/binaries';
import { assertPortFree } from '../../infra/ports';
import { startFerretDb } from '../../infra/processes/ferretdb';
import { EventStore } from '../../lib/events/event-store';
import { serverLimits } from '../../lib/http/server';
import type { TransferState, TransferStep } from '../../lib/contracts/transfer-contract';
import type { ImportedTransfer } from '../../lib/record/transfer-record-store';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import { buildTransferApi } from '../../services/transfer-api/app';
import { hashApiKey } from '../../services/transfer-api/config';
import { BankAccounts } from '../../services/transfer-api/gateways/bank-accounts';
import type { Reconciliations } from '../../services/transfer-api/gateways/reconciliations';
import type { TransferWorkflows } from '../../services/transfer-api/gateways/transfer-workflows';
import { normalisedRequest, requestFingerprint, transferIdFor } from '../../services/transfer-api/use-cases/create-transfer';
import { temporaryDir } from '../support/cluster';
import { apiCaller, type ApiCaller } from '../support/http';
import { numberArgument, percentile } from './bench-support';

const sizes = [1_000, 100_000] as const;
/** Transfers per importTransfers call while seeding. */
const seedChunk = 2_000;
const seedProgressEvery = 10_000;
const pageLimit = 20;
/** Of every 20 transfers, 17 are client-a's and one each the others': the operator list merges four chains. */
const otherClients = ['client-b', 'client-c', 'client-d'] as const;
const mainClient = 'client-a';
/** Collections read whole by design (one document per client, or the small open and attention sets). */
const smallSets = new Set(['transfer_clients', 'transfer_open', 'transfer_attention']);
const seedEpochMs = Date.parse('2026-01-01T00:00:00.000Z');

const kinds = ['GET /v1/transfers/:id', 'client list, page 1', 'client list, next page', 'client list, status=COMPLETED', 'operator list, page 1'] as const;
type Kind = (typeof kinds)[number];

interface Figures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  findsPerRequest: number;
}

function clientOf(index: number): string {
  const slot = index % 20;
  return slot < 17 ? mainClient : (otherClients[slot - 17] as string);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** Transfer `index` as the saga leaves it: COMPLETED (4 in 5) with 2 entries, or REFUNDED after a frozen target with 3. */
function seededTransfer(index: number): ImportedTransfer {
  const client = clientOf(index);
  const createdMs = seedEpochMs + index * 1_000;
  const body = {
    source: { bankId: 'bank-a', accountId: `acc-${index % 500}` },
    target: { bankId: 'bank-b', accountId: `acc-${(index * 7) % 500}` },
    amountMinor: String(100 + (index % 9_900)),
    currency: 'EUR',
    ...(index % 3 === 0 ? { reference: `invoice ${index}` } : {}),
  };
  const transferId = transferIdFor(client, `seed-${index}`);
  const record = { _id: transferId, client, fingerprint: requestFingerprint(body), request: normalisedRequest(body), createdAt: iso(createdMs) };
  const base: TransferState = { transferId, status: 'PENDING', ...body, requestedBy: client, needsAttention: false, createdAt: record.createdAt, updatedAt: record.createdAt, steps: [] };
  const step = (name: TransferStep['name'], fromMs: number, toMs: number, failure?: TransferStep['failure']): TransferStep => ({
    name, status: failure ? 'FAILED' : 'SUCCEEDED', startedAt: iso(createdMs + fromMs), endedAt: iso(createdMs + toMs), attempts: 1, ...(failure ? { failure } : {}),
  });
  const debit = step('debit', 40, 70);
  const states: TransferState[] = [{ ...base, status: 'DEBITED', updatedAt: iso(createdMs + 71), steps: [debit] }];
  if (index % 5 === 4) {
    const credit = step('credit', 80, 110, { code: 'ACCOUNT_FROZEN', message: `account ${body.target.accountId} is frozen` });
    states.push({ ...base, status: 'COMPENSATING', reason: 'ACCOUNT_FROZEN', updatedAt: iso(createdMs + 111), steps: [debit, credit] });
    states.push({ ...base, status: 'REFUNDED', reason: 'ACCOUNT_FROZEN', updatedAt: iso(createdMs + 160), steps: [debit, credit, step('refund', 120, 160)] });
  } else {
    states.push({ ...base, status: 'COMPLETED', updatedAt: iso(createdMs + 130), steps: [debit, step('credit', 80, 130)] });
  }
  const runId = randomUUID();
  const entries = states.map((state, position) => ({
    transferId, writer: { runId, changedAtMs: createdMs + 20, revision: position + 1 }, state, recordedAt: iso(Date.parse(state.updatedAt) + 3),
  }));
  return { record, entries };
}

async function seed(records: TransferRecordStore, from: number, to: number): Promise<void> {
  const startedAt = performance.now();
  for (let start = from; start < to; start += seedChunk) {
    const end = Math.min(to, start + seedChunk);
    await records.importTransfers(Array.from({ length: end - start }, (_, offset) => seededTransfer(start + offset)));
    if (end % seedProgressEvery === 0 || end === to) {
      const seconds = (performance.now() - startedAt) / 1000;
      process.stdout.write(`  seeded ${end.toLocaleString('en')} transfers (${((end - from) / seconds).toFixed(0)} transfers/s)\n`);
    }
  }
}

/**
 * Every command the API's driver sends, by the kind of request in flight. Every find must be an
 * `_id` look-up (`{ _id: <string> }`, nothing else), except a read of a small set whole (`{}`).
 */
class CommandCensus {
  current: Kind | undefined;
  readonly finds = new Map<Kind, number>();
  readonly byCollection = new Map<string, number>();
  readonly others = new Map<string, number>();
  readonly violations: string[] = [];

  observe = (event: CommandStartedEvent): void => {
    if (this.current === undefined) return;
    if (event.commandName !== 'find') {
      this.others.set(event.commandName, (this.others.get(event.commandName) ?? 0) + 1);
      return;
    }
    const collection = String(event.command.find);
    const filter = (event.command.filter ?? {}) as Record<string, unknown>;
    const keys = Object.keys(filter);
    const byId = keys.length === 1 && keys[0] === '_id' && typeof filter._id === 'string';
    const wholeSmallSet = keys.length === 0 && smallSets.has(collection);
    if (!byId && !wholeSmallSet && this.violations.length < 10) this.violations.push(`${collection} ${JSON.stringify(filter)}`);
    this.finds.set(this.current, (this.finds.get(this.current) ?? 0) + 1);
    const shape = `${collection} ${byId ? '{_id}' : JSON.stringify(filter)}`;
    this.byCollection.set(shape, (this.byCollection.get(shape) ?? 0) + 1);
  };
}

/** Everything the API asks of Temporal; only liveState is reachable from these reads, and it never is for final transfers. */
function finalRecordsWorkflows(): TransferWorkflows {
  const notHere = (): Promise<never> => Promise.reject(new Error('not part of this benchmark'));
  return { start: notHere, startRepair: notHere, describe: notHere, liveState: () => Promise.resolve(undefined), decide: notHere, countOpen: notHere, ready: () => Promise.resolve(true) };
}

function unusedReconciliations(): Reconciliations {
  const notHere = (): Promise<never> => Promise.reject(new Error('not part of this benchmark'));
  return { start: notHere, get: notHere, list: notHere, latestReport: notHere };
}

/** A free loopback port below the kernel's ephemeral range (32768–60999), which outgoing connections take their source ports from. */
async function freePortBelowEphemeralRange(taken: Set<number>): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port)) continue;
    try {
      await assertPortFree('127.0.0.1', port, 'bench:record', 'the bench');
    } catch {
      continue;
    }
    taken.add(port);
    return port;
  }
}

const keys = { [mainClient]: `cl_bench_${mainClient}_0123456789abcdef`, operator: 'op_bench_operator_0123456789abcdef' } as const;

async function startApi(records: TransferRecordStore, events: EventStore, port: number): Promise<Server> {
  const apiKeys = [
    { name: mainClient, role: 'client' as const, keyHash: hashApiKey(keys[mainClient]) },
    { name: 'operator', role: 'operator' as const, keyHash: hashApiKey(keys.operator) },
  ];
  const { app } = buildTransferApi({
    logger: pino({ level: 'warn' }),
    apiKeys,
    workflows: finalRecordsWorkflows(),
    records,
    banks: new BankAccounts([], { keyId: 'unused', secret: 'u'.repeat(32) }, 1_000),
    reconciliations: unusedReconciliations(),
    policy: { approvalThresholdMinor: '1000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '1000000000', banks: ['bank-a', 'bank-b'], refundAttentionAfterAttempts: 5, transferRecord: true },
    authority: { clientMandates: new Map([[mainClient, { kind: 'every-bank' }]]), approvalFourEyes: true },
    rateLimitPerMinute: 10_000_000,
    transferOverdueAfterMs: 60_000,
    events,
    allowedWebhookHosts: [],
  });
  return new Promise((resolve) => {
    const server = app.listen(port, '127.0.0.1', () => resolve(server));
    server.requestTimeout = serverLimits.requestTimeoutMs;
    server.keepAliveTimeout = serverLimits.keepAliveTimeoutMs;
  });
}

interface Callers {
  client: ApiCaller;
  operator: ApiCaller;
}

interface PageBody {
  data: Array<{ id: string; status: string; createdAt: string }>;
  nextCursor: string | null;
}

async function page(caller: ApiCaller, query: string): Promise<PageBody> {
  const answer = await caller.get(`/v1/transfers?${query}`);
  if (answer.status !== 200) throw new Error(`GET /v1/transfers?${query} answered ${answer.status}: ${answer.text.slice(0, 200)}`);
  const body = answer.body as unknown as PageBody;
  if (body.data.length !== pageLimit) throw new Error(`GET /v1/transfers?${query} gave ${body.data.length} items, not ${pageLimit}`);
  return body;
}

/** One request of a kind; `index` picks the transfer a GET reads, spread over every transfer of the client. */
async function requestOf(kind: Kind, callers: Callers, size: number, cursor: string, index: number): Promise<void> {
  switch (kind) {
    case 'GET /v1/transfers/:id': {
      const seedIndex = pickMainClientTransfer(size, index);
      const id = transferIdFor(mainClient, `seed-${seedIndex}`);
      const answer = await callers.client.get(`/v1/transfers/${id}`);
      if (answer.status !== 200 || answer.body.id !== id) throw new Error(`GET ${id} answered ${answer.status}`);
      return;
    }
    case 'client list, page 1':
      await page(callers.client, `limit=${pageLimit}`);
      return;
    case 'client list, next page':
      await page(callers.client, `limit=${pageLimit}&cursor=${cursor}`);
      return;
    case 'client list, status=COMPLETED': {
      const body = await page(callers.client, `limit=${pageLimit}&status=COMPLETED`);
      if (body.data.some((item) => item.status !== 'COMPLETED')) throw new Error('the filtered page holds another status');
      return;
    }
    case 'operator list, page 1':
      await page(callers.operator, `limit=${pageLimit}`);
      return;
  }
}

/** A seeded index of client-a among the first `size`, scattered by a multiplicative hash. */
function pickMainClientTransfer(size: number, index: number): number {
  for (let probe = index; ; probe += 1) {
    const candidate = (probe * 2_654_435_761) % size;
    if (clientOf(candidate) === mainClient) return candidate;
  }
}

const getsPerRound = (counts: { gets: number; pages: number }): number => Math.max(1, Math.round(counts.gets / counts.pages));

/**
 * `pages` rounds; each round sends one request of every list kind and `gets / pages` GETs, one at a
 * time, the kinds in reverse order every other round, so that drift (JIT, SQLite checkpoints, GC)
 * falls on every kind alike. ops/s is requests over the time spent on them.
 */
async function measure(census: CommandCensus, callers: Callers, size: number, counts: { gets: number; pages: number; warmUpRounds: number }): Promise<Map<Kind, Figures>> {
  const first = await page(callers.client, `limit=${pageLimit}`);
  if (!first.nextCursor) throw new Error('the first page has no nextCursor');
  const cursor = first.nextCursor;
  const latencies = new Map<Kind, number[]>(kinds.map((kind) => [kind, []]));
  for (const kind of kinds) census.finds.set(kind, 0);
  for (let round = -counts.warmUpRounds; round < counts.pages; round += 1) {
    const order = round % 2 === 0 ? kinds : [...kinds].reverse();
    for (const kind of order) {
      for (let repeat = 0; repeat < (kind === 'GET /v1/transfers/:id' ? getsPerRound(counts) : 1); repeat += 1) {
        const index = (round + counts.warmUpRounds) * getsPerRound(counts) + repeat;
        census.current = round < 0 ? undefined : kind;
        const before = performance.now();
        await requestOf(kind, callers, size, cursor, index);
        if (round >= 0) latencies.get(kind)?.push(performance.now() - before);
        census.current = undefined;
      }
    }
  }
  const figures = new Map<Kind, Figures>();
  for (const kind of kinds) {
    const sample = (latencies.get(kind) ?? []).sort((a, b) => a - b);
    const seconds = sample.reduce((sum, ms) => sum + ms, 0) / 1000;
    const row = { perSecond: sample.length / seconds, p50Ms: percentile(sample, 0.5), p99Ms: percentile(sample, 0.99), findsPerRequest: (census.finds.get(kind) ?? 0) / sample.length };
    figures.set(kind, row);
    console.log(`  ${kind.padEnd(30)} ${row.perSecond.toFixed(1).padStart(7)}/s  p50 ${row.p50Ms.toFixed(2)} ms  p99 ${row.p99Ms.toFixed(2)} ms  (${sample.length} requests)`);
  }
  return figures;
}

function report(results: ReadonlyArray<{ size: number; figures: Map<Kind, Figures> }>, census: CommandCensus): void {
  const [small, large] = results;
  if (!small || !large) return;
  const cell = (value: number, width: number, digits = 1): string => value.toFixed(digits).padStart(width);
  console.log(`\nTransfer record reads through the API, one request at a time (${small.size.toLocaleString('en')} and ${large.size.toLocaleString('en')} transfers in one database)`);
  console.log(`${'request'.padEnd(30)} | ${'1k: ops/s   p50   p99 finds'} | ${'100k: ops/s   p50   p99 finds'} | 100k/1k: ops/s   p50   p99`);
  for (const kind of kinds) {
    const a = small.figures.get(kind);
    const b = large.figures.get(kind);
    if (!a || !b) continue;
    const side = (f: Figures): string => `${cell(f.perSecond, 9)} ${cell(f.p50Ms, 5)} ${cell(f.p99Ms, 5)} ${cell(f.findsPerRequest, 5, 0)}`;
    console.log(`${kind.padEnd(30)} | ${side(a)} | ${`${side(b)}`.padStart(29)} | ${cell(b.perSecond / a.perSecond, 14, 2)} ${cell(b.p50Ms / a.p50Ms, 5, 2)} ${cell(b.p99Ms / a.p99Ms, 5, 2)}`);
  }
  console.log('(latencies in ms; finds = MongoDB find commands the API sent per request, from the driver\'s command monitoring)');
  console.log('\nfind commands by collection and filter, both sizes:');
  for (const [shape, count] of [...census.byCollection].sort((x, y) => y[1] - x[1])) console.log(`  ${String(count).padStart(8)}  ${shape}`);
  console.log(`other commands during the timed requests: ${census.others.size === 0 ? 'none' : [...census.others].map(([name, count]) => `${name} ${count}`).join(', ')}`);
  if (census.violations.length > 0) throw new Error(`finds not by _id: ${census.violations.join('; ')}`);
  console.log('every find was { _id: <string> } (a FerretDB index look-up), or {} on a small set (transfer_clients: one document per client)');
  console.log('Temporal is a stand-in whose liveState answers undefined: every seeded transfer is final (COMPLETED or REFUNDED), so the API answers from the record alone.');
}

async function main(): Promise<void> {
  const counts = { gets: numberArgument('gets', 500), pages: numberArgument('pages', 40), warmUpRounds: numberArgument('warm-up-rounds', 5) };
  const binary = process.env.FERRETDB_BINARY ?? (await ferretDbBinaryPath());
  const dir = await temporaryDir('bench-record');
  const ports = new Set<number>();
  const database = await startFerretDb(
    { name: 'ferretdb', binary, dataDir: dir.path, host: '127.0.0.1', port: await freePortBelowEphemeralRange(ports), debugPort: await freePortBelowEphemeralRange(ports) },
    () => undefined,
  );
  const census = new CommandCensus();
  const mongo = new MongoClient(database.url, { useBigInt64: true, monitorCommands: true });
  mongo.on('commandStarted', census.observe);
  const db = mongo.db('transfer_api');
  const records = new TransferRecordStore(db);
  await records.ensureIndexes();
  const port = await freePortBelowEphemeralRange(ports);
  const server = await startApi(records, new EventStore(db), port);
  const baseUrl = `http://127.0.0.1:${port}`;
  const callers = { client: apiCaller(baseUrl, keys[mainClient]), operator: apiCaller(baseUrl, keys.operator) };
  console.log(`FerretDB ${binary}\ntransfer API on ${baseUrl}`);
  const results: Array<{ size: number; figures: Map<Kind, Figures> }> = [];
  try {
    let seeded = 0;
    for (const size of sizes) {
      console.log(`seeding to ${size.toLocaleString('en')} transfers (importTransfers)…`);
      await seed(records, seeded, size);
      seeded = size;
      console.log(`measuring at ${size.toLocaleString('en')} transfers (${counts.warmUpRounds} rounds of warm-up, then ${counts.pages} rounds of one page of each list and ${getsPerRound(counts)} GETs, one request at a time)`);
      results.push({ size, figures: await measure(census, callers, size, counts) });
    }
    report(results, census);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await mongo.close();
    await database.process.stop();
    await dir.remove();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
