import { signingKeyOf } from '../../infra/secrets';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { ephemeralPlan, startCluster, type RunningCluster } from '../../infra/cluster';
import { findFreePort } from '../../infra/ports';
import { formatTable } from '../../infra/terminal';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { payloadCodecKeysSchema } from '../../lib/crypto/payload-codec';
import { transferWorkflowType } from '../../lib/contracts/transfer-definitions';
import { apiCaller } from '../support/http';
import { fileLogSink, temporaryDir } from '../support/cluster';
import { check, type RuleVerdict } from './checker';
import { FaultyProxy } from './faulty-proxy';
import { faultSchedule, playTimeline, restartPatiently, type FaultCounts, type FaultLogEntry } from './faults';
import { SeededRandom } from './seeded-random';
import { runWorkload, setUpAccounts, workloadAccounts } from './workload';

/**
 * `npm run chaos` (short profile, part of `npm test`) and `npm run soak` (long profile): the
 * bank workload on a real local cluster under kill -9, lost acknowledgements and partitions,
 * then the checker at quiescence. `--seed N` repeats a run exactly.
 */

interface Profile {
  name: 'short' | 'soak' | 'cluster';
  /** Temporal as four services over PostgreSQL (the launcher's --temporal=cluster) instead of the dev server. */
  temporalCluster?: boolean;
  workloadMs: number;
  clients: number;
  pauseMsMin: number;
  pauseMsMax: number;
  faults: FaultCounts;
  /** Every transfer must end within this long after the last fault has healed. */
  quiescenceBoundMs: number;
}

const profiles: Record<Profile['name'], Profile> = {
  short: {
    name: 'short',
    workloadMs: 120_000,
    clients: 4,
    pauseMsMin: 200,
    pauseMsMax: 900,
    faults: { worker: 10, accountService: 3, database: 3, temporal: 1, settlementBank: 2, proxyDelay: 2, proxyDropResponses: 3, proxyPartition: 2 },
    quiescenceBoundMs: 180_000,
  },
  // The short profile on the production topology, with the faults the dev server cannot show.
  cluster: {
    name: 'cluster',
    temporalCluster: true,
    workloadMs: 120_000,
    clients: 4,
    pauseMsMin: 200,
    pauseMsMax: 900,
    faults: { worker: 6, accountService: 2, database: 2, temporal: 1, settlementBank: 1, temporalHistory: 3, temporalMatching: 3, temporalPostgres: 2, proxyDelay: 2, proxyDropResponses: 2, proxyPartition: 2 },
    quiescenceBoundMs: 180_000,
  },
  // Offered load stays below what the saga sustains while faults hit it (about 5/s here), so that
  // the time to quiescence measures recovery, not a backlog.
  soak: {
    name: 'soak',
    workloadMs: 9 * 60_000,
    clients: 3,
    pauseMsMin: 300,
    pauseMsMax: 1_200,
    faults: { worker: 50, accountService: 10, database: 10, temporal: 3, settlementBank: 6, proxyDelay: 12, proxyDropResponses: 12, proxyPartition: 12 },
    quiescenceBoundMs: 240_000,
  },
};

/** Short saga timeouts, so that the bound after the last heal means something. */
const approvalThresholdMinor = 100_000n;
const chaosServiceEnv = {
  LOG_LEVEL: 'warn',
  APPROVAL_THRESHOLD_MINOR: String(approvalThresholdMinor),
  APPROVAL_TIMEOUT_MS: '15000',
  CREDIT_GIVE_UP_AFTER_MS: '15000',
  DEBIT_GIVE_UP_AFTER_MS: '15000',
  REFUND_ATTENTION_AFTER_ATTEMPTS: '3',
  BANK_REQUEST_TIMEOUT_MS: '2000',
  RATE_LIMIT_PER_MINUTE: '1000000',
  RECONCILIATION_INTERVAL_MINUTES: '1',
};
const proxiedBank = 'bank-b';
const clientKeys = [{ name: 'client-b', role: 'client' as const, key: 'cl_chaos_client_b_0123456789abcdef' }];

function parseArgs(argv: readonly string[]): { profile: Profile; seed: number } {
  let profile = profiles.short;
  let seed = Math.floor(Math.random() * 2 ** 31);
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const value = argv[i + 1];
    if (arg === '--profile' && (value === 'short' || value === 'soak' || value === 'cluster')) {
      profile = profiles[value];
      i += 1;
    } else if (arg === '--seed' && value !== undefined && /^[0-9]{1,10}$/.test(value)) {
      seed = Number(value);
      i += 1;
    } else {
      throw new Error(`unknown argument ${arg ?? ''}; use --profile short|soak|cluster and --seed <number>`);
    }
  }
  return { profile, seed };
}

const started = Date.now();
function say(line: string): void {
  const seconds = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[chaos ${seconds}s] ${line}\n`);
}

/** Restarts whatever died without being killed by the schedule (and counts it: that is a finding too). */
function superviseCluster(cluster: RunningCluster, downOnPurpose: ReadonlySet<string>, unplanned: string[]): () => void {
  const restarting = new Set<string>();
  const timer = setInterval(() => {
    for (const component of cluster.components()) {
      if (component.process.running || downOnPurpose.has(component.name) || restarting.has(component.name)) continue;
      restarting.add(component.name);
      unplanned.push(component.name);
      say(`supervisor: ${component.name} exited on its own; restarting it`);
      // Fire-and-forget: the supervisor keeps polling while the restart runs; `restarting` guards re-entry.
      void restartPatiently(cluster, component.name, say).finally(() => restarting.delete(component.name));
    }
  }, 1_000);
  return () => clearInterval(timer);
}

/**
 * Waits until Temporal has no running transfer workflow, and says when the last one closed:
 * the workflows' own close times, not the polling, measure the time to quiescence.
 */
async function waitForQuiescence(temporalAddress: string, namespace: string, dataConverter: DataConverter, deadlineMs: number): Promise<{ quiet: boolean; lastCloseAt: number }> {
  const connection = await Connection.connect({ address: temporalAddress });
  try {
    const client = new Client({ connection, namespace, dataConverter });
    const running = `WorkflowType = '${transferWorkflowType}' AND ExecutionStatus = 'Running'`;
    let lastReport = 0;
    let open = Number.POSITIVE_INFINITY;
    while (Date.now() < deadlineMs) {
      open = await client.workflow
        .count(running)
        .then((answer) => answer.count)
        .catch(() => Number.POSITIVE_INFINITY);
      if (open === 0) break;
      if (Date.now() - lastReport > 10_000) {
        say(`waiting for ${Number.isFinite(open) ? open : 'an unknown number of'} transfer(s) to end`);
        lastReport = Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    let lastCloseAt = 0;
    for await (const execution of client.workflow.list({ query: `WorkflowType = '${transferWorkflowType}'` })) {
      lastCloseAt = Math.max(lastCloseAt, execution.closeTime?.getTime() ?? Date.now());
    }
    return { quiet: open === 0, lastCloseAt };
  } finally {
    await connection.close();
  }
}

function countBy<T>(items: readonly T[], keyOf: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[keyOf(item)] = (counts[keyOf(item)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
}

async function main(): Promise<void> {
  const { profile, seed } = parseArgs(process.argv.slice(2));
  say(`profile ${profile.name}, seed ${seed} (repeat with --seed ${seed}); workload ${profile.workloadMs / 1000} s, bound after the last heal ${profile.quiescenceBoundMs / 1000} s`);
  const random = new SeededRandom(seed);
  const dir = await temporaryDir(`chaos-${profile.name}`);
  const logs = fileLogSink(`chaos-${profile.name}`);
  const plan = await ephemeralPlan(dir.path, { services: true, serviceEnv: chaosServiceEnv, extraApiKeys: clientKeys, ...(profile.temporalCluster ? { temporalCluster: true } : {}) });
  const bankPlan = plan.banks.find((bank) => bank.bankId === proxiedBank);
  if (!bankPlan || !plan.services) throw new Error(`the plan has no ${proxiedBank}`);
  // A port the plan has not handed out already: a plan's ports stay free until its processes bind them.
  const nodes = [...plan.banks, ...(plan.settlementBank ? [plan.settlementBank] : [])];
  const planned = new Set([plan.temporal.port, plan.temporal.uiPort, ...Object.values(plan.temporal.cluster ?? {}), ...nodes.flatMap((bank) => [bank.databasePort, bank.databaseDebugPort, bank.servicePort]), ...Object.values(plan.services).filter((value): value is number => typeof value === 'number')]);
  let proxyPort = await findFreePort(plan.host);
  while (planned.has(proxyPort)) proxyPort = await findFreePort(plan.host);
  const proxy = await FaultyProxy.start(plan.host, proxyPort, bankPlan.servicePort);
  plan.services.workerBankUrls = { [proxiedBank]: `http://${plan.host}:${proxy.port}` };

  say(`starting the cluster (${profile.temporalCluster ? "Temporal's four services over PostgreSQL" : 'the Temporal dev server'}, 5 FerretDB, 3 banks and the settlement bank, worker, API)`);
  const cluster = await startCluster(plan, { sink: logs.sink });
  const secrets = cluster.secrets;
  if (!secrets) throw new Error('the cluster started without its keys');
  // The checker reads every ledger as reconciliation does, with its read-only key.
  const signingKey = signingKeyOf(secrets, 'reconciliation');
  const keyOf = (name: string): string => {
    const entry = secrets.apiKeys.find((key) => key.name === name);
    if (!entry) throw new Error(`no API key ${name}`);
    return entry.key;
  };
  const operatorKey = keyOf('operator');
  const dataConverter = transferDataConverter(payloadCodecKeysSchema.parse(secrets.codecKeys));
  const banks = plan.banks.map((bank) => bank.bankId);
  const accounts = workloadAccounts(banks);
  let exitCode = 1;
  const downOnPurpose = new Set<string>();
  const unplanned: string[] = [];
  const stopSupervising = superviseCluster(cluster, downOnPurpose, unplanned);
  // Ctrl-C stops the cluster too, so that no process of the run is left behind.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping the cluster`);
      stopSupervising();
      void cluster.stop().finally(() => process.exit(130));
    });
  }
  try {
    say(`opening ${accounts.length} accounts on ${banks.length} banks`);
    await setUpAccounts(apiCaller(cluster.transferApiUrl, operatorKey), accounts);

    const schedule = faultSchedule(random.fork(), profile.faults, banks, profile.workloadMs - 10_000);
    say(`${schedule.processes.length} process faults and ${schedule.network.length} network faults scheduled; the worker reaches ${proxiedBank} through the faulty proxy`);
    let giveUpAt = Number.POSITIVE_INFINITY;
    const workload = runWorkload(
      cluster.transferApiUrl,
      { clients: [{ name: 'client-a', key: keyOf('client-a') }, { name: 'client-b', key: keyOf('client-b') }], operator: operatorKey },
      accounts,
      { banks, approvalThresholdMinor, clients: profile.clients, pauseMsMin: profile.pauseMsMin, pauseMsMax: profile.pauseMsMax },
      random.fork(),
      () => giveUpAt,
    );
    const workloadStarted = Date.now();
    const faultLog: FaultLogEntry[] = [];
    const timelines = Promise.all([
      playTimeline(schedule.processes, workloadStarted, cluster, proxy, say, faultLog, downOnPurpose),
      playTimeline(schedule.network, workloadStarted, cluster, proxy, say, faultLog, downOnPurpose),
    ]);
    const progress = setInterval(() => say(`${workload.issued.length} transfers issued, ${workload.issued.filter((r) => r.transferId).length} acknowledged, ${faultLog.length} faults healed`), 15_000);
    await new Promise((resolve) => setTimeout(resolve, profile.workloadMs));
    workload.stop();
    clearInterval(progress);
    await timelines;

    // Heal: the proxy passes everything, every component runs.
    proxy.setMode({ kind: 'pass' });
    for (const component of cluster.components()) if (!component.process.running) await restartPatiently(cluster, component.name, say);
    const lastHealAt = Date.now();
    giveUpAt = lastHealAt + profile.quiescenceBoundMs;
    say(`workload stopped and every fault healed; waiting for ${workload.issued.length} transfers to end (bound ${profile.quiescenceBoundMs / 1000} s)`);
    await workload.finished.catch((error: unknown) => say(`workload: ${error instanceof Error ? error.message : String(error)}`));
    const { quiet, lastCloseAt } = await waitForQuiescence(cluster.temporalAddress, cluster.namespace, dataConverter, giveUpAt);
    const quiescenceMs = Math.max(0, lastCloseAt - lastHealAt);
    say(quiet ? `all transfers ended ${(quiescenceMs / 1000).toFixed(1)} s after the last heal` : `transfers still open ${(quiescenceMs / 1000).toFixed(1)} s after the last heal`);

    say('checking: API, every ledger, reconciliation, replay of every history');
    const result = await check({
      apiUrl: cluster.transferApiUrl,
      operatorKey,
      temporalAddress: cluster.temporalAddress,
      namespace: cluster.namespace,
      banks: cluster.accountServiceUrls,
      signingKey,
      dataConverter,
      accounts,
      issued: workload.issued,
      apiDatabaseUrl: cluster.apiDatabaseUrl,
      settlementBank: { bankId: cluster.settlementBankId, url: cluster.settlementBankUrl },
    });
    const bound: RuleVerdict = {
      rule: `every transfer ended within ${profile.quiescenceBoundMs / 1000} s of the last heal`,
      pass: quiet,
      detail: `${(quiescenceMs / 1000).toFixed(1)} s`,
      examples: [],
    };
    const verdicts = [bound, ...result.verdicts];
    const pass = verdicts.every((entry) => entry.pass);
    const acknowledged = workload.issued.filter((record) => record.transferId);
    const outcomes = countBy(acknowledged, (record) => {
      const status = result.statuses.get(record.transferId as string);
      return status ? `${status.status}${status.reason ? ` ${status.reason}` : ''}` : 'unreadable';
    });
    const faults = { ...countBy(faultLog, (entry) => entry.kind), ...(unplanned.length > 0 ? { 'unplanned-exit': unplanned.length } : {}) };
    const summary = {
      profile: profile.name,
      seed,
      transfers: acknowledged.length,
      outcomes,
      scenarios: countBy(workload.issued, (record) => record.kind),
      faults,
      faultCount: faultLog.length,
      unplannedExits: unplanned,
      proxy: proxy.counters,
      quiescenceAfterLastHealMs: quiescenceMs,
      quiescenceBoundMs: profile.quiescenceBoundMs,
      historiesReplayed: result.historiesReplayed,
      reconciliation: result.reconciliation ? { transfers: result.reconciliation.transfers, conservation: result.reconciliation.conservation, settlement: result.reconciliation.settlement, discrepancyCount: result.reconciliation.discrepancyCount } : null,
      rules: verdicts,
      verdict: pass ? 'PASS' : 'FAIL',
      faultLog,
    };
    const resultsDir = join(__dirname, '..', '..', 'chaos-results');
    mkdirSync(resultsDir, { recursive: true });
    const file = join(resultsDir, `${profile.name}.json`);
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);

    console.log('');
    console.log(formatTable(['outcome', 'transfers'], Object.entries(outcomes).map(([outcome, n]) => [outcome, String(n)])));
    console.log('');
    console.log(formatTable(['fault', 'injected'], Object.entries(faults).map(([kind, n]) => [kind, String(n)])));
    console.log(`proxy: ${proxy.counters.connections} connections, ${proxy.counters.droppedResponses} answers dropped after the service decided, ${proxy.counters.refused} connections refused`);
    console.log('');
    console.log(formatTable(['rule', 'verdict', 'detail'], verdicts.map((entry) => [entry.rule, entry.pass ? 'PASS' : 'FAIL', entry.detail])));
    for (const entry of verdicts.filter((v) => !v.pass)) for (const example of entry.examples) console.log(`  ${entry.rule}: ${example}`);
    console.log(`summary written to ${file}; logs in test/artifacts/logs/chaos-${profile.name}.log`);
    console.log(`chaos: ${acknowledged.length} transfers, ${faultLog.length} faults, checker ${pass ? 'PASS' : 'FAIL'}`);
    exitCode = pass ? 0 : 1;
  } finally {
    stopSupervising();
    await cluster.stop();
    await proxy.stop();
    await logs.close();
    if (exitCode === 0) await dir.remove();
    else say(`data kept for inspection in ${dir.path}`);
  }
  process.exit(exitCode);
}

main().catch((error: unknown) => {
  say(`failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  console.log('chaos: 0 transfers, 0 faults, checker FAIL');
  process.exit(1);
});
