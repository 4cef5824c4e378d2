import { readdirSync, readFileSync } from 'node:fs';
import type { RunningCluster } from '../../infra/cluster';
import { decideBatch } from '../../services/account-service/ledger/decide';
import type { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { entryId, type AccountDocument, type EntryDocument } from '../../services/account-service/ledger/model';

/** `--name value` from the command line, or the fallback. */
export function numberArgument(name: string, fallback: number): number {
  const index = process.argv.indexOf(`--${name}`);
  const value = index >= 0 ? Number(process.argv[index + 1]) : fallback;
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a positive number`);
  return value;
}

/** Closed loop: `concurrency` callers run `operation` back to back until `count` are done; latencies come sorted. */
export async function closedLoopLatencies(count: number, concurrency: number, operation: (index: number) => Promise<void>): Promise<{ seconds: number; latenciesMs: number[] }> {
  const latenciesMs: number[] = [];
  let next = 0;
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next;
        next += 1;
        const before = performance.now();
        await operation(index);
        latenciesMs.push(performance.now() - before);
      }
    }),
  );
  latenciesMs.sort((a, b) => a - b);
  return { seconds: (performance.now() - startedAt) / 1000, latenciesMs };
}

/** One closed-loop run of an arm. */
export interface Run {
  count: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  /** CPU of each cluster process (and of this one) during the run, as a share of one core. */
  cpu: Record<string, number>;
}

const clockTicksPerSecond = 100;

interface ProcessTicks {
  ppid: number;
  /** utime + stime of the process itself. */
  own: number;
  /** cutime + cstime: its children that have exited and been waited for. */
  reaped: number;
}

/** Every process's CPU ticks and parent, from /proc. */
function processTable(): Map<number, ProcessTicks> {
  const table = new Map<number, ProcessTicks>();
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      table.set(Number(entry), { ppid: Number(fields[1]), own: Number(fields[11]) + Number(fields[12]), reaped: Number(fields[13]) + Number(fields[14]) });
    } catch {
      // The process ended while the table was read.
    }
  }
  return table;
}

/**
 * A component's CPU ticks, its children's included: PostgreSQL does its work in one backend
 * process per connection, forked from the server the cluster started.
 */
function treeTicks(table: ReadonlyMap<number, ProcessTicks>, pid: number | undefined): Map<number, number> {
  const ticks = new Map<number, number>();
  if (pid === undefined) return ticks;
  const root = table.get(pid);
  if (!root) return ticks;
  ticks.set(pid, root.own + root.reaped);
  for (const [child, entry] of table) if (entry.ppid === pid) ticks.set(child, entry.own);
  return ticks;
}

function ticksBetween(before: ReadonlyMap<number, number>, after: ReadonlyMap<number, number>): number {
  let total = 0;
  for (const [pid, ticks] of after) total += ticks - (before.get(pid) ?? 0);
  return total;
}

/** Runs a closed loop (see closedLoopLatencies) and samples every cluster process's CPU, from /proc, around it. */
export async function closedLoop(cluster: RunningCluster, count: number, concurrency: number, operation: (index: number) => Promise<void>, extra: ReadonlyArray<{ name: string; process: { pid: number | undefined } }> = []): Promise<Run> {
  const components = [...cluster.components(), ...extra];
  const tableBefore = processTable();
  const before = components.map((component) => treeTicks(tableBefore, component.process.pid));
  const benchBefore = process.cpuUsage();
  const { seconds, latenciesMs } = await closedLoopLatencies(count, concurrency, operation);
  const cpu: Record<string, number> = {};
  const tableAfter = processTable();
  components.forEach((component, index) => {
    cpu[component.name] = ticksBetween(before[index] ?? new Map(), treeTicks(tableAfter, component.process.pid)) / clockTicksPerSecond / seconds;
  });
  const bench = process.cpuUsage(benchBefore);
  cpu['bench (client + in-process workers)'] = (bench.user + bench.system) / 1e6 / seconds;
  return { count, seconds, perSecond: count / seconds, p50Ms: percentile(latenciesMs, 0.5), p95Ms: percentile(latenciesMs, 0.95), p99Ms: percentile(latenciesMs, 0.99), cpu };
}

/** The four busiest processes of a run, e.g. `temporal 81%, worker 52%, …`. */
export function busiest(run: Run): string {
  return Object.entries(run.cpu)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, share]) => `${name} ${(share * 100).toFixed(0)}%`)
    .join(', ');
}

/** The mean of one figure over repeated runs. */
export function meanOf(runs: readonly Run[], key: 'perSecond' | 'p50Ms' | 'p95Ms' | 'p99Ms'): number {
  return runs.reduce((sum, run) => sum + run[key], 0) / runs.length;
}

/** The mean CPU share of each process over repeated runs. */
export function meanCpu(runs: readonly Run[]): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const run of runs) for (const [name, share] of Object.entries(run.cpu)) sums[name] = (sums[name] ?? 0) + share / runs.length;
  return sums;
}

/** Process groups a run's CPU is summed into: what the server, the workers, the ledgers and the rest cost. */
export const cpuGroups = ['temporal', 'workers + client', 'ledgers', 'other'] as const;

function cpuGroupOf(processName: string): (typeof cpuGroups)[number] {
  // The dev server is `temporal`; the cluster profile adds temporal-history, -matching, -worker, -postgres and -ui.
  if (processName.startsWith('temporal')) return 'temporal';
  if (processName.startsWith('worker') || processName.startsWith('bench')) return 'workers + client';
  if (processName.startsWith('account-service') || /^ferretdb-bank/.test(processName)) return 'ledgers';
  return 'other';
}

/** CPU milliseconds per completed operation, by group and in all, from a run's CPU shares. */
export function cpuMsPerOperation(cpu: Record<string, number>, perSecond: number): Record<(typeof cpuGroups)[number] | 'total', number> {
  const ms = { temporal: 0, 'workers + client': 0, ledgers: 0, other: 0, total: 0 };
  for (const [name, share] of Object.entries(cpu)) {
    const perOperation = (share * 1000) / perSecond;
    ms[cpuGroupOf(name)] += perOperation;
    ms.total += perOperation;
  }
  return ms;
}

/** The value at `fraction` (0.5 = p50) of an ascending list. */
export function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? NaN;
}

const seedBatch = 1_000;

/** Opens an account and writes `entries` deposits of 1 minor unit with the ledger's own decision code. */
export async function seedLedgerAccount(store: LedgerStore, accountId: string, entries: number): Promise<void> {
  const createdAt = new Date().toISOString();
  const account: AccountDocument = { _id: accountId, owner: 'bench', currency: 'EUR', overdraftLimitMinor: 0n, createdAt, headSeq: 0 };
  await store.insertAccount(account);
  let head: EntryDocument = {
    _id: entryId(accountId, 0), accountId, seq: 0, operationId: 'open', kind: 'open', amountMinor: 0n, balanceAfterMinor: 0n,
    statusAfter: 'ACTIVE', outcome: 'APPLIED', requestedAmountMinor: 0n, requestedCurrency: 'EUR', createdAt,
  };
  await store.appendEntries([head]);
  for (let written = 1; written < entries; written += seedBatch) {
    const count = Math.min(seedBatch, entries - written);
    const batch = decideBatch(account, head, Array.from({ length: count }, (_, i) => ({ operationId: `seed-${written + i}:deposit`, kind: 'deposit' as const, amountMinor: 1n, currency: 'EUR' })), createdAt);
    const inserted = await store.appendEntries(batch);
    if (inserted !== batch.length) throw new Error(`seeding ${accountId}: ${inserted} of ${batch.length} inserted`);
    await store.writePointers(batch);
    head = batch[batch.length - 1] as EntryDocument;
    if (entries >= 20_000 && (written - 1) % 20_000 === 0) process.stdout.write(`  ${accountId}: ${head.seq + 1} entries\n`);
  }
  // A fresh service finds the head from this hint with one look-up.
  await store.advanceHeadHint(accountId, head.seq);
}

