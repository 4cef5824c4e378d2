import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { google } from '@temporalio/proto';
import type { ClusterBinaries } from '../cluster-binaries';
import { InfraBuildError } from '../binaries';
import { waitUntilReady } from '../readiness';
import { ManagedProcess, type LogSink } from './managed-process';
import { frontendServing, registerSearchAttributes, setNamespaceRetention, webUiHost } from './temporal-dev-server';

/**
 * The production topology run here: Temporal's four services as four processes over PostgreSQL,
 * configured by infra/temporal/config/cluster.yaml (the file docker-compose.yml mounts too).
 */
export const temporalServiceNames = ['history', 'matching', 'frontend', 'worker'] as const;
export type TemporalServiceName = (typeof temporalServiceNames)[number];

export interface TemporalServicePorts {
  grpc: number;
  membership: number;
}

export interface TemporalClusterOptions {
  binaries: Pick<ClusterBinaries, 'server' | 'sqlTool' | 'schemaDir' | 'postgresBinDir' | 'uiServer'>;
  /** The project root: the server reads infra/temporal/config/cluster.yaml under it. */
  projectRoot: string;
  host: string;
  database: { host: string; port: number; user: string; password: string };
  ports: Record<TemporalServiceName, TemporalServicePorts> & { frontendHttp: number };
  namespace: string;
  namespaceRetentionHours: number;
}

export const temporalDatabases = { temporal: 'temporal', visibility: 'temporal_visibility' } as const;
const startupTimeoutMs = 60_000;

function sqlTool(options: TemporalClusterOptions, database: string, args: readonly string[]): string {
  const { host, port, user, password } = options.database;
  const result = spawnSync(options.binaries.sqlTool, ['--plugin', 'postgres12', '--ep', host, '--port', String(port), '--user', user, '--db', database, ...args], {
    encoding: 'utf8',
    // The tool reads the password from SQL_PASSWORD, so it is on no command line.
    env: { ...process.env, SQL_PASSWORD: password },
  });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new InfraBuildError(`temporal-sql-tool --db ${database} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${output.slice(-3000)}`);
  return output;
}

function databaseExists(options: TemporalClusterOptions, database: string): boolean {
  const { host, port, user, password } = options.database;
  const result = spawnSync(join(options.binaries.postgresBinDir, 'psql'), ['-h', host, '-p', String(port), '-U', user, '-d', 'postgres', '-tAc', `SELECT 1 FROM pg_database WHERE datname = '${database}'`], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: password },
  });
  if (result.status !== 0) throw new InfraBuildError(`psql could not list the databases at ${host}:${port}: ${result.stderr.slice(-2000)}`);
  return result.stdout.trim() === '1';
}

/**
 * Creates both databases when missing and brings each schema to the newest version the server
 * module ships. Idempotent: setup-schema -v 0.0 leaves a versioned database alone and
 * update-schema applies only the versions not applied yet, so it runs at every start.
 */
export function prepareTemporalSchemas(options: TemporalClusterOptions, log: (line: string) => void): void {
  for (const [folder, database] of Object.entries(temporalDatabases)) {
    if (!databaseExists(options, database)) {
      sqlTool(options, database, ['create-database']);
      log(`PostgreSQL database ${database} created`);
    }
    sqlTool(options, database, ['setup-schema', '-v', '0.0']);
    sqlTool(options, database, ['update-schema', '-d', join(options.binaries.schemaDir, folder, 'versioned')]);
  }
}

/** The variables cluster.yaml reads: every address and secret of this run. */
export function temporalServerEnv(options: TemporalClusterOptions): NodeJS.ProcessEnv {
  const { ports, database } = options;
  return {
    ...process.env,
    TEMPORAL_DB_HOST: database.host,
    TEMPORAL_DB_PORT: String(database.port),
    TEMPORAL_DB_USER: database.user,
    TEMPORAL_DB_PASSWORD: database.password,
    TEMPORAL_BIND_IP: options.host,
    TEMPORAL_BROADCAST_ADDRESS: options.host,
    TEMPORAL_FRONTEND_ADDRESS: `${options.host}:${ports.frontend.grpc}`,
    TEMPORAL_FRONTEND_PORT: String(ports.frontend.grpc),
    TEMPORAL_FRONTEND_MEMBERSHIP_PORT: String(ports.frontend.membership),
    TEMPORAL_FRONTEND_HTTP_PORT: String(ports.frontendHttp),
    TEMPORAL_HISTORY_PORT: String(ports.history.grpc),
    TEMPORAL_HISTORY_MEMBERSHIP_PORT: String(ports.history.membership),
    TEMPORAL_MATCHING_PORT: String(ports.matching.grpc),
    TEMPORAL_MATCHING_MEMBERSHIP_PORT: String(ports.matching.membership),
    TEMPORAL_WORKER_PORT: String(ports.worker.grpc),
    TEMPORAL_WORKER_MEMBERSHIP_PORT: String(ports.worker.membership),
    TEMPORAL_DYNAMIC_CONFIG_FILE: join(options.projectRoot, 'infra', 'temporal', 'config', 'dynamicconfig.yaml'),
  };
}

/** The frontend is `temporal`, where clients connect, in both profiles; the others are `temporal-<service>`. */
export function temporalComponentName(service: TemporalServiceName): string {
  return service === 'frontend' ? 'temporal' : `temporal-${service}`;
}

/** One of the four services as its own process; the chaos harness kills and restarts each alone. */
export function startTemporalService(options: TemporalClusterOptions, service: TemporalServiceName, sink: LogSink): ManagedProcess {
  return ManagedProcess.start(
    {
      name: temporalComponentName(service),
      command: options.binaries.server,
      args: ['--root', options.projectRoot, '--config', join('infra', 'temporal', 'config'), '--env', 'cluster', '--allow-no-auth', 'start', '--service', service],
      env: temporalServerEnv(options),
    },
    sink,
  );
}

/** True once something accepts TCP connections on the port. */
function listening(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    socket.setTimeout(1_000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * On an empty database every service writes the cluster's metadata at start, and all but one lose
 * that race and exit. History goes first: once it listens the metadata is there, and the others
 * only read it.
 */
export async function awaitFirstService(options: TemporalClusterOptions, history: ManagedProcess): Promise<void> {
  const port = options.ports.history.grpc;
  await waitUntilReady(history, `Temporal history service at ${options.host}:${port}`, () => listening(options.host, port), { timeoutMs: startupTimeoutMs, intervalMs: 200 });
}

/** Registers the namespace with its retention when missing; on an existing one sets the retention if it changed. */
async function ensureNamespace(address: string, namespace: string, retentionHours: number): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: google.protobuf.Duration.fromObject({ seconds: retentionHours * 3_600 }), description: 'Interbank transfers (cluster profile)' });
  } catch (error) {
    if (!/already exists|ALREADY_EXISTS/i.test((error as Error).message)) throw error;
  } finally {
    await connection.close();
  }
  await setNamespaceRetention(address, namespace, retentionHours);
}

/** A new namespace is served once the frontend's namespace cache has it (up to about 10 s). */
async function namespaceServed(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    await connection.workflowService.listWorkflowExecutions({ namespace, pageSize: 1 });
    return true;
  } finally {
    await connection.close();
  }
}

/**
 * Once the four services run: waits for the frontend, registers the namespace with its retention
 * (or sets it on an existing one) and the project's search attributes.
 */
/** The Web UI against the frontend, on loopback (infra/temporal/ui/cluster.yaml); its address once it answers. */
export async function startTemporalUi(options: TemporalClusterOptions & { uiPort: number; codecEndpoint?: string }, sink: LogSink): Promise<{ process: ManagedProcess; url: string }> {
  const process = ManagedProcess.start(
    {
      name: 'temporal-ui',
      command: options.binaries.uiServer,
      args: ['--root', options.projectRoot, '--config', join('infra', 'temporal', 'ui'), '--env', 'cluster', 'start'],
      env: { ...globalThis.process.env, TEMPORAL_ADDRESS: `${options.host}:${options.ports.frontend.grpc}`, TEMPORAL_UI_HOST: webUiHost, TEMPORAL_UI_PORT: String(options.uiPort), TEMPORAL_DEFAULT_NAMESPACE: options.namespace, TEMPORAL_CODEC_ENDPOINT: options.codecEndpoint ?? '' },
    },
    sink,
  );
  const url = `http://${webUiHost}:${options.uiPort}`;
  await waitUntilReady(process, `Temporal Web UI at ${url}`, async () => (await fetch(url)).ok, { timeoutMs: startupTimeoutMs });
  return { process, url };
}

export async function awaitTemporalCluster(options: TemporalClusterOptions, frontend: ManagedProcess): Promise<string> {
  const address = `${options.host}:${options.ports.frontend.grpc}`;
  await waitUntilReady(frontend, `Temporal frontend at ${address}`, () => frontendServing(address), { timeoutMs: startupTimeoutMs, intervalMs: 250 });
  await ensureNamespace(address, options.namespace, options.namespaceRetentionHours);
  await waitUntilReady(frontend, `namespace ${options.namespace}`, () => namespaceServed(address, options.namespace), { timeoutMs: startupTimeoutMs, intervalMs: 500 });
  await registerSearchAttributes(address, options.namespace);
  return address;
}
