/**
 * Throughput and latency of the real transfer saga beside a bare two-activity workflow on
 * the same Temporal server, in one run, interleaved, after a warm-up.
 *
 *   npm run bench:saga [-- --transfers 120 --concurrency 8 --rounds 2 --tracing --codec]
 *
 * --codec adds two arms that measure payload encryption: the same saga on two workers in this
 * process, one encrypting every payload (AES-256-GCM) and one without a codec, each started by a
 * client with the matching converter.
 */
import { Client, Connection } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { NativeConnection, Worker } from '@temporalio/worker';
import type { TransferInput } from '../../lib/transfer-contract';
import { startTransfer } from '../../lib/transfer-start';
import { startTestCluster } from '../support/cluster';
import { apiCaller } from '../support/http';
import { startOtlpReceiver } from '../support/otlp-receiver';
import { quietTemporalRuntime, testCodecKeys } from '../support/temporal';
import { transferDataConverter } from '../../lib/data-converter';
import { bundleTransferWorkflows, createTransferWorker } from '../../services/worker/transfer-worker';
import { createNoopActivities } from './noop-activities';
import { bareTwoActivityWorkflow } from './workflows/bare';
import { closedLoopLatencies, numberArgument, percentile } from './bench-support';

interface ArmResult {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** Runs `count` executions with at most `concurrency` in flight; each resolves when its workflow ended. */
async function measure(count: number, concurrency: number, runOne: (index: number) => Promise<void>): Promise<ArmResult> {
  const { seconds, latenciesMs } = await closedLoopLatencies(count, concurrency, runOne);
  return { perSecond: count / seconds, p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99) };
}

async function main(): Promise<void> {
  const transfers = numberArgument('transfers', 120);
  const concurrency = numberArgument('concurrency', 8);
  const rounds = numberArgument('rounds', 2);
  quietTemporalRuntime();
  console.log('starting the local cluster (Temporal, 3 FerretDB, 3 account services, worker, API)…');
  // --sqlite-pragma NAME=VALUE (repeatable) runs the dev server with extra pragmas, to measure a tuning.
  const extraSqlitePragmas = process.argv.flatMap((arg, index) => (arg === '--sqlite-pragma' ? [process.argv[index + 1] as string] : []));
  if (extraSqlitePragmas.length > 0) console.log(`extra SQLite pragmas: ${extraSqlitePragmas.join(' ')}`);
  // --dynamic-config KEY=VALUE (repeatable) runs the dev server with a dynamic configuration value.
  const dynamicConfig = process.argv.flatMap((arg, index) => (arg === '--dynamic-config' ? [process.argv[index + 1] as string] : []));
  if (dynamicConfig.length > 0) console.log(`dynamic config: ${dynamicConfig.join(' ')}`);
  // --tracing: the worker and account services trace and export every span (OTLP/HTTP) to a receiver in this process.
  const receiver = process.argv.includes('--tracing') ? await startOtlpReceiver() : undefined;
  if (receiver) console.log(`tracing on, exporting to ${receiver.url}`);
  const tracingEnv: Record<string, string> = receiver ? { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url } : {};
  const env = await startTestCluster('bench-saga', { services: true, serviceEnv: { LOG_LEVEL: 'warn', ...tracingEnv }, extraSqlitePragmas, dynamicConfig });
  const connection = await Connection.connect({ address: env.cluster.temporalAddress });
  const client = new Client({ connection });
  const workerConnection = await NativeConnection.connect({ address: env.cluster.temporalAddress });
  const bareWorker = await Worker.create({ connection: workerConnection, taskQueue: 'bench-bare', workflowsPath: require.resolve('./workflows/bare'), activities: createNoopActivities() });
  const running = bareWorker.run();
  // --codec: two in-process saga workers, identical but for payload encryption.
  const codecArms = process.argv.includes('--codec');
  const signingKey = env.cluster.secrets?.serviceKeys[0];
  if (!signingKey) throw new Error('the cluster has no service key');
  const banks = [...env.cluster.accountServiceUrls].map(([bankId, url]) => ({ bankId, url }));
  const bundle = codecArms ? await bundleTransferWorkflows() : undefined;
  const sagaWorkers = bundle
    ? await Promise.all(
        (['bench-codec', 'bench-plain'] as const).map((taskQueue) =>
          createTransferWorker({ connection: workerConnection, namespace: 'default', taskQueue, bundle, banks, signingKey, requestTimeoutMs: 10_000, codecKeys: taskQueue === 'bench-codec' ? testCodecKeys : undefined }),
        ),
      )
    : [];
  const sagaWorkersRunning = sagaWorkers.map((worker) => worker.run());
  const codecClient = new Client({ connection, dataConverter: transferDataConverter(testCodecKeys) });
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
    const sagaOn = (taskQueue: string | undefined, starter: Client) => async (): Promise<void> => {
      serial += 1;
      const input: TransferInput = {
        transferId: `bench-${run}-${serial}`,
        source: { bankId: 'bank-a', accountId: `src-${serial % sources}` },
        target: { bankId: 'bank-b', accountId: `dst-${serial % sources}` },
        amountMinor: '1',
        currency: 'EUR',
        requestedBy: 'bench',
        policy,
      };
      // Started as the API starts it: memo and every search attribute, which Temporal indexes too.
      const state = await (await startTransfer(starter, input, taskQueue ? { taskQueue } : {})).result();
      if (state.status !== 'COMPLETED') throw new Error(`transfer ended ${state.status}`);
    };
    // The cluster's own worker encrypts (the launcher gives it the tests' codec keys), as production does.
    const saga = sagaOn(undefined, codecClient);
    const sagaCodec = sagaOn('bench-codec', codecClient);
    const sagaPlain = sagaOn('bench-plain', client);
    const bare = async (): Promise<void> => {
      serial += 1;
      await client.workflow.execute(bareTwoActivityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-${run}-${serial}` });
    };

    console.log('warm-up…');
    await measure(20, concurrency, bare);
    await measure(20, concurrency, saga);
    type Arm = 'bare' | 'saga' | 'saga-codec' | 'saga-plain';
    const arms: Arm[] = codecArms ? ['bare', 'saga', 'saga-codec', 'saga-plain'] : ['bare', 'saga'];
    const runners: Record<Arm, () => Promise<void>> = { bare, saga, 'saga-codec': sagaCodec, 'saga-plain': sagaPlain };
    if (codecArms) {
      await measure(20, concurrency, sagaCodec);
      await measure(20, concurrency, sagaPlain);
    }
    const results: Record<Arm, ArmResult[]> = { bare: [], saga: [], 'saga-codec': [], 'saga-plain': [] };
    for (let round = 1; round <= rounds; round += 1) {
      for (const arm of arms) {
        const result = await measure(transfers, concurrency, runners[arm]);
        results[arm].push(result);
        console.log(`round ${round} ${arm.padEnd(10)}: ${result.perSecond.toFixed(1)}/s  p50 ${result.p50Ms.toFixed(0)} ms  p99 ${result.p99Ms.toFixed(0)} ms`);
      }
    }
    const mean = (rows: ArmResult[], key: keyof ArmResult) => rows.reduce((sum, row) => sum + row[key], 0) / rows.length;
    console.log(`\n${transfers} workflows per arm and round, ${concurrency} in flight, ${rounds} rounds interleaved`);
    console.log('arm                          per second   p50 ms   p99 ms');
    const labels: Array<[string, Arm]> = [['bare (2 no-op activities)', 'bare'], ['transfer saga', 'saga']];
    if (codecArms) labels.push(['saga, encrypted (in-process)', 'saga-codec'], ['saga, plain (in-process)', 'saga-plain']);
    for (const [label, arm] of labels) {
      console.log(`${label.padEnd(27)}  ${mean(results[arm], 'perSecond').toFixed(1).padStart(10)}   ${mean(results[arm], 'p50Ms').toFixed(0).padStart(6)}   ${mean(results[arm], 'p99Ms').toFixed(0).padStart(6)}`);
    }
    console.log(`\nsaga / bare throughput: ${(mean(results.saga, 'perSecond') / mean(results.bare, 'perSecond')).toFixed(2)}x`);
    if (codecArms) console.log(`encrypted / plain saga throughput: ${(mean(results['saga-codec'], 'perSecond') / mean(results['saga-plain'], 'perSecond')).toFixed(2)}x`);
    if (receiver) console.log(`spans received: ${receiver.spans().length}`);
  } finally {
    bareWorker.shutdown();
    for (const worker of sagaWorkers) worker.shutdown();
    await running;
    await Promise.all(sagaWorkersRunning);
    await workerConnection.close();
    await connection.close();
    await env.stop();
    await receiver?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
