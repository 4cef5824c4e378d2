import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBinaries } from './binaries';
import { ensureClusterBinaries } from './cluster-binaries';
import { startPostgres } from './processes/postgres';
import { awaitFirstService, awaitTemporalCluster, prepareTemporalSchemas, startTemporalUi, startTemporalService, temporalComponentName, temporalServiceNames, type TemporalClusterOptions, type TemporalServiceName } from './processes/temporal-cluster';
import { assertPortFree, findFreePort, PortInUseError } from './ports';
import { startFerretDb } from './processes/ferretdb';
import type { LogSink, ManagedProcess } from './processes/managed-process';
import { startNodeService } from './processes/node-service';
import { namespaceRetentionHoursDefault, startTemporalDevServer, webUiHost } from './processes/temporal-dev-server';
import { workerPolling } from './processes/worker-readiness';
import { formatApiKeys, formatServiceKeys, formatSigningKey, formatSigningKeys, loadOrCreateSecrets, settlementServiceKeys, signingKeyOf, type ApiKeyEntry, type ClusterSecrets, type ServiceKeyEntry } from './secrets';

const projectRoot = join(__dirname, '..');

export interface BankNodePlan {
  bankId: string;
  databasePort: number;
  databaseDebugPort: number;
  /** HTTP port of the bank's account service. */
  servicePort: number;
}

/** The project's own processes; tests of the servers alone leave them out. */
export interface ServicesPlan {
  transferApiPort: number;
  /** The worker's Prometheus endpoint (the SDK runtime's exporter). */
  workerMetricsPort: number;
  /** Extra environment for every service process (e.g. short saga timeouts in tests). */
  env: Record<string, string>;
  /** TRANSFER_API_KEYS from the launcher's environment, if given (service keys are always the data folder's, one per caller). */
  apiKeys?: string;
  /** PAYLOAD_CODEC_KEYS from the launcher's environment (or the tests' fixed keys); generated otherwise. */
  codecKeys?: string;
  /** Port of the codec server the Web UI and the CLI decode payloads through. */
  codecServerPort: number;
  /** API keys added to the generated ones (tests use several clients). */
  extraApiKeys?: readonly ApiKeyEntry[];
  /** Where the worker reaches some banks instead of their own port (the chaos harness puts a faulty proxy there). */
  workerBankUrls?: Readonly<Record<string, string>>;
}

/** The cluster profile's ports beside the frontend's (ClusterPlan.temporal.port). */
export interface TemporalClusterPlan {
  postgresPort: number;
  frontendMembershipPort: number;
  frontendHttpPort: number;
  historyPort: number;
  historyMembershipPort: number;
  matchingPort: number;
  matchingMembershipPort: number;
  workerPort: number;
  workerMembershipPort: number;
}

/** Everything needed to start one local cluster: where it keeps data and which ports it takes. */
export interface ClusterPlan {
  dataDir: string;
  host: string;
  temporal: {
    port: number;
    uiPort: number;
    ui: boolean;
    namespace: string;
    /** How long closed workflows stay in Temporal (TEMPORAL_NAMESPACE_RETENTION); applied on every start. */
    namespaceRetentionHours: number;
    extraSqlitePragmas?: readonly string[];
    dynamicConfig?: readonly string[];
    /** Set for the cluster profile: the four Temporal services over PostgreSQL instead of the dev server (port is the frontend's). */
    cluster?: TemporalClusterPlan;
  };
  banks: readonly BankNodePlan[];
  /** The settlement bank: an account service of its own, with its own FerretDB, holding the participants' reserves and positions; runs with services. */
  settlementBank?: BankNodePlan;
  /** The transfer API's own FerretDB (webhook endpoints, event feed); required with services. */
  apiDatabase?: { port: number; debugPort: number };
  services?: ServicesPlan;
}

export type ComponentKind = 'temporal' | 'database' | 'account-service' | 'codec-server' | 'worker' | 'transfer-api';

/** One running process of the cluster, restartable in place (same ports, same data). */
export interface ClusterComponent {
  name: string;
  kind: ComponentKind;
  /** Where clients reach it: gRPC address, MongoDB URL or HTTP base URL. */
  endpoint: string;
  /** A second address people open, such as the Web UI. */
  consoleUrl?: string;
  dataDir?: string;
  process: ManagedProcess;
}

export interface RunningCluster {
  plan: ClusterPlan;
  temporalAddress: string;
  namespace: string;
  webUiUrl: string | undefined;
  /** MongoDB URL of each bank's database, by bank id. */
  databaseUrls: ReadonlyMap<string, string>;
  /** Base URL of each bank's account service, by bank id (empty without services). */
  accountServiceUrls: ReadonlyMap<string, string>;
  /** The settlement bank's id and account service ('' without services). */
  settlementBankId: string;
  settlementBankUrl: string;
  /** Base URL of the codec server, with its access token in the path ('' without services). */
  codecEndpoint: string;
  /** MongoDB URL of the transfer API's own database ('' without services). */
  apiDatabaseUrl: string;
  /** Base URL of the transfer API ('' without services). */
  transferApiUrl: string;
  /** The worker's Prometheus endpoint, e.g. http://127.0.0.1:9464/metrics ('' without services). */
  workerMetricsUrl: string;
  /** Signing and API keys the cluster runs with (undefined without services). */
  secrets: ClusterSecrets | undefined;
  components(): readonly ClusterComponent[];
  component(name: string): ClusterComponent;
  /** kill -9 of one component, as in a crash. */
  kill(name: string): Promise<void>;
  /** Starts a stopped or killed component again on its own ports and data. */
  restart(name: string): Promise<void>;
  stop(): Promise<void>;
}

interface ComponentSlot {
  component: ClusterComponent;
  start: () => Promise<ManagedProcess>;
}

const pidFileName = 'pids.json';
/** Listing order: the servers first, then what depends on them. */
const startOrder: readonly ComponentKind[] = ['temporal', 'database', 'account-service', 'codec-server', 'worker', 'transfer-api'];

export const defaultBankIds = ['bank-a', 'bank-b', 'bank-c'] as const;
/** The settlement bank's id: the account service that holds the participants' reserves and positions. */
export const settlementBankIdDefault = 'settlement';

/** The transfer API's database on its own FerretDB. */
export const apiDatabaseName = 'transfer_api';
/** The currencies the local settlement bank holds unless SETTLEMENT_CURRENCIES says otherwise: the local examples and tests use both. */
export const localSettlementCurrencies = 'EUR,USD';
/** Webhook hosts the local cluster may call unless WEBHOOK_ALLOWED_HOSTS says otherwise: every port, since local receivers run on any. */
export const localWebhookAllowedHosts = '127.0.0.1:*,localhost:*';

export function databaseName(bankId: string): string {
  return `ledger_${bankId.replace(/[^A-Za-z0-9]/g, '_')}`;
}

/** A plan on free ports in the given folder, for tests and benchmarks that must not touch `npm start`'s cluster. */
export interface EphemeralPlanOptions {
  banks?: readonly string[];
  ui?: boolean;
  /** Also run account services, the worker and the transfer API. */
  services?: boolean;
  serviceEnv?: Record<string, string>;
  extraApiKeys?: readonly ApiKeyEntry[];
  /** PAYLOAD_CODEC_KEYS for the services; generated in the data folder when absent. */
  codecKeys?: string;
  extraSqlitePragmas?: readonly string[];
  /** Dev-server dynamic configuration values (`key=value`), for benchmarks. */
  dynamicConfig?: readonly string[];
  /** The cluster profile: Temporal's four services over PostgreSQL instead of the dev server. */
  temporalCluster?: boolean;
}

async function temporalClusterPorts(nextPort: () => Promise<number>): Promise<TemporalClusterPlan> {
  const names = ['postgresPort', 'frontendMembershipPort', 'frontendHttpPort', 'historyPort', 'historyMembershipPort', 'matchingPort', 'matchingMembershipPort', 'workerPort', 'workerMembershipPort'] as const;
  const ports: Partial<TemporalClusterPlan> = {};
  for (const name of names) ports[name] = await nextPort();
  return ports as TemporalClusterPlan;
}

export async function ephemeralPlan(dataDir: string, options: EphemeralPlanOptions = {}): Promise<ClusterPlan> {
  const host = '127.0.0.1';
  // The kernel may hand out one free port twice before anything binds it: never plan one port for two processes.
  const handedOut = new Set<number>();
  const nextPort = async (): Promise<number> => {
    for (;;) {
      const port = await findFreePort(host);
      if (!handedOut.has(port)) {
        handedOut.add(port);
        return port;
      }
    }
  };
  const banks: BankNodePlan[] = [];
  for (const bankId of options.banks ?? defaultBankIds) {
    banks.push({ bankId, databasePort: await nextPort(), databaseDebugPort: await nextPort(), servicePort: await nextPort() });
  }
  return {
    dataDir,
    host,
    temporal: {
      port: await nextPort(),
      uiPort: await nextPort(),
      ui: options.ui ?? false,
      namespace: 'default',
      namespaceRetentionHours: namespaceRetentionHoursDefault,
      ...(options.extraSqlitePragmas ? { extraSqlitePragmas: options.extraSqlitePragmas } : {}),
      ...(options.dynamicConfig ? { dynamicConfig: options.dynamicConfig } : {}),
      ...(options.temporalCluster ? { cluster: await temporalClusterPorts(nextPort) } : {}),
    },
    banks,
    ...(options.services
      ? {
          apiDatabase: { port: await nextPort(), debugPort: await nextPort() },
          settlementBank: { bankId: settlementBankIdDefault, databasePort: await nextPort(), databaseDebugPort: await nextPort(), servicePort: await nextPort() },
          services: {
            transferApiPort: await nextPort(),
            workerMetricsPort: await nextPort(),
            codecServerPort: await nextPort(),
            env: options.serviceEnv ?? {},
            ...(options.extraApiKeys ? { extraApiKeys: options.extraApiKeys } : {}),
            ...(options.codecKeys ? { codecKeys: options.codecKeys } : {}),
          },
        }
      : {}),
  };
}

/** A start that lost a port to another process: found taken before the start, or taken between the check and a server's bind. */
export function lostPortRace(error: unknown): boolean {
  return error instanceof PortInUseError || (error instanceof Error && /address already in use|EADDRINUSE/i.test(error.message));
}

export interface FreePortStartOptions {
  /** Starts before giving up (each on new ports, from an empty data folder). */
  attempts?: number;
  /** Runs between planning and starting; tests take a planned port here to force a race. */
  beforeStart?: (plan: ClusterPlan, attempt: number) => Promise<void>;
}

/**
 * A cluster on free ports for tests and benchmarks. Ports are free when planned, but on a busy
 * machine another process may bind one before its server does: such a start stops what it started
 * and tries again on new ports instead of failing the suite.
 */
export async function startClusterOnFreePorts(dataDir: string, planOptions: EphemeralPlanOptions, options: StartClusterOptions, retry: FreePortStartOptions = {}): Promise<RunningCluster> {
  const attempts = retry.attempts ?? 3;
  const log = options.log ?? ((line: string) => options.sink('launcher', line));
  for (let attempt = 1; ; attempt += 1) {
    const plan = await ephemeralPlan(dataDir, planOptions);
    await retry.beforeStart?.(plan, attempt);
    try {
      return await startCluster(plan, attempt === 1 ? options : { ...options, fresh: true });
    } catch (error) {
      if (attempt >= attempts || !lostPortRace(error)) throw error;
      log(`a planned port was taken by another process; starting again on new ports (attempt ${attempt + 1} of ${attempts})`);
    }
  }
}

/**
 * A launcher that was killed cannot stop its children; the next start on the same data
 * folder ends them, so an old FerretDB cannot keep holding a port or a data file.
 */
async function endLeftoverProcesses(dataDir: string, log: (line: string) => void): Promise<boolean> {
  let recorded: Array<{ name: string; pid: number; command: string }>;
  try {
    recorded = JSON.parse(await readFile(join(dataDir, pidFileName), 'utf8')) as typeof recorded;
  } catch {
    return false;
  }
  let ended = false;
  for (const { name, pid, command } of recorded) {
    let cmdline: string;
    try {
      cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (!cmdline.startsWith(command)) continue;
    log(`ending ${name} (pid ${pid}) left over from an earlier run on ${dataDir}`);
    process.kill(pid, 'SIGKILL');
    await waitForExit(pid);
    ended = true;
  }
  return ended;
}

/** A killed process keeps its ports until the kernel has reaped it. */
async function waitForExit(pid: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      if (/^State:\s+Z/m.test(status)) return;
    } catch {
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function recordPids(dataDir: string, slots: readonly ComponentSlot[]): Promise<void> {
  const entries = slots
    .filter((slot) => slot.component.process.running && slot.component.process.pid !== undefined)
    .map((slot) => ({ name: slot.component.name, pid: slot.component.process.pid, command: slot.component.process.spec.command }));
  await writeFile(join(dataDir, pidFileName), JSON.stringify(entries, null, 2));
}

/** After ending leftovers the kernel may need a moment to release their ports. */
async function checkPortsPatiently(plan: ClusterPlan, patienceMs: number): Promise<void> {
  const deadline = Date.now() + patienceMs;
  for (;;) {
    try {
      await checkPorts(plan);
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

async function checkPorts(plan: ClusterPlan): Promise<void> {
  const checks: Array<[number, string, string]> = [[plan.temporal.port, 'The Temporal frontend', 'TEMPORAL_PORT']];
  const cluster = plan.temporal.cluster;
  if (plan.temporal.ui) checks.push([plan.temporal.uiPort, 'The Temporal Web UI', 'TEMPORAL_UI_PORT']);
  if (cluster) {
    checks.push(
      [cluster.postgresPort, "Temporal's PostgreSQL", 'TEMPORAL_POSTGRES_PORT'],
      [cluster.historyPort, 'The Temporal history service', 'TEMPORAL_HISTORY_PORT'],
      [cluster.matchingPort, 'The Temporal matching service', 'TEMPORAL_MATCHING_PORT'],
      [cluster.workerPort, 'The Temporal worker service', 'TEMPORAL_WORKER_PORT'],
      [cluster.frontendHttpPort, "The Temporal frontend's HTTP API", 'TEMPORAL_FRONTEND_HTTP_PORT'],
      ...[cluster.frontendMembershipPort, cluster.historyMembershipPort, cluster.matchingMembershipPort, cluster.workerMembershipPort].map((port): [number, string, string] => [port, 'A Temporal membership port', 'TEMPORAL_MEMBERSHIP_BASE_PORT']),
    );
  }
  for (const bank of plan.banks) {
    checks.push([bank.databasePort, `FerretDB of ${bank.bankId}`, 'FERRETDB_BASE_PORT']);
    checks.push([bank.databaseDebugPort, `FerretDB debug endpoint of ${bank.bankId}`, 'FERRETDB_DEBUG_BASE_PORT']);
    if (plan.services) checks.push([bank.servicePort, `The account service of ${bank.bankId}`, 'ACCOUNT_SERVICE_BASE_PORT']);
  }
  if (plan.services) checks.push([plan.services.transferApiPort, 'The transfer API', 'TRANSFER_API_PORT']);
  if (plan.services) checks.push([plan.services.workerMetricsPort, "The worker's metrics endpoint", 'WORKER_METRICS_PORT']);
  if (plan.services) checks.push([plan.services.codecServerPort, 'The codec server', 'CODEC_SERVER_PORT']);
  const settlement = plan.settlementBank;
  if (settlement) {
    checks.push([settlement.databasePort, 'FerretDB of the settlement bank', 'SETTLEMENT_FERRETDB_PORT']);
    checks.push([settlement.databaseDebugPort, 'FerretDB debug endpoint of the settlement bank', 'SETTLEMENT_FERRETDB_DEBUG_PORT']);
    checks.push([settlement.servicePort, 'The settlement bank', 'SETTLEMENT_SERVICE_PORT']);
  }
  if (plan.apiDatabase) checks.push([plan.apiDatabase.port, 'FerretDB of the transfer API', 'API_FERRETDB_PORT']);
  if (plan.apiDatabase) checks.push([plan.apiDatabase.debugPort, 'FerretDB debug endpoint of the transfer API', 'API_FERRETDB_DEBUG_PORT']);
  for (const [port, purpose, variable] of checks) await assertPortFree(plan.host, port, purpose, variable);
}

export interface StartClusterOptions {
  /** Deletes the data folder first. */
  fresh?: boolean;
  sink: LogSink;
  /** Progress lines of the launcher itself. */
  log?: (line: string) => void;
}

type Binaries = Awaited<ReturnType<typeof ensureBinaries>>;
type ComponentStart = () => Promise<Omit<ClusterComponent, 'name' | 'kind'>>;

/** The cluster's components as they start, restart and stop; the pid file follows them. */
class ComponentSlots {
  private readonly slots = new Map<string, ComponentSlot>();

  constructor(private readonly dataDir: string) {}

  async launch(name: string, kind: ComponentKind, start: ComponentStart): Promise<void> {
    const first = await start();
    this.slots.set(name, { component: { name, kind, ...first }, start: async () => (await start()).process });
  }

  find(name: string): ComponentSlot | undefined {
    return this.slots.get(name);
  }

  slot(name: string): ComponentSlot {
    const found = this.slots.get(name);
    if (!found) throw new Error(`no cluster component named ${name}; have ${[...this.slots.keys()].join(', ')}`);
    return found;
  }

  all(): ComponentSlot[] {
    return [...this.slots.values()];
  }

  recordPids(): Promise<void> {
    return recordPids(this.dataDir, this.all());
  }

  /** The project's processes stop first, so that none of them sees its servers vanish. */
  async stopAll(): Promise<void> {
    const byKind = (kinds: readonly ComponentKind[]) => this.all().filter((entry) => kinds.includes(entry.component.kind));
    await Promise.all(byKind(['transfer-api', 'worker']).map((entry) => entry.component.process.stop()));
    await Promise.all(byKind(['account-service', 'codec-server']).map((entry) => entry.component.process.stop()));
    await Promise.all(byKind(['temporal', 'database']).map((entry) => entry.component.process.stop()));
    await rm(join(this.dataDir, pidFileName), { force: true });
  }

  /** Each stage starts in parallel; a stage starts only when the one it depends on is ready. */
  async runStage(stage: Array<Promise<void>>): Promise<void> {
    const results = await Promise.allSettled(stage);
    await this.recordPids();
    const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure) {
      await this.stopAll();
      throw failure.reason;
    }
  }
}

interface ServerUrls {
  databaseUrls: Map<string, string>;
  apiDatabaseUrl: string;
}

/** Temporal, each bank's FerretDB and the API's, in one stage. */
async function startServers(plan: ClusterPlan, slots: ComponentSlots, binaries: Binaries, sink: LogSink, codecEndpoint: string): Promise<ServerUrls> {
  // Checked before anything starts, so that no process is left running behind the refusal.
  if (plan.services && !plan.apiDatabase) throw new Error('a plan with services needs apiDatabase: the API and the worker keep events there');
  const urls: ServerUrls = { databaseUrls: new Map(), apiDatabaseUrl: '' };
  const temporalDir = join(plan.dataDir, 'temporal');
  const database = (name: string, dataDir: string, port: number, debugPort: number, found: (url: string) => void) =>
    slots.launch(name, 'database', async () => {
      const started = await startFerretDb({ name, binary: binaries.ferretDb, dataDir, host: plan.host, port, debugPort }, sink);
      found(started.url);
      return { endpoint: started.url, dataDir, process: started.process };
    });
  const clusterPlan = plan.temporal.cluster;
  const starts: Array<Promise<void>> = [
    clusterPlan
      ? launchTemporalCluster(plan, clusterPlan, slots, sink, codecEndpoint)
      : slots.launch('temporal', 'temporal', async () => {
          const temporal = await startTemporalDevServer({ binary: binaries.temporal, dataDir: temporalDir, host: plan.host, ...plan.temporal, ...(codecEndpoint ? { uiCodecEndpoint: codecEndpoint } : {}) }, sink);
          return { endpoint: temporal.address, consoleUrl: temporal.uiUrl, dataDir: temporalDir, process: temporal.process };
        }),
    ...plan.banks.map((bank) =>
      database(`ferretdb-${bank.bankId}`, join(plan.dataDir, 'ferretdb', bank.bankId), bank.databasePort, bank.databaseDebugPort, (url) => urls.databaseUrls.set(bank.bankId, url)),
    ),
  ];
  const settlement = plan.settlementBank;
  if (settlement) {
    starts.push(database(`ferretdb-${settlement.bankId}`, join(plan.dataDir, 'ferretdb', settlement.bankId), settlement.databasePort, settlement.databaseDebugPort, (url) => urls.databaseUrls.set(settlement.bankId, url)));
  }
  const apiDatabase = plan.apiDatabase;
  if (apiDatabase) {
    starts.push(database('ferretdb-transfer-api', join(plan.dataDir, 'ferretdb', 'transfer-api'), apiDatabase.port, apiDatabase.debugPort, (url) => (urls.apiDatabaseUrl = url)));
  }
  await slots.runStage(starts);
  return urls;
}

/**
 * The cluster profile's Temporal: PostgreSQL, then the schemas, then the four services, each a
 * component of its own (the frontend is `temporal`, where clients connect), so that each can be
 * killed and restarted alone.
 */
async function launchTemporalCluster(plan: ClusterPlan, clusterPlan: TemporalClusterPlan, slots: ComponentSlots, sink: LogSink, codecEndpoint: string): Promise<void> {
  const binaries = await ensureClusterBinaries((line) => sink('launcher', line));
  const dataDir = join(plan.dataDir, 'temporal-postgres');
  // As root PostgreSQL runs as the postgres user, which must pass through the data folder (a test's is 0700); it cannot list it.
  if (process.getuid?.() === 0) await chmod(plan.dataDir, ((await stat(plan.dataDir)).mode & 0o777) | 0o001);
  const password = await temporalDatabasePassword(plan.dataDir);
  const database = { host: plan.host, port: clusterPlan.postgresPort, user: 'temporal', password };
  await slots.launch('temporal-postgres', 'database', async () => {
    const started = await startPostgres({ name: 'temporal-postgres', binDir: binaries.postgresBinDir, dataDir, ...database }, sink);
    return { endpoint: `postgresql://${plan.host}:${clusterPlan.postgresPort}/`, dataDir, process: started.process };
  });
  const options: TemporalClusterOptions = {
    binaries,
    projectRoot,
    host: plan.host,
    database,
    ports: {
      frontend: { grpc: plan.temporal.port, membership: clusterPlan.frontendMembershipPort },
      history: { grpc: clusterPlan.historyPort, membership: clusterPlan.historyMembershipPort },
      matching: { grpc: clusterPlan.matchingPort, membership: clusterPlan.matchingMembershipPort },
      worker: { grpc: clusterPlan.workerPort, membership: clusterPlan.workerMembershipPort },
      frontendHttp: clusterPlan.frontendHttpPort,
    },
    namespace: plan.temporal.namespace,
    namespaceRetentionHours: plan.temporal.namespaceRetentionHours,
  };
  prepareTemporalSchemas(options, (line) => sink('launcher', line));
  const endpoints: Record<TemporalServiceName, string> = {
    frontend: `${plan.host}:${plan.temporal.port}`,
    history: `${plan.host}:${clusterPlan.historyPort}`,
    matching: `${plan.host}:${clusterPlan.matchingPort}`,
    worker: `${plan.host}:${clusterPlan.workerPort}`,
  };
  // History first (it writes the cluster's metadata on a new database), then the other three at once; a restart starts the one service again.
  for (const service of temporalServiceNames) {
    await slots.launch(temporalComponentName(service), 'temporal', async () => ({ endpoint: endpoints[service], dataDir, process: startTemporalService(options, service, sink) }));
    if (service === 'history') await awaitFirstService(options, slots.slot(temporalComponentName(service)).component.process);
  }
  await awaitTemporalCluster(options, slots.slot('temporal').component.process);
  if (plan.temporal.ui) {
    await slots.launch('temporal-ui', 'temporal', async () => {
      const ui = await startTemporalUi({ ...options, uiPort: plan.temporal.uiPort, ...(codecEndpoint ? { codecEndpoint } : {}) }, sink);
      return { endpoint: ui.url, consoleUrl: ui.url, process: ui.process };
    });
  }
}

/** The Temporal role's password in the cluster profile: generated once, kept beside the other secrets (mode 0600). */
async function temporalDatabasePassword(dataDir: string): Promise<string> {
  const file = join(dataDir, 'secrets', 'temporal-db-password');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const password = randomBytes(24).toString('base64url');
    await mkdir(join(dataDir, 'secrets'), { recursive: true, mode: 0o700 });
    await writeFile(file, `${password}\n`, { mode: 0o600 });
    return password;
  }
}

interface ServiceUrls {
  accountServiceUrls: Map<string, string>;
  settlementBankUrl: string;
  transferApiUrl: string;
  workerMetricsUrl: string;
}

interface ServiceContext {
  plan: ClusterPlan;
  services: ServicesPlan;
  secrets: ClusterSecrets;
  slots: ComponentSlots;
  servers: ServerUrls;
  sink: LogSink;
  accountServiceUrls: Map<string, string>;
  settlementBankUrl: string;
  /** Environment every service gets. */
  common: Record<string, string>;
}

/** The project's processes: the codec server and the account services, then the worker and the API. */
async function startServices(context: Omit<ServiceContext, 'accountServiceUrls' | 'settlementBankUrl' | 'common'>, codecServerUrl: string): Promise<ServiceUrls> {
  const { plan, services } = context;
  const serviceUrl = (bank: BankNodePlan) => `http://${plan.host}:${bank.servicePort}`;
  const accountServiceUrls = new Map(plan.banks.map((bank) => [bank.bankId, serviceUrl(bank)] as const));
  const settlement = plan.settlementBank;
  if (!settlement) throw new Error('a plan with services needs settlementBank: every transfer between banks settles there');
  const full: ServiceContext = { ...context, accountServiceUrls, settlementBankUrl: serviceUrl(settlement), common: { LOG_LEVEL: 'info', WEBHOOK_ALLOWED_HOSTS: localWebhookAllowedHosts, SETTLEMENT_CURRENCIES: localSettlementCurrencies, ...services.env } };
  await context.slots.runStage([startCodecServer(full, codecServerUrl), ...plan.banks.map((bank) => startAccountService(full, bank)), startAccountService(full, settlement, settlementServiceKeys(context.secrets))]);
  const transferApiUrl = `http://${plan.host}:${services.transferApiPort}`;
  const workerMetricsUrl = `http://${plan.host}:${services.workerMetricsPort}/metrics`;
  await startWorkerAndApi(full, transferApiUrl, workerMetricsUrl);
  return { accountServiceUrls, settlementBankUrl: full.settlementBankUrl, transferApiUrl, workerMetricsUrl };
}

function startCodecServer({ plan, services, secrets, slots, sink, common }: ServiceContext, codecServerUrl: string): Promise<void> {
  return slots.launch('codec-server', 'codec-server', async () => {
    const env = {
      ...common,
      CODEC_SERVER_PORT: String(services.codecServerPort),
      BIND_HOST: webUiHost,
      PAYLOAD_CODEC_KEYS: secrets.codecKeys,
      CODEC_SERVER_TOKEN: secrets.codecToken,
      // The UI's origin, as the browser names it either way.
      CODEC_CORS_ORIGINS: [`http://${webUiHost}:${plan.temporal.uiPort}`, `http://localhost:${plan.temporal.uiPort}`].join(','),
    };
    // The listed endpoint leaves the token out: the launcher prints its table to the terminal.
    return { endpoint: codecServerUrl, process: await startNodeService({ name: 'codec-server', entry: 'services/codec-server/main.ts', env, readyUrl: `${codecServerUrl}/healthz` }, sink) };
  });
}

function startAccountService({ plan, secrets, slots, servers, sink, common }: ServiceContext, bank: BankNodePlan, serviceKeys: readonly ServiceKeyEntry[] = secrets.serviceKeys): Promise<void> {
  const name = `account-service-${bank.bankId}`;
  const url = `http://${plan.host}:${bank.servicePort}`;
  return slots.launch(name, 'account-service', async () => {
    const env = {
      ...common,
      BANK_ID: bank.bankId,
      PORT: String(bank.servicePort),
      BIND_HOST: plan.host,
      MONGODB_URL: servers.databaseUrls.get(bank.bankId) as string,
      DATABASE_NAME: databaseName(bank.bankId),
      SERVICE_KEYS: formatServiceKeys(serviceKeys),
    };
    return { endpoint: url, process: await startNodeService({ name, entry: 'services/account-service/main.ts', env, readyUrl: `${url}/readyz` }, sink) };
  });
}

async function startWorkerAndApi({ plan, services, secrets, slots, servers, sink, common, accountServiceUrls, settlementBankUrl }: ServiceContext, transferApiUrl: string, workerMetricsUrl: string): Promise<void> {
  const settlementBankId = plan.settlementBank?.bankId ?? settlementBankIdDefault;
  const temporalAddress = slots.slot('temporal').component.endpoint;
  const bankDirectory = [...accountServiceUrls].map(([bankId, url]) => `${bankId}=${url}`).join(',');
  const workerBanks = [...accountServiceUrls].map(([bankId, url]) => `${bankId}=${services.workerBankUrls?.[bankId] ?? url}`).join(',');
  const temporalEnv = {
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_NAMESPACE: plan.temporal.namespace,
    TASK_QUEUE: 'transfers',
    BANKS: bankDirectory,
    TRANSFER_AUTHORITY_KEYS: formatSigningKeys(secrets.authorityKeys),
    PAYLOAD_CODEC_KEYS: secrets.codecKeys,
    EVENTS_MONGODB_URL: servers.apiDatabaseUrl,
    EVENTS_DATABASE_NAME: apiDatabaseName,
    SETTLEMENT_BANK_ID: settlementBankId,
  };
  await slots.runStage([
    slots.launch('worker', 'worker', async () => {
      const keys = { SERVICE_SIGNING_KEY: formatSigningKey(signingKeyOf(secrets, 'worker')), RECONCILIATION_SIGNING_KEY: formatSigningKey(signingKeyOf(secrets, 'reconciliation')) };
      const settlement = { SETTLEMENT_BANK_URL: services.workerBankUrls?.[settlementBankId] ?? settlementBankUrl };
      const env = { ...common, ...temporalEnv, ...keys, ...settlement, BANKS: workerBanks, BIND_HOST: plan.host, WORKER_METRICS_PORT: String(services.workerMetricsPort) };
      const worker = await startNodeService({ name: 'worker', entry: 'services/worker/main.ts', env }, sink);
      await workerPolling(worker, temporalAddress, plan.temporal.namespace, 'transfers');
      return { endpoint: `task queue transfers`, consoleUrl: workerMetricsUrl, process: worker };
    }),
    slots.launch('transfer-api', 'transfer-api', async () => {
      // The clients' mandates and the banks' BICs come first, so that a plan's own CLIENT_MANDATES or BANK_BICS replaces them.
      const mandates = { CLIENT_MANDATES: localClientMandates(secrets.apiKeys, plan.banks), BANK_BICS: localBankBics(plan.banks) };
      const keys = { SERVICE_SIGNING_KEY: formatSigningKey(signingKeyOf(secrets, 'transfer-api')), TRANSFER_API_KEYS: formatApiKeys(secrets.apiKeys) };
      const env = { ...mandates, ...common, ...temporalEnv, ...keys, SETTLEMENT_BANK_URL: settlementBankUrl, PORT: String(services.transferApiPort), BIND_HOST: plan.host };
      return { endpoint: transferApiUrl, consoleUrl: `${transferApiUrl}/docs`, process: await startNodeService({ name: 'transfer-api', entry: 'services/transfer-api/main.ts', env, readyUrl: `${transferApiUrl}/readyz` }, sink) };
    }),
  ]);
}

/**
 * Test BICs for the local banks, by their place in the plan: BKAADEFFXXX for the first, BKBBDEFFXXX
 * for the second, … (BK + a letter twice, then DE, FF and the XXX of a head office).
 */
export function localBankBics(banks: readonly Pick<BankNodePlan, 'bankId'>[]): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const code = (index: number): string => (index < letters.length ? `${letters[index]}${letters[index]}` : index.toString(36).toUpperCase().padStart(2, '0').slice(-2));
  return banks.map((bank, index) => `${bank.bankId}=BK${code(index)}DEFFXXX`).join(',');
}

/** Every local client is a participant of every local bank: it may debit any account of them. */
function localClientMandates(apiKeys: readonly ApiKeyEntry[], banks: readonly BankNodePlan[]): string {
  const bankList = banks.map((bank) => bank.bankId).join('|');
  return apiKeys
    .filter((key) => key.role === 'client')
    .map((key) => `${key.name}=${bankList}`)
    .join(',');
}

export async function startCluster(plan: ClusterPlan, options: StartClusterOptions): Promise<RunningCluster> {
  const log = options.log ?? ((line: string) => options.sink('launcher', line));
  if (options.fresh) await rm(plan.dataDir, { recursive: true, force: true });
  await mkdir(plan.dataDir, { recursive: true });
  const endedLeftovers = await endLeftoverProcesses(plan.dataDir, log);
  await checkPortsPatiently(plan, endedLeftovers ? 10_000 : 0);
  const binaries = await ensureBinaries(log);

  const slots = new ComponentSlots(plan.dataDir);
  const services = plan.services;
  // Secrets come first: the dev server's UI is told the codec server's address (with its token) at start.
  const secrets = services
    ? await loadOrCreateSecrets(plan.dataDir, { ...(services.apiKeys ? { apiKeys: services.apiKeys } : {}), ...(services.codecKeys ? { codecKeys: services.codecKeys } : {}) }, services.extraApiKeys)
    : undefined;
  // On loopback like the Web UI it serves: the UI hands its endpoint (with the token) to every browser.
  const codecServerUrl = services ? `http://${webUiHost}:${services.codecServerPort}` : '';
  const codecEndpoint = services && secrets ? `${codecServerUrl}/${secrets.codecToken}` : '';

  const servers = await startServers(plan, slots, binaries, options.sink, codecEndpoint);
  const urls: ServiceUrls =
    services && secrets
      ? await startServices({ plan, services, secrets, slots, servers, sink: options.sink }, codecServerUrl)
      : { accountServiceUrls: new Map(), settlementBankUrl: '', transferApiUrl: '', workerMetricsUrl: '' };
  return runningCluster(plan, slots, { ...servers, ...urls, codecEndpoint, secrets });
}

function runningCluster(plan: ClusterPlan, slots: ComponentSlots, found: ServerUrls & ServiceUrls & { codecEndpoint: string; secrets: ClusterSecrets | undefined }): RunningCluster {
  const temporal = slots.slot('temporal').component;
  return {
    plan,
    temporalAddress: temporal.endpoint,
    namespace: plan.temporal.namespace,
    // The dev server serves its own UI; the cluster profile runs the UI server as a component of its own.
    webUiUrl: slots.find('temporal-ui')?.component.consoleUrl ?? temporal.consoleUrl,
    databaseUrls: found.databaseUrls,
    accountServiceUrls: found.accountServiceUrls,
    settlementBankId: plan.settlementBank?.bankId ?? '',
    settlementBankUrl: found.settlementBankUrl,
    apiDatabaseUrl: found.apiDatabaseUrl,
    transferApiUrl: found.transferApiUrl,
    workerMetricsUrl: found.workerMetricsUrl,
    codecEndpoint: found.codecEndpoint,
    secrets: found.secrets,
    components: () => slots.all().map((entry) => entry.component).sort((a, b) => startOrder.indexOf(a.kind) - startOrder.indexOf(b.kind) || a.name.localeCompare(b.name)),
    component: (name) => slots.slot(name).component,
    kill: async (name) => {
      await slots.slot(name).component.process.kill();
    },
    restart: async (name) => {
      const entry = slots.slot(name);
      if (entry.component.process.running) await entry.component.process.stop();
      entry.component.process = await entry.start();
      await slots.recordPids();
    },
    stop: () => slots.stopAll(),
  };
}
