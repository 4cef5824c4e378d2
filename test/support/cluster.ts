import { createWriteStream, mkdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient, type MongoClientOptions } from 'mongodb';
import { ferretDbBinaryPath } from '../../infra/binaries';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import { startClusterOnFreePorts, type EphemeralPlanOptions, type RunningCluster } from '../../infra/cluster';
import { findFreePort } from '../../infra/ports';
import { startFerretDb, type RunningFerretDb } from '../../infra/processes/ferretdb';
import type { LogSink } from '../../infra/processes/managed-process';
import { testCodecKeysSetting } from './temporal';

export const artifactsDir = join(__dirname, '..', 'artifacts');

/** Every process line of a test run goes to test/artifacts/logs/<name>.log, for reading after a failure. */
export function fileLogSink(name: string): { sink: LogSink; close: () => Promise<void> } {
  mkdirSync(join(artifactsDir, 'logs'), { recursive: true });
  const stream = createWriteStream(join(artifactsDir, 'logs', `${name}.log`), { flags: 'w' });
  return {
    sink: (source, line) => stream.write(`${new Date().toISOString()} ${source} | ${line}\n`),
    close: () => new Promise((resolve) => stream.end(resolve)),
  };
}

export async function temporaryDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface TestCluster {
  cluster: RunningCluster;
  dataDir: string;
  sink: LogSink;
  /** The API key of a client name (operator, client-a, client-b). */
  keyFor: (name: string) => string;
  stop: () => Promise<void>;
}

/** A second client, so that tests can show one client never sees another's transfers. */
const testApiKeys = [{ name: 'client-b', role: 'client' as const, key: 'cl_test_client_b_0123456789abcdef' }];

/**
 * TEST_TEMPORAL_PROFILE=cluster runs a test file's cluster on the cluster profile (Temporal's four
 * services over PostgreSQL) instead of the dev server; a file that asks for a profile keeps it.
 */
export function testTemporalProfile(env: NodeJS.ProcessEnv = process.env): Pick<EphemeralPlanOptions, 'temporalCluster'> {
  const profile = env.TEST_TEMPORAL_PROFILE;
  if (profile === undefined || profile === '' || profile === 'dev') return {};
  if (profile === 'cluster') return { temporalCluster: true };
  throw new Error(`TEST_TEMPORAL_PROFILE=${profile}: expected dev or cluster`);
}

/** A cluster of its own for one test file, on free ports in a temporary folder. */
export async function startTestCluster(name: string, options: EphemeralPlanOptions = {}): Promise<TestCluster> {
  const dir = await temporaryDir(name);
  const logs = fileLogSink(name);
  // The tests' fixed codec keys, so that captured histories replay with the replay test's converter.
  let cluster: RunningCluster;
  try {
    cluster = await startClusterOnFreePorts(dir.path, { extraApiKeys: testApiKeys, codecKeys: testCodecKeysSetting, ...testTemporalProfile(), ...options }, { sink: logs.sink });
  } catch (error) {
    await logs.close();
    await dir.remove();
    throw error;
  }
  return {
    cluster,
    dataDir: dir.path,
    sink: logs.sink,
    keyFor: (keyName) => {
      const entry = cluster.secrets?.apiKeys.find((key) => key.name === keyName);
      if (!entry) throw new Error(`no API key named ${keyName} in this cluster`);
      return entry.key;
    },
    stop: async () => {
      await cluster.stop();
      await logs.close();
      await dir.remove();
    },
  };
}

/** True while the process runs; a zombie (exited, not yet reaped by whoever adopted it) counts as ended. */
export function processAlive(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** One FerretDB of its own on free ports in a temporary folder, logging to test/artifacts/logs/<name>.log. */
export async function startTestFerretDb(name: string): Promise<{ database: RunningFerretDb; dataDir: string; sink: LogSink; stop: () => Promise<void> }> {
  const dir = await temporaryDir(name);
  const logs = fileLogSink(name);
  const database = await startFerretDb(
    { name: 'ferretdb', binary: await ferretDbBinaryPath(), dataDir: dir.path, host: '127.0.0.1', port: await findFreePort(), debugPort: await findFreePort() },
    logs.sink,
  );
  return {
    database,
    dataDir: dir.path,
    sink: logs.sink,
    stop: async () => {
      await database.process.stop();
      await logs.close();
      await dir.remove();
    },
  };
}

/** A MongoDB client on a FerretDB of its own in a temporary folder; `stop` closes the client, then the database. */
export async function startTestMongo(name: string, options: MongoClientOptions = {}): Promise<{ mongo: MongoClient; stop: () => Promise<void> }> {
  const ferret = await startTestFerretDb(name);
  const mongo = new MongoClient(ferret.database.url, { useBigInt64: true, ...options });
  return {
    mongo,
    stop: async () => {
      await mongo.close();
      await ferret.stop();
    },
  };
}

/** A transfer record store of its own: one FerretDB in a temporary folder, its `transfer_api` database. */
export async function startTestRecordStore(name: string): Promise<{ store: TransferRecordStore; mongo: MongoClient; stop: () => Promise<void> }> {
  const { mongo, stop } = await startTestMongo(name);
  const store = new TransferRecordStore(mongo.db('transfer_api'));
  await store.ensureIndexes();
  return { store, mongo, stop };
}
