/**
 * Throughput and latency of the real transfer saga beside bare workflows on the same Temporal
 * server, in one run, interleaved, after a warm-up, with the CPU of every process per arm.
 *
 *   npm run bench:saga [-- --transfers 120 --concurrency 8 --rounds 2 --tracing --codec --variant NAME=VALUE …]
 *
 * Arms: `bare` (two no-op activities), `bare+visibility` (the same, started with the saga's
 * search attributes and recording its two status changes), `saga` (the cluster's own worker,
 * started with the API's search attributes, without a transfer record), and `saga+record` (the same
 * worker, started through the API's create use case: the record and its chain place first, then the
 * saga with `transferRecord`, which writes every change to the record in the API's FerretDB).
 *
 * --codec adds two sagas on in-process workers, one encrypting every payload and one without a
 * codec: the cost of payload encryption.
 *
 * --variant NAME=VALUE (repeatable; the worker's WORKER_* settings, e.g. WORKER_MAX_CACHED_WORKFLOWS=0)
 * adds two sagas on in-process workers that differ only by those settings: `baseline` with the
 * SDK's defaults and `variant` with the settings given.
 *
 * --profile-dir DIR has every service process write a V8 CPU profile (.cpuprofile) there when the
 * cluster stops, to open in Chrome's DevTools.
 */
import { authorityKeyOf, signingKeyOf } from '../../infra/secrets';
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { apiDatabaseName } from '../../infra/cluster';
import { transferTaskQueue, transferWorkflowId, type TransferInput, type TransferState } from '../../lib/contracts/transfer-contract';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import { initialTransferSearchAttributes, startTransfer } from '../../lib/temporal/transfer-start';
import { startTestCluster } from '../support/cluster';
import { apiCaller } from '../support/http';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { quietTemporalRuntime, testCodecKeys } from '../support/temporal';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import type { CodecKey } from '../../lib/crypto/payload-codec';
import { bundleTransferWorkflows, createTransferWorker } from '../../services/worker/transfer-worker';
import { TemporalTransferWorkflows } from '../../services/transfer-api/gateways/temporal-transfer-workflows';
import { createTransfer } from '../../services/transfer-api/use-cases/create-transfer';
import { parseWorkerTuning, type WorkerTuning } from '../../services/worker/worker-tuning';
import { createNoopActivities } from './noop-activities';
import { bareTwoActivityWorkflow, bareWithVisibilityWorkflow } from './workflows/bare';
import { busiest, closedLoop, cpuGroups, cpuMsPerOperation, meanCpu, meanOf, numberArgument, type Run } from './bench-support';

/** Every value of a repeatable `--name value` option. */
function repeatedArgument(name: string): string[] {
  return process.argv.flatMap((arg, index) => (arg === `--${name}` ? [process.argv[index + 1] as string] : []));
}

/** A saga worker in this process, on a task queue of its own. */
interface InProcessArm {
  arm: string;
  codecKeys: readonly CodecKey[] | undefined;
  tuning: WorkerTuning;
}

async function main(): Promise<void> {
  const transfers = numberArgument('transfers', 120);
  const concurrency = numberArgument('concurrency', 8);
  const rounds = numberArgument('rounds', 2);
  quietTemporalRuntime();
  // --sqlite-pragma NAME=VALUE (repeatable) runs the dev server with extra pragmas, to measure a tuning.
  const extraSqlitePragmas = repeatedArgument('sqlite-pragma');
  if (extraSqlitePragmas.length > 0) console.log(`extra SQLite pragmas: ${extraSqlitePragmas.join(' ')}`);
  // --dynamic-config KEY=VALUE (repeatable) runs the dev server with a dynamic configuration value.
  const dynamicConfig = repeatedArgument('dynamic-config');
  if (dynamicConfig.length > 0) console.log(`dynamic config: ${dynamicConfig.join(' ')}`);
  const variantSettings = repeatedArgument('variant');
  const variant = variantSettings.length > 0 ? parseWorkerTuning(variantSettings) : undefined;
  if (variant) console.log(`worker variant: ${variantSettings.join(' ')}`);
  const inProcess: InProcessArm[] = [
    ...(process.argv.includes('--codec')
      ? [
          { arm: 'saga, encrypted', codecKeys: testCodecKeys, tuning: {} },
          { arm: 'saga, plain', codecKeys: undefined, tuning: {} },
        ]
      : []),
    ...(variant
      ? [
          { arm: 'saga, baseline', codecKeys: testCodecKeys, tuning: {} },
          { arm: 'saga, variant', codecKeys: testCodecKeys, tuning: variant },
        ]
      : []),
  ];

  console.log('starting the local cluster (Temporal, 3 FerretDB, 3 account services, worker, API)…');
  // --tracing: the worker and account services trace and export every span (OTLP/HTTP) to a receiver in this process.
  const receiver = process.argv.includes('--tracing') ? await startOtlpReceiver() : undefined;
  if (receiver) console.log(`tracing on, exporting to ${receiver.url}`);
  const tracingEnv: Record<string, string> = receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {};
  const [profileDir] = repeatedArgument('profile-dir');
  if (profileDir) mkdirSync(resolve(profileDir), { recursive: true });
  const profileEnv: Record<string, string> = profileDir ? { NODE_OPTIONS: `--import ${pathToFileURL(require.resolve('./cpu-profile-preload.mjs')).href}`, CPU_PROFILE_DIR: resolve(profileDir) } : {};
  if (profileDir) console.log(`CPU profiles of the services go to ${resolve(profileDir)}`);
  const env = await startTestCluster('bench-saga', { services: true, serviceEnv: { LOG_LEVEL: 'warn', ...tracingEnv, ...profileEnv }, extraSqlitePragmas, dynamicConfig });
  const connection = await Connection.connect({ address: env.cluster.temporalAddress });
  const plainClient = new Client({ connection });
  // The cluster's worker encrypts with the tests' codec keys, as production encrypts with its own.
  const codecClient = new Client({ connection, dataConverter: transferDataConverter(testCodecKeys) });
  const workerConnection = await NativeConnection.connect({ address: env.cluster.temporalAddress });
  const bareWorker = await Worker.create({ connection: workerConnection, taskQueue: 'bench-bare', workflowsPath: require.resolve('./workflows/bare'), activities: createNoopActivities() });
  const running = [bareWorker.run()];
  if (!env.cluster.secrets) throw new Error('the cluster has no service keys');
  const signingKey = signingKeyOf(env.cluster.secrets, 'worker');
  // Inputs are signed as the API signs them, with the cluster's transfer authority key.
  const authorityKey = authorityKeyOf(env.cluster.secrets);
  const banks = [...env.cluster.accountServiceUrls].map(([bankId, url]) => ({ bankId, url }));
  const bundle = inProcess.length > 0 ? await bundleTransferWorkflows() : undefined;
  const taskQueueOf = (arm: string): string => `bench-${arm.replace(/[^a-z]+/g, '-')}`;
  const sagaWorkers = bundle
    ? await Promise.all(
        inProcess.map(({ arm, codecKeys, tuning }) =>
          createTransferWorker({ connection: workerConnection, namespace: 'default', taskQueue: taskQueueOf(arm), bundle, banks, signingKey, authorityKeys: [authorityKey], requestTimeoutMs: 10_000, codecKeys, tuning }),
        ),
      )
    : [];
  running.push(...sagaWorkers.map((worker) => worker.run()));
  // The API's database, where the cluster's worker writes the record of transfers started with transferRecord.
  const apiMongo = new MongoClient(env.cluster.apiDatabaseUrl, { useBigInt64: true });
  const records = new TransferRecordStore(apiMongo.db(apiDatabaseName));
  try {
    const operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    const sources = 8;
    for (let s = 0; s < sources; s += 1) {
      await operator.post('/v1/banks/bank-a/accounts', { accountId: `src-${s}`, owner: 'bench', currency: 'EUR' });
      await operator.post(`/v1/banks/bank-a/accounts/src-${s}/deposits`, { depositId: `bench-${s}`, amountMinor: '100000000', currency: 'EUR' });
      await operator.post('/v1/banks/bank-b/accounts', { accountId: `dst-${s}`, owner: 'bench', currency: 'EUR' });
    }
    const policy = { approvalThresholdMinor: '1000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '1000000000', banks: ['bank-a', 'bank-b', 'bank-c'], refundAttentionAfterAttempts: 5 };
    const run = randomUUID().slice(0, 8);
    let serial = 0;
    const transferInput = (): TransferInput => {
      serial += 1;
      return {
        transferId: `bench-${run}-${serial}`,
        source: { bankId: 'bank-a', accountId: `src-${serial % sources}` },
        target: { bankId: 'bank-b', accountId: `dst-${serial % sources}` },
        amountMinor: '1',
        currency: 'EUR',
        requestedBy: 'bench',
        policy,
      };
    };
    // As the API creates a transfer: the record and its place in the client's chain, then the saga (policy.transferRecord set).
    const recordDeps = { records, policy, workflows: new TemporalTransferWorkflows({ client: codecClient, namespace: 'default', taskQueue: transferTaskQueue, workerAnswerTimeoutMs: 5_000, authorityKey }) };
    let lastRecorded: string | undefined;
    const sagaWithRecord = async (): Promise<void> => {
      const input = transferInput();
      const body = { source: input.source, target: input.target, amountMinor: input.amountMinor, currency: input.currency };
      const { transfer } = await createTransfer(recordDeps, { name: input.requestedBy, role: 'client' }, input.transferId, body);
      const state = await codecClient.workflow.getHandle<() => Promise<TransferState>>(transferWorkflowId(transfer.id)).result();
      if (state.status !== 'COMPLETED') throw new Error(`transfer ended ${state.status}`);
      lastRecorded = transfer.id;
    };
    const sagaOn = (taskQueue: string | undefined, starter: Client) => async (): Promise<void> => {
      // Started as the API starts it: memo and every search attribute, which Temporal indexes too.
      const state = await (await startTransfer(starter, transferInput(), { authorityKey, ...(taskQueue ? { taskQueue } : {}) })).result();
      if (state.status !== 'COMPLETED') throw new Error(`transfer ended ${state.status}`);
    };
    const runners = new Map<string, () => Promise<void>>([
      ['bare', () => plainClient.workflow.execute(bareTwoActivityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-${run}-${(serial += 1)}` })],
      [
        'bare+visibility',
        async () => {
          const input = transferInput();
          await plainClient.workflow.execute(bareWithVisibilityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-vis-${input.transferId}`, typedSearchAttributes: initialTransferSearchAttributes(input) });
        },
      ],
      ['saga', sagaOn(undefined, codecClient)],
      ['saga+record', sagaWithRecord],
      ...inProcess.map(({ arm, codecKeys }): [string, () => Promise<void>] => [arm, sagaOn(taskQueueOf(arm), codecKeys ? codecClient : plainClient)]),
    ]);

    console.log('warm-up…');
    for (const runner of runners.values()) await closedLoop(env.cluster, 20, concurrency, runner);
    const results = new Map<string, Run[]>([...runners.keys()].map((arm) => [arm, []]));
    for (let round = 1; round <= rounds; round += 1) {
      // Every other round runs the arms in reverse, so that no arm always follows the same one (and its leftovers).
      const order = round % 2 === 1 ? [...runners] : [...runners].reverse();
      for (const [arm, runner] of order) {
        const result = await closedLoop(env.cluster, transfers, concurrency, runner);
        results.get(arm)?.push(result);
        console.log(`round ${round} ${arm.padEnd(16)}: ${result.perSecond.toFixed(1)}/s  p50 ${result.p50Ms.toFixed(0)} ms  p99 ${result.p99Ms.toFixed(0)} ms  cpu: ${busiest(result)}`);
      }
    }
    const recorded = lastRecorded === undefined ? undefined : await records.find(lastRecorded);
    if (recorded?.latest?.state.status !== 'COMPLETED') throw new Error(`the record of ${lastRecorded} does not say COMPLETED`);
    const bareRate = meanOf(results.get('bare') ?? [], 'perSecond');
    console.log(`\n${transfers} workflows per arm and round, ${concurrency} in flight, ${rounds} rounds interleaved`);
    console.log(`${'arm'.padEnd(16)}  per second  ratio to bare   p50 ms   p99 ms   CPU ms per workflow: ${cpuGroups.join(' | ')} | total`);
    for (const [arm, runs] of results) {
      const rate = meanOf(runs, 'perSecond');
      const ms = cpuMsPerOperation(meanCpu(runs), rate);
      const cpuCells = [...cpuGroups, 'total' as const].map((group) => ms[group].toFixed(0).padStart(group.length)).join(' | ');
      console.log(`${arm.padEnd(16)}  ${rate.toFixed(1).padStart(10)}  ${`${(rate / bareRate).toFixed(2)}x`.padStart(13)}   ${meanOf(runs, 'p50Ms').toFixed(0).padStart(6)}   ${meanOf(runs, 'p99Ms').toFixed(0).padStart(6)}   ${' '.repeat(21)}${cpuCells}`);
    }
    const ratio = (a: string, b: string): string => (meanOf(results.get(a) ?? [], 'perSecond') / meanOf(results.get(b) ?? [], 'perSecond')).toFixed(2);
    console.log(`\nsaga / bare throughput: ${ratio('saga', 'bare')}x; bare+visibility / bare: ${ratio('bare+visibility', 'bare')}x; saga+record / saga: ${ratio('saga+record', 'saga')}x`);
    if (results.has('saga, encrypted')) console.log(`encrypted / plain saga throughput: ${ratio('saga, encrypted', 'saga, plain')}x`);
    if (variant) console.log(`variant (${variantSettings.join(' ')}) / baseline saga throughput: ${ratio('saga, variant', 'saga, baseline')}x`);
    if (receiver) console.log(`spans received: ${receiver.spans().length}`);
    const outputDir = join(__dirname, '..', '..', 'bench-results');
    mkdirSync(outputDir, { recursive: true });
    const file = `saga-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
    writeFileSync(join(outputDir, file), JSON.stringify({ transfers, concurrency, rounds, variant: variantSettings, extraSqlitePragmas, dynamicConfig, results: Object.fromEntries(results) }, null, 2));
    console.log(`results: bench-results/${file}`);
  } finally {
    bareWorker.shutdown();
    for (const worker of sagaWorkers) worker.shutdown();
    await Promise.all(running);
    await workerConnection.close();
    await connection.close();
    await apiMongo.close();
    await env.stop();
    await receiver?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
