import { resolve } from 'node:path';
import { z } from 'zod';
import { defaultBankIds, settlementBankIdDefault, type ClusterPlan } from './cluster';
import { namespaceRetentionHoursDefault, namespaceRetentionHoursMax, namespaceRetentionHoursMin } from './processes/temporal-dev-server';

const port = z.coerce.number().int().min(1).max(65_535);
/** Whole hours or days (`72h`, `3d`): a form the Temporal CLI reads too, as docker-compose passes the same value to it. */
export const namespaceRetentionHours = z
  .string()
  .regex(/^\d{1,6}[hd]$/, 'expected whole hours or days, such as 72h or 3d')
  .default(`${namespaceRetentionHoursDefault}h`)
  .transform((value) => Number(value.slice(0, -1)) * (value.endsWith('d') ? 24 : 1))
  .pipe(
    z
      .number()
      .min(namespaceRetentionHoursMin, `at least ${namespaceRetentionHoursMin}h: operators get a day to inspect a closed workflow`)
      .max(namespaceRetentionHoursMax, `at most ${namespaceRetentionHoursMax}h`),
  );
const bankId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'bank ids are lower-case letters, digits and dashes');

/** The launcher's settings; every one has a default so that `npm start` needs none. */
const launcherEnv = z.object({
  DATA_DIR: z.string().min(1).default('.data'),
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_NAMESPACE_RETENTION: namespaceRetentionHours,
  LOCAL_BANKS: z
    .string()
    .default(defaultBankIds.join(','))
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(bankId).min(1).max(9)),
  FERRETDB_BASE_PORT: port.default(27_101),
  FERRETDB_DEBUG_BASE_PORT: port.default(8_101),
  ACCOUNT_SERVICE_BASE_PORT: port.default(4_001),
  TRANSFER_API_PORT: port.default(3_000),
  WORKER_METRICS_PORT: port.default(9_464),
  CODEC_SERVER_PORT: port.default(8_234),
  API_FERRETDB_PORT: port.default(27_100),
  API_FERRETDB_DEBUG_PORT: port.default(8_100),
  SETTLEMENT_SERVICE_PORT: port.default(4_000),
  SETTLEMENT_FERRETDB_PORT: port.default(27_099),
  SETTLEMENT_FERRETDB_DEBUG_PORT: port.default(8_099),
  /** The cluster profile (`--temporal=cluster`): Temporal's PostgreSQL and the other services' ports beside TEMPORAL_PORT. */
  TEMPORAL_POSTGRES_PORT: port.default(5_433),
  TEMPORAL_HISTORY_PORT: port.default(7_234),
  TEMPORAL_MATCHING_PORT: port.default(7_235),
  TEMPORAL_WORKER_PORT: port.default(7_239),
  TEMPORAL_FRONTEND_HTTP_PORT: port.default(7_243),
  TEMPORAL_MEMBERSHIP_BASE_PORT: port.default(6_933),
});

export type TemporalProfile = 'dev' | 'cluster';

/** `--temporal=dev` (the default: `temporal server start-dev`) or `--temporal=cluster` (four services over PostgreSQL). */
export function temporalProfileOf(argv: readonly string[]): TemporalProfile {
  const flag = argv.find((arg) => arg.startsWith('--temporal'));
  if (flag === undefined) return 'dev';
  const value = flag.split('=')[1];
  if (value === 'dev' || value === 'cluster') return value;
  throw new LauncherConfigError(`Invalid ${flag}: expected --temporal=dev or --temporal=cluster`);
}

/** Settings of the services themselves that the launcher passes on when they are set. */
const passedToServices = [
  'LOG_LEVEL',
  'APPROVAL_THRESHOLD_MINOR',
  'APPROVAL_TIMEOUT_MS',
  'TRANSFER_MAX_MINOR',
  'CLIENT_TRANSFER_MAX_MINOR',
  'BANK_BICS',
  'BANK_TIME_ZONE',
  'REFUND_ATTENTION_AFTER_ATTEMPTS',
  'CREDIT_GIVE_UP_AFTER_MS',
  'DEBIT_GIVE_UP_AFTER_MS',
  'COMPENSATION_RETRY_MAX_INTERVAL_MS',
  'TRANSFER_SWEEP_INTERVAL_MS',
  'TRANSFER_START_GRACE_MS',
  'RATE_LIMIT_PER_MINUTE',
  'BANK_REQUEST_TIMEOUT_MS',
  'LEDGER_BATCH_SIZE_MAX',
  'LEDGER_BATCH_LINGER_MS',
  'LEDGER_ACCOUNT_CACHE_MAX',
  'LEDGER_HEAD_CACHE_MAX',
  'LEDGER_QUEUE_DEPTH_MAX',
  'LEDGER_CROSS_ACCOUNT_COMMIT',
  'LEDGER_COMMIT_ENTRIES_MAX',
  'LEDGER_OPTIMISTIC_DECISIONS',
  'EVENT_FEED_RETENTION_DAYS',
  'WEBHOOK_ATTEMPTS_RETENTION_DAYS',
  'EVENT_RETENTION_SWEEP_INTERVAL_MS',
  'TRANSFER_OVERDUE_AFTER_MS',
  'OTEL_EXPORTER_OTLP_ENDPOINT',
  'TRACING_EXPORT_DELAY_MS',
  'WEBHOOK_ALLOWED_HOSTS',
  'WEBHOOK_REQUEST_TIMEOUT_MS',
  'WEBHOOK_RETRY_INITIAL_INTERVAL_MS',
  'WEBHOOK_RETRY_MAX_INTERVAL_MS',
  'WEBHOOK_GIVE_UP_AFTER_MS',
  'WORKER_MAX_CACHED_WORKFLOWS',
  'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
  'WORKER_MAX_CONCURRENT_ACTIVITIES',
  'WORKER_WORKFLOW_TASK_POLLERS',
  'WORKER_ACTIVITY_TASK_POLLERS',
  'WORKER_STICKY_QUEUE_TIMEOUT_MS',
  'CODEC_RATE_LIMIT_PER_MINUTE',
  'SETTLEMENT_MODEL',
  'SETTLEMENT_CURRENCIES',
  'SETTLEMENT_OPENING_RESERVE_MINOR',
  'SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR',
  'SETTLEMENT_WINDOW_MINUTES',
] as const;

export class LauncherConfigError extends Error {
  override readonly name = 'LauncherConfigError';
}

/** Reads the launcher's environment variables into a plan; a bad value names its variable. */
export function localPlanFromEnv(env: NodeJS.ProcessEnv, projectRoot: string, profile: TemporalProfile = 'dev'): ClusterPlan {
  const parsed = launcherEnv.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new LauncherConfigError(`Invalid ${String(issue?.path[0] ?? 'setting')}: ${issue?.message ?? 'invalid value'}`);
  }
  const config = parsed.data;
  if (new Set(config.LOCAL_BANKS).size !== config.LOCAL_BANKS.length) throw new LauncherConfigError('Invalid LOCAL_BANKS: a bank id is listed twice');
  return {
    dataDir: resolve(projectRoot, config.DATA_DIR),
    host: config.BIND_HOST,
    temporal: {
      port: config.TEMPORAL_PORT,
      uiPort: config.TEMPORAL_UI_PORT,
      ui: true,
      namespace: 'default',
      namespaceRetentionHours: config.TEMPORAL_NAMESPACE_RETENTION,
      ...(profile === 'cluster'
        ? {
            cluster: {
              postgresPort: config.TEMPORAL_POSTGRES_PORT,
              historyPort: config.TEMPORAL_HISTORY_PORT,
              matchingPort: config.TEMPORAL_MATCHING_PORT,
              workerPort: config.TEMPORAL_WORKER_PORT,
              frontendHttpPort: config.TEMPORAL_FRONTEND_HTTP_PORT,
              // frontend, history, matching, worker: as Temporal's own development configuration numbers them
              frontendMembershipPort: config.TEMPORAL_MEMBERSHIP_BASE_PORT,
              historyMembershipPort: config.TEMPORAL_MEMBERSHIP_BASE_PORT + 1,
              matchingMembershipPort: config.TEMPORAL_MEMBERSHIP_BASE_PORT + 2,
              workerMembershipPort: config.TEMPORAL_MEMBERSHIP_BASE_PORT + 6,
            },
          }
        : {}),
    },
    banks: config.LOCAL_BANKS.map((id, index) => ({
      bankId: id,
      databasePort: config.FERRETDB_BASE_PORT + index,
      databaseDebugPort: config.FERRETDB_DEBUG_BASE_PORT + index,
      servicePort: config.ACCOUNT_SERVICE_BASE_PORT + index,
    })),
    apiDatabase: { port: config.API_FERRETDB_PORT, debugPort: config.API_FERRETDB_DEBUG_PORT },
    settlementBank: { bankId: settlementBankIdDefault, databasePort: config.SETTLEMENT_FERRETDB_PORT, databaseDebugPort: config.SETTLEMENT_FERRETDB_DEBUG_PORT, servicePort: config.SETTLEMENT_SERVICE_PORT },
    services: {
      transferApiPort: config.TRANSFER_API_PORT,
      workerMetricsPort: config.WORKER_METRICS_PORT,
      codecServerPort: config.CODEC_SERVER_PORT,
      env: Object.fromEntries(passedToServices.flatMap((name) => (env[name] === undefined ? [] : [[name, env[name] as string]]))),
      ...(env.TRANSFER_API_KEYS ? { apiKeys: env.TRANSFER_API_KEYS } : {}),
      ...(env.PAYLOAD_CODEC_KEYS ? { codecKeys: env.PAYLOAD_CODEC_KEYS } : {}),
    },
  };
}
