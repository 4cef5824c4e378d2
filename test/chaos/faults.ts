import type { RunningCluster } from '../../infra/cluster';
import type { FaultyProxy, ProxyMode } from './faulty-proxy';
import type { SeededRandom } from './seeded-random';

/**
 * The fault schedule: process crashes (kill -9, then a restart on the same ports and data)
 * on one timeline, network faults of the worker→bank proxy on another, both drawn from the
 * seed so that a run can be repeated exactly.
 */

export type FaultKind =
  | 'kill-worker'
  | 'kill-account-service'
  | 'kill-database'
  | 'kill-temporal'
  | 'kill-settlement-bank'
  | 'kill-temporal-history'
  | 'kill-temporal-matching'
  | 'kill-temporal-postgres'
  | 'proxy-delay'
  | 'proxy-drop-responses'
  | 'proxy-partition';

export interface Fault {
  kind: FaultKind;
  /** Offset from the start of the workload. */
  atMs: number;
  /** How long the component stays down, or the network fault lasts. */
  durationMs: number;
  /** Component name for kills. */
  component?: string;
  delayMs?: number;
}

export interface FaultCounts {
  worker: number;
  accountService: number;
  database: number;
  temporal: number;
  /** Kills of the settlement bank: its account service or its database. */
  settlementBank: number;
  /** The cluster profile only: kills of Temporal's history and matching services and of its PostgreSQL (`temporal` is then the frontend). */
  temporalHistory?: number;
  temporalMatching?: number;
  temporalPostgres?: number;
  proxyDelay: number;
  proxyDropResponses: number;
  proxyPartition: number;
}

/** The settlement bank's processes, as the cluster names them. */
const settlementComponents = ['account-service-settlement', 'ferretdb-settlement'] as const;

function spread(random: SeededRandom, count: number, windowMs: number): number[] {
  // One fault per slot of the window, at a random point inside the slot.
  const slotMs = windowMs / Math.max(count, 1);
  return Array.from({ length: count }, (_, index) => Math.round(index * slotMs + random.next() * slotMs * 0.6));
}

export function faultSchedule(random: SeededRandom, counts: FaultCounts, banks: readonly string[], windowMs: number): { processes: Fault[]; network: Fault[] } {
  const kills: Array<Omit<Fault, 'atMs'>> = [
    ...Array.from({ length: counts.worker }, () => ({ kind: 'kill-worker' as const, component: 'worker', durationMs: random.int(300, 2_500) })),
    ...Array.from({ length: counts.accountService }, () => ({ kind: 'kill-account-service' as const, component: `account-service-${random.pick(banks)}`, durationMs: random.int(500, 3_000) })),
    ...Array.from({ length: counts.database }, () => ({ kind: 'kill-database' as const, component: `ferretdb-${random.pick(banks)}`, durationMs: random.int(500, 3_000) })),
    ...Array.from({ length: counts.temporal }, () => ({ kind: 'kill-temporal' as const, component: 'temporal', durationMs: random.int(1_000, 4_000) })),
    ...Array.from({ length: counts.settlementBank }, () => ({ kind: 'kill-settlement-bank' as const, component: random.pick(settlementComponents), durationMs: random.int(500, 3_000) })),
    // Drawn after the others, so that a dev-server profile's schedule for a seed stays what it was.
    ...Array.from({ length: counts.temporalHistory ?? 0 }, () => ({ kind: 'kill-temporal-history' as const, component: 'temporal-history', durationMs: random.int(1_000, 4_000) })),
    ...Array.from({ length: counts.temporalMatching ?? 0 }, () => ({ kind: 'kill-temporal-matching' as const, component: 'temporal-matching', durationMs: random.int(1_000, 4_000) })),
    ...Array.from({ length: counts.temporalPostgres ?? 0 }, () => ({ kind: 'kill-temporal-postgres' as const, component: 'temporal-postgres', durationMs: random.int(1_000, 4_000) })),
  ];
  // Shuffle the kinds over the timeline (Fisher–Yates on the seeded generator).
  for (let i = kills.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [kills[i], kills[j]] = [kills[j] as Omit<Fault, 'atMs'>, kills[i] as Omit<Fault, 'atMs'>];
  }
  const killTimes = spread(random, kills.length, windowMs);
  const processes = kills.map((fault, index) => ({ ...fault, atMs: killTimes[index] ?? 0 }));

  const net: Array<Omit<Fault, 'atMs'>> = [
    ...Array.from({ length: counts.proxyDelay }, () => ({ kind: 'proxy-delay' as const, durationMs: random.int(2_000, 6_000), delayMs: random.int(300, 3_000) })),
    ...Array.from({ length: counts.proxyDropResponses }, () => ({ kind: 'proxy-drop-responses' as const, durationMs: random.int(1_000, 4_000) })),
    ...Array.from({ length: counts.proxyPartition }, () => ({ kind: 'proxy-partition' as const, durationMs: random.int(2_000, 6_000) })),
  ];
  for (let i = net.length - 1; i > 0; i -= 1) {
    const j = random.int(0, i);
    [net[i], net[j]] = [net[j] as Omit<Fault, 'atMs'>, net[i] as Omit<Fault, 'atMs'>];
  }
  const netTimes = spread(random, net.length, windowMs);
  const network = net.map((fault, index) => ({ ...fault, atMs: netTimes[index] ?? 0 }));
  return { processes, network };
}

export interface FaultLogEntry {
  kind: FaultKind;
  component?: string;
  startedAtMs: number;
  healedAtMs: number;
}

function proxyModeOf(fault: Fault): ProxyMode {
  if (fault.kind === 'proxy-delay') return { kind: 'delay', delayMs: fault.delayMs ?? 1_000 };
  if (fault.kind === 'proxy-drop-responses') return { kind: 'drop-responses' };
  return { kind: 'partition' };
}

/**
 * Plays one timeline: each fault starts at its time (or when the previous one has healed) and
 * is healed before the next. `log` gets each fault with its start and heal times.
 */
export async function playTimeline(faults: readonly Fault[], startedAt: number, cluster: RunningCluster, proxy: FaultyProxy, say: (line: string) => void, log: FaultLogEntry[], downOnPurpose: Set<string>): Promise<void> {
  for (const fault of faults) {
    const wait = startedAt + fault.atMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const begun = Date.now();
    if (fault.component) {
      say(`fault: kill -9 ${fault.component} for ${fault.durationMs} ms`);
      downOnPurpose.add(fault.component);
      await cluster.kill(fault.component);
      await new Promise((resolve) => setTimeout(resolve, fault.durationMs));
      await restartPatiently(cluster, fault.component, say);
      downOnPurpose.delete(fault.component);
    } else {
      say(`fault: proxy ${fault.kind.replace('proxy-', '')} for ${fault.durationMs} ms${fault.delayMs ? ` (${fault.delayMs} ms per answer)` : ''}`);
      proxy.setMode(proxyModeOf(fault));
      await new Promise((resolve) => setTimeout(resolve, fault.durationMs));
      proxy.setMode({ kind: 'pass' });
    }
    log.push({ kind: fault.kind, ...(fault.component ? { component: fault.component } : {}), startedAtMs: begun - startedAt, healedAtMs: Date.now() - startedAt });
  }
}

/** A restart can fail while what it depends on is itself down (e.g. the worker while Temporal restarts): try again. */
export async function restartPatiently(cluster: RunningCluster, component: string, say: (line: string) => void): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await cluster.restart(component);
      return;
    } catch (error) {
      if (attempt >= 10) throw error;
      say(`restart of ${component} failed (attempt ${attempt}): ${error instanceof Error ? error.message.split('\n')[0] : String(error)}; retrying`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}
