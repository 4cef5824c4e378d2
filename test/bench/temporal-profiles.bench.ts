import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { databaseName } from '../../infra/cluster';
import { authorityKeyOf } from '../../infra/secrets';
import type { TransferInput } from '../../lib/contracts/transfer-contract';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { startTransfer } from '../../lib/temporal/transfer-start';
import { LedgerStore } from '../../services/account-service/ledger/ledger-store';
import { startTestCluster, type TestCluster } from '../support/cluster';
import { quietTemporalRuntime, testCodecKeys } from '../support/temporal';
import { busiest, closedLoop, meanCpu, meanOf, numberArgument, seedLedgerAccount, type Run } from './bench-support';
import { createNoopActivities } from './noop-activities';
import { bareTwoActivityWorkflow } from './workflows/bare';

/**
 * The saga and the bare two-activity workflow on both Temporal profiles in one run: the dev server
 * (one process, SQLite) and the cluster profile (frontend, history, matching and worker over
 * PostgreSQL), both up for the whole run, arms interleaved round by round. Prints throughput, the
 * ratio cluster / dev server, and the CPU per workflow of every Temporal process.
 *
 * `npm run bench` runs it after the system bench; `npm run bench:profiles -- --rounds 3` alone.
 */

type Operation = (index: number) => Promise<void>;
const payers = 32;

interface Profile {
  name: 'dev server' | 'cluster';
  system: TestCluster;
  bare: Operation;
  saga: Operation;
  close: () => Promise<void>;
}

async function seedSagaAccounts(system: TestCluster): Promise<void> {
  const mongoA = new MongoClient(system.cluster.databaseUrls.get('bank-a') as string, { useBigInt64: true });
  const mongoB = new MongoClient(system.cluster.databaseUrls.get('bank-b') as string, { useBigInt64: true });
  try {
    const storeA = new LedgerStore(mongoA.db(databaseName('bank-a')));
    const storeB = new LedgerStore(mongoB.db(databaseName('bank-b')));
    for (let s = 0; s < payers; s += 1) {
      await seedLedgerAccount(storeA, `payer-${s}`, 2_000);
      await seedLedgerAccount(storeB, `payee-${s}`, 1);
    }
  } finally {
    await mongoA.close();
    await mongoB.close();
  }
}

async function startProfile(name: Profile['name']): Promise<Profile> {
  const system = await startTestCluster(`bench-profile-${name === 'cluster' ? 'cluster' : 'dev'}`, { services: true, serviceEnv: { LOG_LEVEL: 'warn' }, ...(name === 'cluster' ? { temporalCluster: true } : {}) });
  await seedSagaAccounts(system);
  const connection = await Connection.connect({ address: system.cluster.temporalAddress });
  const client = new Client({ connection });
  const codecClient = new Client({ connection, dataConverter: transferDataConverter(testCodecKeys) });
  const workerConnection = await NativeConnection.connect({ address: system.cluster.temporalAddress });
  const bareWorker = await Worker.create({ connection: workerConnection, taskQueue: 'bench-bare', workflowsPath: require.resolve('./workflows/bare'), activities: createNoopActivities() });
  const running = bareWorker.run();
  if (!system.cluster.secrets) throw new Error('the cluster has no keys');
  const authorityKey = authorityKeyOf(system.cluster.secrets);
  const run = randomUUID().slice(0, 8);
  let serial = 0;
  const policy = { approvalThresholdMinor: '1000000000', approvalTimeoutMs: 60_000, amountMaxMinor: '1000000000', banks: ['bank-a', 'bank-b', 'bank-c'], refundAttentionAfterAttempts: 5 };
  const sagaInput = (index: number): TransferInput => ({
    transferId: `saga-${run}-${(serial += 1)}`,
    source: { bankId: 'bank-a', accountId: `payer-${index % payers}` },
    target: { bankId: 'bank-b', accountId: `payee-${index % payers}` },
    amountMinor: '1',
    currency: 'EUR',
    requestedBy: 'bench',
    policy,
  });
  return {
    name,
    system,
    bare: async () => {
      await client.workflow.execute(bareTwoActivityWorkflow, { taskQueue: 'bench-bare', workflowId: `bare-${run}-${(serial += 1)}` });
    },
    saga: async (index) => {
      const state = await (await startTransfer(codecClient, sagaInput(index), { authorityKey })).result();
      if (state.status !== 'COMPLETED') throw new Error(`saga ended ${state.status}`);
    },
    close: async () => {
      bareWorker.shutdown();
      await running;
      await workerConnection.close();
      await connection.close();
      await system.stop();
    },
  };
}

/** CPU ms per completed workflow of each Temporal process (and PostgreSQL) of a run. */
function temporalCpuMs(runs: readonly Run[]): Record<string, number> {
  const perSecond = meanOf(runs, 'perSecond');
  return Object.fromEntries(
    Object.entries(meanCpu(runs))
      .filter(([name]) => name.startsWith('temporal'))
      .map(([name, share]) => [name, (share * 1000) / perSecond]),
  );
}

async function main(): Promise<void> {
  const rounds = numberArgument('rounds', 2);
  const count = numberArgument('count', 320);
  const concurrencies = [1, 16];
  quietTemporalRuntime();
  console.log('starting both profiles (dev server, then the cluster: four Temporal services over PostgreSQL)…');
  const profiles = [await startProfile('dev server'), await startProfile('cluster')];
  const runs: Record<string, Run[]> = {};
  const record = (key: string, run: Run): void => {
    (runs[key] ??= []).push(run);
  };
  try {
    for (const profile of profiles) {
      await closedLoop(profile.system.cluster, 20, 4, profile.bare);
      await closedLoop(profile.system.cluster, 20, 4, profile.saga);
    }
    for (let round = 1; round <= rounds; round += 1) {
      for (const concurrency of concurrencies) {
        const loops = concurrency === 1 ? Math.min(count, 60) : count;
        for (const arm of ['bare', 'saga'] as const) {
          for (const profile of round % 2 === 1 ? profiles : [...profiles].reverse()) {
            const run = await closedLoop(profile.system.cluster, loops, concurrency, profile[arm]);
            record(`${profile.name}|${arm}|${concurrency}`, run);
            console.log(`round ${round} ${profile.name.padEnd(10)} ${arm.padEnd(4)} ${String(concurrency).padStart(2)} in flight: ${run.perSecond.toFixed(1)}/s  p50 ${run.p50Ms.toFixed(0)} ms  p99 ${run.p99Ms.toFixed(0)} ms  cpu: ${busiest(run)}`);
          }
        }
      }
    }
    console.log(`\n${'arm'.padEnd(22)} ${'dev server /s'.padStart(14)} ${'cluster /s'.padStart(11)} ${'cluster / dev'.padStart(14)}   spread (dev | cluster)`);
    const summary: Record<string, unknown> = {};
    for (const concurrency of concurrencies) {
      for (const arm of ['bare', 'saga'] as const) {
        const dev = runs[`dev server|${arm}|${concurrency}`] ?? [];
        const cluster = runs[`cluster|${arm}|${concurrency}`] ?? [];
        const ratio = meanOf(cluster, 'perSecond') / meanOf(dev, 'perSecond');
        const spread = (list: readonly Run[]): string => list.map((run) => run.perSecond.toFixed(1)).join('/');
        console.log(`${`${arm}, ${concurrency} in flight`.padEnd(22)} ${meanOf(dev, 'perSecond').toFixed(1).padStart(14)} ${meanOf(cluster, 'perSecond').toFixed(1).padStart(11)} ${`${ratio.toFixed(2)}x`.padStart(14)}   ${spread(dev)} | ${spread(cluster)}`);
        summary[`${arm}, ${concurrency} in flight`] = { devServerPerSecond: meanOf(dev, 'perSecond'), clusterPerSecond: meanOf(cluster, 'perSecond'), ratio, devServerTemporalCpuMs: temporalCpuMs(dev), clusterTemporalCpuMs: temporalCpuMs(cluster) };
      }
    }
    console.log('\nTemporal CPU ms per completed workflow, 16 in flight (the capacity model takes these):');
    for (const arm of ['bare', 'saga'] as const) {
      for (const profile of profiles) {
        const cpu = temporalCpuMs(runs[`${profile.name}|${arm}|16`] ?? []);
        const total = Object.values(cpu).reduce((sum, ms) => sum + ms, 0);
        console.log(`  ${arm.padEnd(4)} ${profile.name.padEnd(10)} ${Object.entries(cpu).map(([name, ms]) => `${name} ${ms.toFixed(1)}`).join(', ')}  (total ${total.toFixed(1)})`);
      }
    }
    const outputDir = join(__dirname, '..', '..', 'bench-results');
    mkdirSync(outputDir, { recursive: true });
    const file = join(outputDir, `temporal-profiles-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, `${JSON.stringify({ rounds, count, summary, runs }, null, 2)}\n`);
    console.log(`\nresults: ${file}`);
  } finally {
    for (const profile of profiles) await profile.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
