import { z } from 'zod';
import { type AcceptedServiceKey, bankIdPattern, bindHostSchema, logLevelSchema, parseEnv, serviceKeysSchema } from '../../lib/config/env-parsers';
import { tracingConfig, tracingEnvShape, type TracingConfig } from '../../lib/telemetry/tracing';
import { groupCommitDefaults, ledgerBoundsDefaults, type GroupCommitOptions, type LedgerBounds } from './ledger/ledger';

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z
  .object({
  BANK_ID: z.string().regex(bankIdPattern, 'must be a bank id such as bank-a'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4001),
  BIND_HOST: bindHostSchema,
  MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  DATABASE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).optional(),
  SERVICE_KEYS: serviceKeysSchema,
  LEDGER_BATCH_SIZE_MAX: z.coerce.number().int().min(1).max(1_000).default(100),
  LEDGER_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(0),
  /** Cross-account commit: the decided batches of many accounts appended with one insert, at most this many entries each. */
  LEDGER_CROSS_ACCOUNT_COMMIT: z.enum(['on', 'off']).default(groupCommitDefaults.crossAccount ? 'on' : 'off'),
  LEDGER_COMMIT_ENTRIES_MAX: z.coerce.number().int().min(1).max(100_000).default(groupCommitDefaults.entriesPerWriteMax),
  /** A batch's first attempt trusts the cached head and the unique indexes instead of reading before it decides. */
  LEDGER_OPTIMISTIC_DECISIONS: z.enum(['on', 'off']).default(groupCommitDefaults.optimistic ? 'on' : 'off'),
  /** Bounds of the ledger's in-process caches (entries, least recently used dropped first) and of each account's queue. */
  LEDGER_ACCOUNT_CACHE_MAX: z.coerce.number().int().min(1).max(100_000_000).default(ledgerBoundsDefaults.accountsCachedMax),
  LEDGER_HEAD_CACHE_MAX: z.coerce.number().int().min(1).max(100_000_000).default(ledgerBoundsDefaults.headsCachedMax),
  LEDGER_QUEUE_DEPTH_MAX: z.coerce.number().int().min(1).max(1_000_000).default(ledgerBoundsDefaults.queuedPerAccountMax),
  MONGODB_POOL_SIZE_MAX: z.coerce.number().int().min(1).max(1_000).default(100),
  /** IANA time zone whose calendar days the daily limits count in; UTC when unset. */
  BANK_TIME_ZONE: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone name such as Europe/Berlin')
    .optional(),
  /** Test only: shifts the service's clock, so a test can cross a day boundary. Refused unless ALLOW_TEST_CLOCK=true outside production. */
  TEST_CLOCK_OFFSET_MS: z.coerce.number().int().min(-366 * 86_400_000).max(366 * 86_400_000).optional(),
  ALLOW_TEST_CLOCK: z.enum(['true', 'false']).default('false'),
  NODE_ENV: z.string().optional(),
  LOG_LEVEL: logLevelSchema,
    ...tracingEnvShape,
  })
  .superRefine((env, context) => {
    // A shifted clock moves every day boundary: never in production, and never by accident.
    if (env.TEST_CLOCK_OFFSET_MS !== undefined && (env.ALLOW_TEST_CLOCK !== 'true' || env.NODE_ENV === 'production')) {
      context.addIssue({ code: 'custom', path: ['TEST_CLOCK_OFFSET_MS'], message: 'is a test-only setting: it needs ALLOW_TEST_CLOCK=true and NODE_ENV other than production' });
    }
  });

export interface AccountServiceConfig {
  bankId: string;
  port: number;
  host: string;
  mongodbUrl: string;
  databaseName: string;
  /** keyId → the key and its scopes, for every key this service accepts. */
  serviceKeys: ReadonlyMap<string, AcceptedServiceKey>;
  mongodbPoolSizeMax: number;
  /** Group commit: per account (batch size, linger) and across accounts (on or off, entries per insert). */
  groupCommit: GroupCommitOptions;
  /** Cached account documents and heads, and queued operations per account (beyond: 503 OVERLOADED). */
  ledgerBounds: LedgerBounds;
  logLevel: string;
  /** Undefined: tracing is off. */
  tracing: TracingConfig | undefined;
  /** IANA time zone of the bank's calendar days (daily limits); undefined = UTC. */
  timeZone: string | undefined;
  /** Test only (see TEST_CLOCK_OFFSET_MS); 0 in every real configuration. */
  clockOffsetMs: number;
}

export function loadConfig(env: NodeJS.ProcessEnv): AccountServiceConfig {
  const parsed = parseEnv(envSchema, env);
  return Object.freeze({
    bankId: parsed.BANK_ID,
    port: parsed.PORT,
    host: parsed.BIND_HOST,
    mongodbUrl: parsed.MONGODB_URL,
    databaseName: parsed.DATABASE_NAME ?? `ledger_${parsed.BANK_ID.replace(/-/g, '_')}`,
    serviceKeys: new Map(parsed.SERVICE_KEYS.map((key) => [key.keyId, key])),
    mongodbPoolSizeMax: parsed.MONGODB_POOL_SIZE_MAX,
    groupCommit: {
      batchSizeMax: parsed.LEDGER_BATCH_SIZE_MAX,
      batchLingerMs: parsed.LEDGER_BATCH_LINGER_MS,
      crossAccount: parsed.LEDGER_CROSS_ACCOUNT_COMMIT === 'on',
      entriesPerWriteMax: parsed.LEDGER_COMMIT_ENTRIES_MAX,
      optimistic: parsed.LEDGER_OPTIMISTIC_DECISIONS === 'on',
    },
    ledgerBounds: { accountsCachedMax: parsed.LEDGER_ACCOUNT_CACHE_MAX, headsCachedMax: parsed.LEDGER_HEAD_CACHE_MAX, queuedPerAccountMax: parsed.LEDGER_QUEUE_DEPTH_MAX },
    logLevel: parsed.LOG_LEVEL,
    tracing: tracingConfig(parsed, `account-service-${parsed.BANK_ID}`),
    timeZone: parsed.BANK_TIME_ZONE,
    clockOffsetMs: parsed.TEST_CLOCK_OFFSET_MS ?? 0,
  });
}
