import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { google, temporal } from '@temporalio/proto';
import { searchAttributeKeys } from '../../lib/contracts/search-attributes';
import { waitUntilReady } from '../readiness';
import { ManagedProcess, type LogSink } from './managed-process';

export interface TemporalDevServerOptions {
  binary: string;
  dataDir: string;
  host: string;
  port: number;
  uiPort: number;
  /** Tests that never open the UI save its start-up cost. */
  ui: boolean;
  namespace: string;
  /** How long the namespace keeps a closed workflow; set on every start, so a changed setting reaches an existing data folder. */
  namespaceRetentionHours: number;
  uiCodecEndpoint?: string;
  /** SQLite pragmas beyond the durable defaults, for measured experiments (e.g. cache_size=-65536). */
  extraSqlitePragmas?: readonly string[];
  /** Dynamic configuration values (`key=value`), for measured experiments. */
  dynamicConfig?: readonly string[];
}

export interface RunningTemporal {
  process: ManagedProcess;
  address: string;
  namespace: string;
  uiUrl: string | undefined;
}

const startupTimeoutMs = 60_000;

/**
 * The Web UI (and the codec server beside it) listen on loopback whatever BIND_HOST says: the
 * dev server's UI has no sign-in and hands the codec endpoint, token included, to every browser
 * that opens it (the dev server cannot send the codec server any other credential), so only
 * this machine may open it. docs/operations.md (section 5) says how production protects both.
 */
export const webUiHost = '127.0.0.1';

/**
 * Closed workflows stay inspectable in the Web UI and the CLI this long (TEMPORAL_NAMESPACE_RETENTION).
 * Nothing answers from them: every transfer has its own record in the transfer API's database.
 */
export const namespaceRetentionHoursDefault = 72;
/**
 * The project's floor: operators get at least a day. Temporal 1.29 itself takes 1 hour for a
 * local namespace and 1 day for a global (replicated) one.
 */
export const namespaceRetentionHoursMin = 24;
export const namespaceRetentionHoursMax = 8_760;

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const indexedValueTypes: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

/** Argument list of `temporal server start-dev` with file persistence tuned as ARCHITECTURE.md measured. */
export function temporalDevServerArgs(options: TemporalDevServerOptions): string[] {
  const args = [
    'server',
    'start-dev',
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--ip',
    options.host,
    '--port',
    String(options.port),
    '--namespace',
    options.namespace,
    // WAL with synchronous=normal loses nothing when the process is killed and more than doubles throughput.
    '--sqlite-pragma',
    'journal_mode=wal',
    '--sqlite-pragma',
    'synchronous=normal',
    ...(options.extraSqlitePragmas ?? []).flatMap((pragma) => ['--sqlite-pragma', pragma]),
    ...(options.dynamicConfig ?? []).flatMap((value) => ['--dynamic-config-value', value]),
    '--log-format',
    'json',
    '--log-level',
    'warn',
  ];
  if (options.ui) {
    args.push('--ui-ip', webUiHost, '--ui-port', String(options.uiPort));
    if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
  } else {
    args.push('--headless');
  }
  return args;
}

/** Whether a Temporal frontend answers its health check SERVING (the dev server, or the cluster profile's frontend). */
export async function frontendServing(address: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 });
  try {
    const answer = await connection.healthService.check({});
    return answer.status === 1; // SERVING
  } finally {
    await connection.close();
  }
}

/** Adds the project's search attributes that the namespace lacks; safe on an existing data folder. */
export async function registerSearchAttributes(address: string, namespace: string): Promise<string[]> {
  const connection = await Connection.connect({ address });
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const missing = searchAttributeKeys.filter((key) => !(key.name in (existing.customAttributes ?? {})));
    if (missing.length > 0) {
      await connection.operatorService.addSearchAttributes({
        namespace,
        searchAttributes: Object.fromEntries(missing.map((key) => [key.name, indexedValueTypes[key.type]])),
      });
    }
    return missing.map((key) => key.name);
  } finally {
    await connection.close();
  }
}

async function retentionSeconds(connection: Connection, namespace: string): Promise<number> {
  const described = await connection.workflowService.describeNamespace({ namespace });
  return Number(described.config?.workflowExecutionRetentionTtl?.seconds ?? 0);
}

/** Sets how long the namespace keeps closed workflows, if it differs; returns whether it changed. */
export async function setNamespaceRetention(address: string, namespace: string, retentionHours: number): Promise<boolean> {
  const seconds = retentionHours * 3_600;
  const connection = await Connection.connect({ address });
  try {
    if ((await retentionSeconds(connection, namespace)) === seconds) return false;
    // Only the fields set in `config` change; the namespace's other settings stay as they are.
    await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: google.protobuf.Duration.fromObject({ seconds }) } });
    const after = await retentionSeconds(connection, namespace);
    if (after !== seconds) throw new Error(`namespace ${namespace} kept a retention of ${after} s after an update to ${seconds} s`);
    return true;
  } finally {
    await connection.close();
  }
}

export async function startTemporalDevServer(options: TemporalDevServerOptions, sink: LogSink): Promise<RunningTemporal> {
  await mkdir(options.dataDir, { recursive: true });
  const process = ManagedProcess.start({ name: 'temporal', command: options.binary, args: temporalDevServerArgs(options) }, sink);
  const address = `${options.host}:${options.port}`;
  await waitUntilReady(process, `Temporal frontend at ${address}`, () => frontendServing(address), { timeoutMs: startupTimeoutMs, intervalMs: 250 });
  await registerSearchAttributes(address, options.namespace);
  await setNamespaceRetention(address, options.namespace, options.namespaceRetentionHours);
  const uiUrl = options.ui ? `http://${webUiHost}:${options.uiPort}` : undefined;
  if (uiUrl) {
    await waitUntilReady(process, `Temporal Web UI at ${uiUrl}`, async () => (await fetch(uiUrl)).ok, { timeoutMs: startupTimeoutMs });
  }
  return { process, address, namespace: options.namespace, uiUrl };
}
