/**
 * One benchmark of the whole system on the real local cluster, every arm in one process
 * start, interleaved, after a warm-up, with repetitions; each figure printed with its ratio
 * to its baseline, written as JSON and drawn as SVG charts under bench-results/.
 *
 *   npm run bench [-- --rounds 2]
 */
import { authorityKeyOf, signingKeyOf } from '../../infra/secrets';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { databaseName } from '../../infra/cluster';
import { AccountServiceClient } from '../../lib/clients/account-service-client';
import { transferWorkflowId, type TransferInput, type TransferState } from '../../lib/contracts/transfer-contract';
import { initialTransferSearchAttributes, startTransfer } from '../../lib/temporal/transfer-start';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { bundleTransferWorkflows, createTransferWorker } from '../../services/worker/transfer-worker';
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { ManagedProcess, type LogSink } from '../../infra/processes/managed-process';
import { workerPolling } from '../../infra/processes/worker-readiness';
import { findFreePort } from '../../infra/ports';
import { apiCaller } from '../support/http';
import { startTestCluster } from '../support/cluster';
import { quietTemporalRuntime, testCodecKeys } from '../support/temporal';
import { busiest, closedLoop, cpuGroups, cpuMsPerOperation, meanCpu, meanOf as mean, numberArgument, percentile, seedLedgerAccount, type Run } from './bench-support';
import { createNoopActivities } from './noop-activities';
import { lineChart } from './svg-chart';
import { bareTwoActivityWorkflow, bareWithVisibilityWorkflow } from './workflows/bare';

const outputDir = join(__dirname, '..', '..', 'bench-results');

type Operation = (index: number) => Promise<void>;

/** Open loop at a fixed arrival rate, so latency is measured without the queueing a closed loop hides. */
async function openLoop(ratePerSecond: number, seconds: number, operation: Operation): Promise<Pick<Run, 'p50Ms' | 'p95Ms' | 'p99Ms' | 'count'>> {
  const count = Math.max(10, Math.round(ratePerSecond * seconds));
  const latencies: number[] = [];
  const startedAt = performance.now();
  await Promise.all(
    Array.from({ length: count }, async (_, index) => {
      const due = startedAt + (index * 1000) / ratePerSecond;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
      const t0 = performance.now();
      await operation(index);
      latencies.push(performance.now() - t0);
    }),
  );
  latencies.sort((a, b) => a - b);
  return { count, p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), p99Ms: percentile(latencies, 0.99) };
}

async function main(): Promise<void> {
  const rounds = numberArgument('rounds', 2);
  const hotClients = [1, 16, 200];
  const sagaConcurrency = [1, 4, 16, 64];
  const breakdownConcurrency = 16;
  quietTemporalRuntime();
  console.log('starting the local cluster…');
  const env = await startTestCluster('bench-system', { services: true, serviceEnv: { LOG_LEVEL: 'warn' } });
  const connection = await Connection.connect({ address: env.cluster.temporalAddress });
  const client = new Client({ connection });
  // The cluster's worker encrypts with the tests' codec keys, as production encrypts with its own.
  const codecClient = new Client({ connection, dataConverter: transferDataConverter(testCodecKeys) });
  const workerConnection = await NativeConnection.connect({ address: env.cluster.temporalAddress });
  const bareWorker = await Worker.create({ connection: workerConnection, taskQueue: 'bench-bare', workflowsPath: require.resolve('./workflows/bare'), activities: createNoopActivities() });
  const running = [bareWorker.run()];
  // The cost of payload encryption: two saga workers in this process that differ only by the codec.
  if (!env.cluster.secrets) throw new Error('the cluster has no service keys');
  const signingKey = signingKeyOf(env.cluster.secrets, 'worker');
  // Inputs are signed as the API signs them, with the cluster's transfer authority key.
  const authorityKey = authorityKeyOf(env.cluster.secrets);
  const bundle = await bundleTransferWorkflows();
  const banks = [...env.cluster.accountServiceUrls].map(([bankId, url]) => ({ bankId, url }));
  const codecWorkers = await Promise.all(
    (['bench-encrypted', 'bench-plain'] as const).map((taskQueue) =>
      createTransferWorker({ connection: workerConnection, namespace: 'default', taskQueue, bundle, banks, signingKey, authorityKeys: [authorityKey], requestTimeoutMs: 10_000, codecKeys: taskQueue === 'bench-encrypted' ? testCodecKeys : undefined }),
    ),
  );
  running.push(...codecWorkers.map((worker) => worker.run()));
  const mongo = new MongoClient(env.cluster.databaseUrls.get('bank-a') as string, { useBigInt64: true });
  const results: Record<string, unknown> = { startedAt: new Date().toISOString(), rounds };
  try {
    const bank = (bankId: string) => new AccountServiceClient({ bankId, baseUrl: env.cluster.accountServiceUrls.get(bankId) as string, signingKey, requestTimeoutMs: 60_000 });
    const bankA = bank('bank-a');
    const bankB = bank('bank-b');
    const run = randomUUID().slice(0, 8);
    const expectOk = async (answer: Promise<{ status: number }>, what: string): Promise<void> => {
      const { status } = await answer;
      if (status !== 200) throw new Error(`${what} answered ${status}`);
    };

    console.log('seeding accounts (1k and 100k entries, 1,000 spread accounts, hot and saga accounts)…');
    const storeA = new LedgerStore(mongo.db(databaseName('bank-a')));
    await seedLedgerAccount(storeA, 'k1', 1_000);
    await seedLedgerAccount(storeA, 'k100', 100_000);
    await seedLedgerAccount(storeA, 'hot', 20_000);
    // Funds for the untimed first touch and two debits a round.
    for (let a = 0; a < 1_000; a += 1) await seedLedgerAccount(storeA, `spread-${a}`, Math.max(12, 2 * rounds + 4));
    for (let s = 0; s < 64; s += 1) await seedLedgerAccount(storeA, `payer-${s}`, 2_000);
    const mongoB = new MongoClient(env.cluster.databaseUrls.get('bank-b') as string, { useBigInt64: true });
    const storeB = new LedgerStore(mongoB.db(databaseName('bank-b')));
    for (let s = 0; s < 64; s += 1) await seedLedgerAccount(storeB, `payee-${s}`, 1);
    await mongoB.close();

    let serial = 0;
    const id = (): string => `${run}-${(serial += 1)}`;
    const noop: Operation = () => expectOk(bankA.request('GET', '/v1/whoami'), 'whoami');
    const hotDebit: Operation = () => expectOk(bankA.request('POST', '/v1/accounts/hot/debits', { transferId: id(), amountMinor: '1', currency: 'EUR' }), 'hot debit');
    const spreadDebit: Operation = (index) => expectOk(bankA.request('POST', `/v1/accounts/spread-${index % 1_000}/debits`, { transferId: id(), amountMinor: '1', currency: 'EUR' }), 'spread debit');
    const sizedDebit = (accountId: string): Operation => () => expectOk(bankA.request('POST', `/v1/accounts/${accountId}/debits`, { transferId: id(), amountMinor: '1', currency: 'EUR' }), 'debit');
    const policy = { approvalThresholdMinor: '1000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '1000000000', banks: ['bank-a', 'bank-b', 'bank-c'], refundAttentionAfterAttempts: 5 };
    const bare: Operation = async () => {
      await client.workflow.execute(bareTwoActivityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-${id()}` });
    };
    const direct: Operation = async (index) => {
      const transferId = `direct-${id()}`;
      await expectOk(bankA.request('POST', `/v1/accounts/payer-${index % 64}/debits`, { transferId, amountMinor: '1', currency: 'EUR' }), 'direct debit');
      await expectOk(bankB.request('POST', `/v1/accounts/payee-${index % 64}/credits`, { transferId, amountMinor: '1', currency: 'EUR' }), 'direct credit');
    };
    const sagaInput = (index: number, settles = false): TransferInput => ({
      transferId: `saga-${id()}`,
      source: { bankId: 'bank-a', accountId: `payer-${index % 64}` },
      target: { bankId: 'bank-b', accountId: `payee-${index % 64}` },
      amountMinor: '1',
      currency: 'EUR',
      requestedBy: 'bench',
      policy: settles ? { ...policy, settlement: { model: 'deferred-net', bankId: env.cluster.settlementBankId } } : policy,
    });
    /** Started as the API starts it (memo and every search attribute), on the cluster's worker unless a task queue is given. */
    const sagaOn = (starter: Client, taskQueue?: string, settles = false): Operation => async (index) => {
      const state = await (await startTransfer(starter, sagaInput(index, settles), { authorityKey, ...(taskQueue ? { taskQueue } : {}) })).result();
      if (state.status !== 'COMPLETED') throw new Error(`saga ended ${state.status}`);
    };
    /** The same saga with its two legs at the settlement bank (deferred-net): every transfer reserves against bank-a's one position. */
    const sagaSettled = sagaOn(codecClient, undefined, true);
    const saga = sagaOn(codecClient);
    const sagaEncrypted = sagaOn(codecClient, 'bench-encrypted');
    const sagaPlain = sagaOn(client, 'bench-plain');
    /** The production path: POST /v1/transfers (record, signed start), then the saga on the cluster's worker, its changes written to the record. */
    const operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    const sagaViaApi: Operation = async (index) => {
      const answer = await operator.post('/v1/transfers', { source: { bankId: 'bank-a', accountId: `payer-${index % 64}` }, target: { bankId: 'bank-b', accountId: `payee-${index % 64}` }, amountMinor: '1', currency: 'EUR' }, { 'idempotency-key': `bench-${id()}` });
      if (answer.status !== 202) throw new Error(`POST /v1/transfers answered ${answer.status}: ${answer.text}`);
      const state = (await codecClient.workflow.getHandle(transferWorkflowId(String(answer.body.id))).result()) as TransferState;
      if (state.status !== 'COMPLETED') throw new Error(`saga via the API ended ${state.status}`);
    };
    /** The bare workflow plus the saga's visibility work: its search attributes at start and its two status changes. */
    const bareWithVisibility: Operation = async (index) => {
      const input = sagaInput(index);
      await client.workflow.execute(bareWithVisibilityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-vis-${input.transferId}`, typedSearchAttributes: initialTransferSearchAttributes(input) });
    };

    console.log('warm-up…');
    await closedLoop(env.cluster, 200, 16, noop);
    await closedLoop(env.cluster, 100, 16, hotDebit);
    // The spread arm measures accounts the service has seen, as in steady load; their first touch (a cold head) is timed here once.
    const firstTouch = await closedLoop(env.cluster, 1_000, 16, spreadDebit);
    console.log(`  first touch of 1,000 accounts: ${firstTouch.perSecond.toFixed(1)}/s  p50 ${firstTouch.p50Ms.toFixed(1)} ms  p99 ${firstTouch.p99Ms.toFixed(1)} ms`);
    await closedLoop(env.cluster, 20, 4, bare);
    await closedLoop(env.cluster, 20, 4, saga);
    await closedLoop(env.cluster, 20, 4, direct);
    await closedLoop(env.cluster, 20, 4, bareWithVisibility);
    await closedLoop(env.cluster, 20, 4, sagaEncrypted);
    await closedLoop(env.cluster, 20, 4, sagaPlain);
    await closedLoop(env.cluster, 20, 4, sagaSettled);
    await closedLoop(env.cluster, 20, 4, sagaViaApi);

    const ledger: Record<string, Run[]> = {};
    const sagas: Record<string, Run[]> = {};
    const record = (table: Record<string, Run[]>, key: string, result: Run): void => {
      (table[key] ??= []).push(result);
      console.log(`  ${key.padEnd(24)} ${result.perSecond.toFixed(1).padStart(8)}/s  p50 ${result.p50Ms.toFixed(1)} ms  p99 ${result.p99Ms.toFixed(1)} ms  cpu: ${busiest(result)}`);
    };
    for (let round = 1; round <= rounds; round += 1) {
      console.log(`round ${round} of ${rounds}`);
      record(ledger, 'no-op (signed)', await closedLoop(env.cluster, 2_000, 16, noop));
      record(ledger, 'no-op A/A', await closedLoop(env.cluster, 2_000, 16, noop));
      for (const clients of hotClients) record(ledger, `hot debits, ${clients} clients`, await closedLoop(env.cluster, Math.max(200, clients * 4), clients, hotDebit));
      record(ledger, 'debits over 1,000 accounts', await closedLoop(env.cluster, 2_000, 16, spreadDebit));
      record(ledger, 'debit at 1k entries', await closedLoop(env.cluster, 200, 1, sizedDebit('k1')));
      record(ledger, 'debit at 100k entries', await closedLoop(env.cluster, 200, 1, sizedDebit('k100')));
      for (const concurrency of sagaConcurrency) {
        const count = Math.max(24, concurrency * 6);
        const arms: Array<[string, Operation]> = [['bare', bare], ['direct', direct], ['saga', saga], ['saga A/A', saga]];
        // Where the saga's time goes, and what encryption costs, at one concurrency near the saga's peak.
        if (concurrency === breakdownConcurrency) arms.push(['bare A/A', bare], ['bare+visibility', bareWithVisibility], ['saga encrypted', sagaEncrypted], ['saga plain', sagaPlain], ['saga+settlement', sagaSettled], ['saga+settlement A/A', sagaSettled], ['saga via API', sagaViaApi]);
        // Every other round runs the arms in reverse, so that no arm always follows the same one (and its leftovers).
        if (round % 2 === 0) arms.reverse();
        for (const [arm, operation] of arms) record(sagas, `${arm}, ${concurrency} in flight`, await closedLoop(env.cluster, count, concurrency, operation));
      }
    }

    const peak = (arm: string): { concurrency: number; perSecond: number } =>
      sagaConcurrency.map((concurrency) => ({ concurrency, perSecond: mean(sagas[`${arm}, ${concurrency} in flight`] ?? [], 'perSecond') })).sort((a, b) => b.perSecond - a.perSecond)[0] ?? { concurrency: 1, perSecond: 1 };
    const halfLoad: Record<string, Awaited<ReturnType<typeof openLoop>> & { ratePerSecond: number }> = {};
    for (const [arm, operation] of [['bare', bare], ['direct', direct], ['saga', saga]] as const) {
      const ratePerSecond = peak(arm).perSecond / 2;
      halfLoad[arm] = { ratePerSecond, ...(await openLoop(ratePerSecond, 20, operation)) };
      console.log(`  ${arm} at half of its peak (${ratePerSecond.toFixed(1)}/s): p50 ${halfLoad[arm].p50Ms.toFixed(0)} ms  p95 ${halfLoad[arm].p95Ms.toFixed(0)} ms  p99 ${halfLoad[arm].p99Ms.toFixed(0)} ms`);
    }

    // Report: each figure with its ratio to its baseline, and the targets of the performance issue.
    const noopRate = mean(ledger['no-op (signed)'] ?? [], 'perSecond');
    const hot200 = mean(ledger['hot debits, 200 clients'] ?? [], 'perSecond');
    const cost1k = mean(ledger['debit at 1k entries'] ?? [], 'p50Ms');
    const cost100k = mean(ledger['debit at 100k entries'] ?? [], 'p50Ms');
    const sagaPeak = peak('saga');
    const barePeak = peak('bare');
    const sagaAtBarePeak = mean(sagas[`saga, ${barePeak.concurrency} in flight`] ?? [], 'perSecond');
    const aaAtBarePeak = mean(sagas[`saga A/A, ${barePeak.concurrency} in flight`] ?? [], 'perSecond');
    const sagaHalf = halfLoad.saga as { p50Ms: number; p99Ms: number };
    console.log('\nledger (account service of bank-a)                 per second   ratio');
    for (const [key, runs] of Object.entries(ledger)) {
      const isCost = key.startsWith('debit at');
      const value = isCost ? `${mean(runs, 'p50Ms').toFixed(2)} ms p50` : mean(runs, 'perSecond').toFixed(1);
      const ratio = isCost ? `${(mean(runs, 'p50Ms') / cost1k).toFixed(2)}x of 1k` : `${(mean(runs, 'perSecond') / noopRate).toFixed(2)}x of no-op`;
      console.log(`  ${key.padEnd(40)} ${value.padStart(16)}   ${ratio}`);
    }
    console.log('\nsagas per second by concurrency       1        4       16       64   (ratio to bare at the same concurrency)');
    for (const arm of ['bare', 'direct', 'saga', 'saga A/A']) {
      const cells = sagaConcurrency.map((concurrency) => {
        const value = mean(sagas[`${arm}, ${concurrency} in flight`] ?? [], 'perSecond');
        const base = mean(sagas[`bare, ${concurrency} in flight`] ?? [], 'perSecond');
        return `${value.toFixed(1)} (${(value / base).toFixed(2)}x)`;
      });
      console.log(`  ${arm.padEnd(10)} ${cells.map((cell) => cell.padStart(14)).join(' ')}`);
    }
    const at16 = (arm: string): Run[] => sagas[`${arm}, ${breakdownConcurrency} in flight`] ?? [];
    const rate = (runs: readonly Run[]): number => mean(runs, 'perSecond');
    /** How far two identical arms of the same run disagree: the noise a ratio must beat. */
    const aaNoise = (a: readonly Run[], b: readonly Run[], key: 'perSecond' | 'p99Ms' = 'perSecond'): number => Math.abs(mean(b, key) / mean(a, key) - 1);
    const bareNoise = aaNoise(at16('bare'), at16('bare A/A'));
    const noopNoise = aaNoise(ledger['no-op (signed)'] ?? [], ledger['no-op A/A'] ?? []);
    const roundSpread = (runs: readonly Run[], key: 'perSecond' | 'p50Ms'): number => (runs.length < 2 ? NaN : (Math.max(...runs.map((run) => run[key])) - Math.min(...runs.map((run) => run[key]))) / mean(runs, key));
    const targets = [
      { target: 'saga without settlement >= 1.0x bare Temporal, 16 in flight', ratio: rate(at16('saga')) / rate(at16('bare')), limit: 1.0, higherIsBetter: true, noise: Math.max(bareNoise, aaNoise(at16('saga'), at16('saga A/A'))), bound: busiest(at16('saga')[0] as Run) },
      { target: 'saga with settlement >= 0.8x bare Temporal, 16 in flight', ratio: rate(at16('saga+settlement')) / rate(at16('bare')), limit: 0.8, higherIsBetter: true, noise: Math.max(bareNoise, aaNoise(at16('saga+settlement'), at16('saga+settlement A/A'))), bound: busiest(at16('saga+settlement')[0] as Run) },
      { target: 'debits over 1,000 accounts >= 0.5x no-op rate', ratio: rate(ledger['debits over 1,000 accounts'] ?? []) / noopRate, limit: 0.5, higherIsBetter: true, noise: noopNoise, bound: busiest((ledger['debits over 1,000 accounts'] ?? [])[0] as Run) },
      { target: 'hot-account debits at 200 clients >= 0.8x no-op rate', ratio: hot200 / noopRate, limit: 0.8, higherIsBetter: true, noise: noopNoise, bound: busiest((ledger['hot debits, 200 clients'] ?? [])[0] as Run) },
      { target: 'debit p50 at 100k entries <= 1.2x at 1k', ratio: cost100k / cost1k, limit: 1.2, higherIsBetter: false, noise: roundSpread(ledger['debit at 1k entries'] ?? [], 'p50Ms'), bound: '' },
      { target: 'saga p99 <= 3x p50 at half of its peak', ratio: sagaHalf.p99Ms / sagaHalf.p50Ms, limit: 3, higherIsBetter: false, noise: roundSpread(sagas[`saga, ${sagaPeak.concurrency} in flight`] ?? [], 'p50Ms'), bound: '' },
    ];
    console.log('\ntargets (A/A noise: how far two identical arms of this run disagree; where there is no A/A arm, the spread of one arm over the rounds)');
    for (const row of targets) {
      const met = row.higherIsBetter ? row.ratio >= row.limit : row.ratio <= row.limit;
      console.log(`  ${met ? 'MET ' : 'MISS'} ${row.target}: ${row.ratio.toFixed(2)}x  (A/A noise ${(row.noise * 100).toFixed(1)}%)${met || !row.bound ? '' : `  busiest: ${row.bound}`}`);
    }
    console.log(`  saga peak ${sagaPeak.perSecond.toFixed(1)}/s at ${sagaPeak.concurrency} in flight; A/A noise of the saga at ${barePeak.concurrency} in flight: ${((aaAtBarePeak / sagaAtBarePeak - 1) * 100).toFixed(1)}%`);

    // Where the saga's time goes: each arm adds one part of the saga to the one before it.
    const breakdown = ['bare', 'bare A/A', 'bare+visibility', 'direct', 'saga', 'saga A/A', 'saga plain', 'saga encrypted', 'saga+settlement', 'saga+settlement A/A', 'saga via API'].map((arm) => {
      const runs = sagas[`${arm}, ${breakdownConcurrency} in flight`] ?? [];
      return { arm, perSecond: mean(runs, 'perSecond'), p50Ms: mean(runs, 'p50Ms'), cpu: meanCpu(runs) };
    });
    const bareAtBreakdown = breakdown[0]?.perSecond ?? NaN;
    console.log(`\nbreakdown at ${breakdownConcurrency} in flight   per second   ratio to bare   p50 ms   CPU ms per operation: ${cpuGroups.join(' | ')} | total`);
    for (const row of breakdown) {
      const ms = cpuMsPerOperation(row.cpu, row.perSecond);
      const cpuCells = [...cpuGroups, 'total' as const].map((group) => ms[group].toFixed(0).padStart(group.length)).join(' | ');
      console.log(`  ${row.arm.padEnd(24)} ${row.perSecond.toFixed(1).padStart(10)}   ${`${(row.perSecond / bareAtBreakdown).toFixed(2)}x`.padStart(13)}   ${row.p50Ms.toFixed(0).padStart(6)}   ${' '.repeat(22)}${cpuCells}`);
    }
    const encrypted = breakdown.find((row) => row.arm === 'saga encrypted')?.perSecond ?? NaN;
    const plain = breakdown.find((row) => row.arm === 'saga plain')?.perSecond ?? NaN;
    console.log(`  payload encryption: ${(encrypted / plain).toFixed(2)}x the throughput of the same saga without a codec (both workers in this process)`);
    const settled = breakdown.find((row) => row.arm === 'saga+settlement')?.perSecond ?? NaN;
    const unsettled = breakdown.find((row) => row.arm === 'saga')?.perSecond ?? NaN;
    console.log(`  settlement legs: ${(settled / unsettled).toFixed(2)}x the throughput of the same saga without them (same worker, same round)`);
    // One sending bank, many transfers at once: every reservation is decided on bank-a's one position account.
    const hotParticipant = await closedLoop(env.cluster, 400, 200, sagaSettled);
    console.log(`  hot participant (one sending bank, 200 in flight): ${hotParticipant.perSecond.toFixed(1)}/s  p50 ${hotParticipant.p50Ms.toFixed(0)} ms  p99 ${hotParticipant.p99Ms.toFixed(0)} ms  cpu: ${busiest(hotParticipant)}`);

    const capacity = printCapacityInputs(Object.fromEntries(['saga', 'saga+settlement', 'saga via API'].map((arm) => [arm, at16(arm)])));
    const scale = await measureWorkerScale(env.cluster, env.sink, saga);

    mkdirSync(join(outputDir, 'charts'), { recursive: true });
    Object.assign(results, { ledger, firstTouch, sagas, halfLoad, targets, breakdown, hotParticipant, capacity, scale });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    writeFileSync(join(outputDir, `bench-${stamp}.json`), JSON.stringify(results, null, 2));
    writeFileSync(
      join(outputDir, 'charts', 'ledger-hot-account.svg'),
      lineChart({
        title: 'Debits/s on one hot account vs clients',
        xLabel: 'concurrent clients',
        yLabel: 'requests per second',
        logX: true,
        series: [
          { name: 'hot-account debits', points: hotClients.map((clients) => ({ x: clients, y: mean(ledger[`hot debits, ${clients} clients`] ?? [], 'perSecond') })) },
          { name: 'signed no-op (16)', points: hotClients.map((clients) => ({ x: clients, y: noopRate })) },
        ],
      }),
    );
    writeFileSync(
      join(outputDir, 'charts', 'saga-throughput.svg'),
      lineChart({
        title: 'Throughput vs concurrency',
        xLabel: 'workflows or transfers in flight',
        yLabel: 'completed per second',
        logX: true,
        series: ['bare', 'direct', 'saga', 'saga A/A'].map((arm) => ({ name: arm, points: sagaConcurrency.map((concurrency) => ({ x: concurrency, y: mean(sagas[`${arm}, ${concurrency} in flight`] ?? [], 'perSecond') })) })),
      }),
    );
    writeFileSync(
      join(outputDir, 'charts', 'saga-latency.svg'),
      lineChart({
        title: 'Latency vs concurrency (p50)',
        xLabel: 'in flight',
        yLabel: 'ms',
        logX: true,
        series: ['bare', 'direct', 'saga'].map((arm) => ({ name: arm, points: sagaConcurrency.map((concurrency) => ({ x: concurrency, y: mean(sagas[`${arm}, ${concurrency} in flight`] ?? [], 'p50Ms') })) })),
      }),
    );
    console.log(`\nresults: bench-results/bench-${stamp}.json; charts: bench-results/charts/ledger-hot-account.svg, saga-throughput.svg, saga-latency.svg`);
  } finally {
    bareWorker.shutdown();
    for (const worker of codecWorkers) worker.shutdown();
    await Promise.all(running);
    await workerConnection.close();
    await connection.close();
    await mongo.close();
    await env.stop();
  }
}

/** The capacity model's inputs: CPU milliseconds per completed transfer of every process, for each arm. */
function printCapacityInputs(arms: Record<string, readonly Run[]>): Record<string, Record<string, number>> {
  const perArm = Object.fromEntries(
    Object.entries(arms).map(([arm, runs]) => {
      const perSecond = mean(runs, 'perSecond');
      return [arm, Object.fromEntries(Object.entries(meanCpu(runs)).map(([name, share]) => [name, (share * 1000) / perSecond]))];
    }),
  );
  const names = [...new Set(Object.values(perArm).flatMap((row) => Object.keys(row)))].sort();
  console.log(`\ncapacity model: CPU ms per completed transfer, by process (16 in flight)`);
  console.log(`  ${'process'.padEnd(40)} ${Object.keys(arms).map((arm) => arm.padStart(16)).join(' ')}`);
  for (const name of [...names, 'total']) {
    const cells = Object.values(perArm).map((row) => (name === 'total' ? Object.values(row).reduce((sum, ms) => sum + ms, 0) : (row[name] ?? 0)).toFixed(1).padStart(16));
    console.log(`  ${name.padEnd(40)} ${cells.join(' ')}`);
  }
  return perArm;
}

/**
 * One point of horizontal scale: the same saga at 64 in flight on the cluster's one worker process,
 * then with a second worker process (the same program and settings) polling the same task queue,
 * twice each, interleaved.
 */
async function measureWorkerScale(cluster: Parameters<typeof closedLoop>[0], sink: LogSink, saga: Operation): Promise<Record<string, Run[]>> {
  const spec = cluster.component('worker').process.spec;
  const runs: Record<string, Run[]> = { 'one worker': [], 'two workers': [] };
  console.log('\nhorizontal scale: a second worker process on the same task queue (saga, 64 in flight)');
  for (let round = 0; round < 2; round += 1) {
    runs['one worker']?.push(await closedLoop(cluster, 256, 64, saga));
    const second = ManagedProcess.start({ ...spec, name: 'worker-2', env: { ...spec.env, WORKER_METRICS_PORT: String(await findFreePort()) } }, sink);
    try {
      await workerPolling(second, cluster.temporalAddress, cluster.namespace, 'transfers');
      runs['two workers']?.push(await closedLoop(cluster, 256, 64, saga, [{ name: 'worker-2', process: second }]));
    } finally {
      await second.stop();
    }
  }
  const one = mean(runs['one worker'] ?? [], 'perSecond');
  const two = mean(runs['two workers'] ?? [], 'perSecond');
  const spread = (key: string): string => (runs[key] ?? []).map((run) => run.perSecond.toFixed(1)).join(' / ');
  console.log(`  one worker ${one.toFixed(1)}/s (${spread('one worker')}), two workers ${two.toFixed(1)}/s (${spread('two workers')}): ${(two / one).toFixed(2)}x; busiest with two: ${busiest((runs['two workers'] ?? [])[0] as Run)}`);
  return runs;
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
