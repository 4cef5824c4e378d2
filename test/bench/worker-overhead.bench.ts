/**
 * What the worker process costs per saga beyond the saga's own work: the cluster's worker
 * (services/worker/main.ts, started by the launcher) against workers that this benchmark starts
 * as processes of their own, each on its own task queue, all measured the same way (utime +
 * stime from /proc around a closed loop of sagas). Arms run in turn, interleaved, every other
 * round reversed, after a warm-up; A/A arms repeat an arm in the same round to show the noise.
 *
 *   npm run bench:worker [-- --rounds 3 --count 300 --concurrency 16 --arms cluster,options]
 *
 * Arms:
 *   cluster        the cluster's worker process (task queue `transfers`)
 *   main           services/worker/main.ts started by the benchmark as the launcher starts it
 *   main-no-maps   the same without node's --enable-source-maps
 *   options        createTransferWorker with the options of system.bench's 'saga encrypted' arm
 *   options+maps   the same with --enable-source-maps
 *   options+logs   the same with the SDK's logs forwarded to pino, as main.ts does
 *   options+metrics  the same with the SDK runtime's Prometheus exporter, as main.ts does
 *   plain          createTransferWorker without payload encryption (system.bench's 'saga plain')
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString, type Logger } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { apiDatabaseName, databaseName } from '../../infra/cluster';
import { findFreePort } from '../../infra/ports';
import { authorityKeyOf, formatSigningKey, formatSigningKeys, signingKeyOf } from '../../infra/secrets';
import type { TransferInput } from '../../lib/contracts/transfer-contract';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { startTransfer } from '../../lib/temporal/transfer-start';
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { workerMetricsExporter } from '../../services/worker/metrics';
import { sdkLogger } from '../../services/worker/runtime-logger';
import { bundleTransferWorkflows, createTransferWorker } from '../../services/worker/transfer-worker';
import { startTestCluster } from '../support/cluster';
import { quietTemporalRuntime, testCodecKeys, testCodecKeysSetting } from '../support/temporal';
import { closedLoopLatencies, numberArgument, seedLedgerAccount } from './bench-support';

const projectRoot = join(__dirname, '..', '..');
const childFlag = '--worker-overhead-child';
const clockTicksPerSecond = 100;
const payers = 64;

type Feature = 'logs' | 'metrics';

/** What a worker started by the benchmark with createTransferWorker runs with. */
interface ChildSpec {
  temporalAddress: string;
  taskQueue: string;
  banks: Array<{ bankId: string; url: string }>;
  signingKey: SigningKey;
  authorityKey: SigningKey;
  encrypted: boolean;
  features: Feature[];
  metricsPort: number;
}

// ---- the child: one saga worker in a process of its own -------------------------------------

const quietLogger: Logger = { log: () => undefined, trace: () => undefined, debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

async function runChild(spec: ChildSpec): Promise<void> {
  const logger = pino({ name: 'worker', level: 'warn' });
  Runtime.install({
    logger: spec.features.includes('logs') ? sdkLogger(logger) : quietLogger,
    telemetryOptions: {
      logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(spec.features.includes('metrics') ? { metrics: workerMetricsExporter(`127.0.0.1:${spec.metricsPort}`) } : {}),
    },
  });
  const bundle = await bundleTransferWorkflows();
  const connection = await NativeConnection.connect({ address: spec.temporalAddress });
  const worker = await createTransferWorker({
    connection, namespace: 'default', taskQueue: spec.taskQueue, bundle, banks: spec.banks, signingKey: spec.signingKey,
    authorityKeys: [spec.authorityKey], requestTimeoutMs: 10_000, codecKeys: spec.encrypted ? testCodecKeys : undefined,
  });
  const running = worker.run();
  process.stdout.write('worker running\n');
  // The SDK stops the worker on SIGTERM.
  await running;
  await connection.close();
}

// ---- the benchmark -------------------------------------------------------------------------

interface Arm {
  name: string;
  taskQueue: string;
  encrypted: boolean;
  pid: () => number | undefined;
}

function cpuTicks(pid: number | undefined): number {
  if (pid === undefined) throw new Error('the arm has no process');
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

/** Starts a process and resolves once it printed the line that says its worker polls. */
function startProcess(name: string, args: string[], env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'development', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes('worker running')) resolve(child);
      if (output.length > 100_000) output = output.slice(-10_000);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[${name}] ${chunk.toString()}`));
    child.once('exit', (code) => reject(new Error(`${name} exited (${code}) before its worker ran:\n${output.slice(-2_000)}`)));
  });
}

interface ClusterFacts {
  temporalAddress: string;
  banks: Array<{ bankId: string; url: string }>;
  signingKey: SigningKey;
  reconciliationKey: SigningKey;
  authorityKey: SigningKey;
  settlementBankId: string;
  settlementBankUrl: string;
  apiDatabaseUrl: string;
}

/** services/worker/main.ts with the environment the launcher gives it, on a task queue of its own. */
async function startMainProcess(facts: ClusterFacts, taskQueue: string, sourceMaps: boolean): Promise<ChildProcess> {
  const env = {
    TEMPORAL_ADDRESS: facts.temporalAddress, TEMPORAL_NAMESPACE: 'default', TASK_QUEUE: taskQueue,
    BANKS: facts.banks.map((bank) => `${bank.bankId}=${bank.url}`).join(','),
    TRANSFER_AUTHORITY_KEYS: formatSigningKeys([facts.authorityKey]), PAYLOAD_CODEC_KEYS: testCodecKeysSetting,
    EVENTS_MONGODB_URL: facts.apiDatabaseUrl, EVENTS_DATABASE_NAME: apiDatabaseName,
    SETTLEMENT_BANK_ID: facts.settlementBankId, SETTLEMENT_BANK_URL: facts.settlementBankUrl,
    SERVICE_SIGNING_KEY: formatSigningKey(facts.signingKey), RECONCILIATION_SIGNING_KEY: formatSigningKey(facts.reconciliationKey),
    // 0 would remove the cluster's schedule, a positive interval would move it to this task queue: a day leaves it be.
    RECONCILIATION_INTERVAL_MINUTES: String(24 * 60),
    BIND_HOST: '127.0.0.1', WORKER_METRICS_PORT: String(await findFreePort('127.0.0.1')), LOG_LEVEL: 'warn',
  };
  const args = [...(sourceMaps ? ['--enable-source-maps'] : []), '--import', 'tsx', join(projectRoot, 'services/worker/main.ts')];
  // main.ts logs at warn only; its start is seen by its task queue's pollers, so the line is printed here.
  const child = spawn(process.execPath, args, { cwd: projectRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'development', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.on('data', (chunk: Buffer) => process.stderr.write(`[main ${taskQueue}] ${chunk.toString()}`));
  return child;
}

async function startChildWorker(facts: ClusterFacts, taskQueue: string, options: { encrypted: boolean; features: Feature[]; sourceMaps: boolean }): Promise<ChildProcess> {
  const spec: ChildSpec = { temporalAddress: facts.temporalAddress, taskQueue, banks: facts.banks, signingKey: facts.signingKey, authorityKey: facts.authorityKey, encrypted: options.encrypted, features: options.features, metricsPort: await findFreePort('127.0.0.1') };
  const args = [...(options.sourceMaps ? ['--enable-source-maps'] : []), '--import', 'tsx', __filename, childFlag, JSON.stringify(spec)];
  return startProcess(taskQueue, args, {});
}

/** Waits until a task queue has a workflow poller (main.ts prints nothing at warn). */
async function waitForPoller(client: Client, taskQueue: string): Promise<void> {
  for (let attempt = 0; attempt < 600; attempt += 1) {
    const answer = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType: 1 });
    if (answer.pollers.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no worker polls ${taskQueue}`);
}

const armNames = ['cluster', 'main', 'main-no-maps', 'options', 'options+maps', 'options+logs', 'options+metrics', 'plain'] as const;
type ArmName = (typeof armNames)[number];

async function startArm(name: ArmName, facts: ClusterFacts, client: Client, clusterWorkerPid: number | undefined, children: ChildProcess[]): Promise<Arm> {
  if (name === 'cluster') return { name, taskQueue: 'transfers', encrypted: true, pid: () => clusterWorkerPid };
  const taskQueue = `bench-${name.replace(/[^a-z]+/g, '-')}`;
  const child = name === 'main' || name === 'main-no-maps'
    ? await startMainProcess(facts, taskQueue, name === 'main')
    : await startChildWorker(facts, taskQueue, {
        encrypted: name !== 'plain',
        sourceMaps: name === 'options+maps',
        features: name === 'options+logs' ? ['logs'] : name === 'options+metrics' ? ['metrics'] : [],
      });
  children.push(child);
  await waitForPoller(client, taskQueue);
  return { name, taskQueue, encrypted: name !== 'plain', pid: () => child.pid };
}

interface Sample {
  arm: string;
  perSecond: number;
  workerCpuMsPerSaga: number;
  clientCpuMsPerSaga: number;
}

const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

function report(samples: readonly Sample[], arms: readonly string[]): void {
  console.log('\narm               sagas/s   worker CPU ms/saga (each run)          mean   bench client ms/saga');
  for (const arm of arms) {
    const runs = samples.filter((sample) => sample.arm === arm);
    const each = runs.map((run) => run.workerCpuMsPerSaga.toFixed(1)).join(' ');
    console.log(`  ${arm.padEnd(16)} ${mean(runs.map((run) => run.perSecond)).toFixed(1).padStart(6)}   ${each.padEnd(34)} ${mean(runs.map((run) => run.workerCpuMsPerSaga)).toFixed(2).padStart(6)}   ${mean(runs.map((run) => run.clientCpuMsPerSaga)).toFixed(2)}`);
  }
}

/** CPU ticks of each of a process's threads, summed by thread name (node's main thread, libuv's, the SDK's tokio threads…). */
function threadTicks(pid: number | undefined): Map<string, number> {
  const byName = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${task}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + Number(fields[11]) + Number(fields[12]));
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return byName;
}

/** What each worker costs with nothing to do (pollers, timers, exporters), in CPU ms per second, and which threads spend it. */
async function reportIdle(arms: readonly Arm[], seconds: number): Promise<void> {
  const before = arms.map((arm) => ({ total: cpuTicks(arm.pid()), threads: threadTicks(arm.pid()) }));
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  console.log(`\nidle for ${seconds} s, CPU ms per second (busiest threads):`);
  const msPerSecond = (ticks: number): string => ((ticks * 1000) / clockTicksPerSecond / seconds).toFixed(1);
  arms.forEach((arm, index) => {
    const threads = [...threadTicks(arm.pid())].map(([name, ticks]) => [name, ticks - (before[index]?.threads.get(name) ?? 0)] as const).filter(([, ticks]) => ticks > 0).sort((a, b) => b[1] - a[1]);
    console.log(`  ${arm.name.padEnd(16)} ${msPerSecond(cpuTicks(arm.pid()) - (before[index]?.total ?? 0)).padStart(6)}   ${threads.slice(0, 4).map(([name, ticks]) => `${name} ${msPerSecond(ticks)}`).join(', ')}`);
  });
}

async function main(): Promise<void> {
  const rounds = numberArgument('rounds', 3);
  const count = numberArgument('count', 300);
  const concurrency = numberArgument('concurrency', 16);
  const armsIndex = process.argv.indexOf('--arms');
  const chosen = (armsIndex >= 0 ? (process.argv[armsIndex + 1] ?? '').split(',') : ['cluster', 'options', 'plain', 'main', 'main-no-maps', 'options+maps', 'options+logs', 'options+metrics']) as ArmName[];
  for (const name of chosen) if (!armNames.includes(name)) throw new Error(`unknown arm ${name}; arms: ${armNames.join(', ')}`);
  quietTemporalRuntime();
  console.log('starting the local cluster…');
  const env = await startTestCluster('bench-worker-overhead', { services: true, serviceEnv: { LOG_LEVEL: 'warn' } });
  const children: ChildProcess[] = [];
  const connection = await Connection.connect({ address: env.cluster.temporalAddress });
  const mongo = new MongoClient(env.cluster.databaseUrls.get('bank-a') as string, { useBigInt64: true });
  const mongoB = new MongoClient(env.cluster.databaseUrls.get('bank-b') as string, { useBigInt64: true });
  try {
    const secrets = env.cluster.secrets;
    if (!secrets) throw new Error('the cluster has no service keys');
    const facts: ClusterFacts = {
      temporalAddress: env.cluster.temporalAddress,
      banks: [...env.cluster.accountServiceUrls].map(([bankId, url]) => ({ bankId, url })),
      signingKey: signingKeyOf(secrets, 'worker'), reconciliationKey: signingKeyOf(secrets, 'reconciliation'), authorityKey: authorityKeyOf(secrets),
      settlementBankId: env.cluster.settlementBankId, settlementBankUrl: env.cluster.settlementBankUrl, apiDatabaseUrl: env.cluster.apiDatabaseUrl,
    };
    const clients = { encrypted: new Client({ connection, dataConverter: transferDataConverter(testCodecKeys) }), plain: new Client({ connection }) };
    console.log('seeding accounts…');
    for (let s = 0; s < payers; s += 1) await seedLedgerAccount(new LedgerStore(mongo.db(databaseName('bank-a'))), `payer-${s}`, 2_000);
    for (let s = 0; s < payers; s += 1) await seedLedgerAccount(new LedgerStore(mongoB.db(databaseName('bank-b'))), `payee-${s}`, 1);
    console.log(`starting the workers of ${chosen.join(', ')}…`);
    const clusterWorkerPid = env.cluster.component('worker').process.pid;
    const arms: Arm[] = [];
    for (const name of chosen) arms.push(await startArm(name, facts, clients.plain, clusterWorkerPid, children));
    const samples = await runRounds(arms, clients, facts.authorityKey, { rounds, count, concurrency });
    await reportIdle(arms, numberArgument('idle-seconds', 30));
    report(samples, arms.flatMap((arm) => [arm.name, `${arm.name} A/A`]));
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await Promise.all(children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined)));
    await connection.close();
    await mongo.close();
    await mongoB.close();
    await env.stop();
  }
}

async function runRounds(arms: readonly Arm[], clients: { encrypted: Client; plain: Client }, authorityKey: SigningKey, load: { rounds: number; count: number; concurrency: number }): Promise<Sample[]> {
  const run = randomUUID().slice(0, 8);
  let serial = 0;
  const policy = { approvalThresholdMinor: '1000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '1000000000', banks: ['bank-a', 'bank-b', 'bank-c'], refundAttentionAfterAttempts: 5 };
  const saga = (arm: Arm) => async (index: number): Promise<void> => {
    serial += 1;
    const input: TransferInput = {
      transferId: `overhead-${run}-${serial}`, source: { bankId: 'bank-a', accountId: `payer-${index % payers}` }, target: { bankId: 'bank-b', accountId: `payee-${index % payers}` },
      amountMinor: '1', currency: 'EUR', requestedBy: 'bench', policy,
    };
    const state = await (await startTransfer(arm.encrypted ? clients.encrypted : clients.plain, input, { authorityKey, taskQueue: arm.taskQueue })).result();
    if (state.status !== 'COMPLETED') throw new Error(`saga on ${arm.name} ended ${state.status}`);
  };
  console.log('warm-up…');
  for (const arm of arms) await closedLoopLatencies(Math.max(48, load.concurrency * 3), load.concurrency, saga(arm));
  const samples: Sample[] = [];
  for (let round = 1; round <= load.rounds; round += 1) {
    console.log(`round ${round} of ${load.rounds}`);
    // Each arm twice (A/A), and every other round in reverse, so that no arm always follows the same one.
    const order = arms.flatMap((arm) => [{ arm, label: arm.name }, { arm, label: `${arm.name} A/A` }]);
    if (round % 2 === 0) order.reverse();
    for (const { arm, label } of order) {
      const ticksBefore = cpuTicks(arm.pid());
      const clientBefore = process.cpuUsage();
      const { seconds } = await closedLoopLatencies(load.count, load.concurrency, saga(arm));
      const workerCpuMsPerSaga = ((cpuTicks(arm.pid()) - ticksBefore) * 1000) / clockTicksPerSecond / load.count;
      const client = process.cpuUsage(clientBefore);
      const sample = { arm: label, perSecond: load.count / seconds, workerCpuMsPerSaga, clientCpuMsPerSaga: (client.user + client.system) / 1000 / load.count };
      samples.push(sample);
      console.log(`  ${label.padEnd(20)} ${sample.perSecond.toFixed(1).padStart(6)}/s  worker ${workerCpuMsPerSaga.toFixed(2)} ms/saga  bench client ${sample.clientCpuMsPerSaga.toFixed(2)} ms/saga`);
    }
  }
  return samples;
}

const childIndex = process.argv.indexOf(childFlag);
const entry = childIndex >= 0 ? runChild(JSON.parse(process.argv[childIndex + 1] ?? '{}') as ChildSpec) : main();
entry.catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
