import { z } from 'zod';
import { bankIdPattern, parseEnv, serviceKeysSchema } from '../../lib/config-parsers';
import { tracingConfig, tracingEnvShape, type TracingConfig } from '../../lib/tracing';

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z.object({
  BANK_ID: z.string().regex(bankIdPattern, 'must be a bank id such as bank-a'),
  PORT: z.coerce.number().int().min(0).max(65_535).default(4001),
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  DATABASE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).optional(),
  SERVICE_KEYS: serviceKeysSchema,
  LEDGER_BATCH_SIZE_MAX: z.coerce.number().int().min(1).max(1_000).default(100),
  LEDGER_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(0),
  MONGODB_POOL_SIZE_MAX: z.coerce.number().int().min(1).max(1_000).default(100),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ...tracingEnvShape,
});

export interface AccountServiceConfig {
  bankId: string;
  port: number;
  host: string;
  mongodbUrl: string;
  databaseName: string;
  /** keyId → secret of every key this service accepts. */
  serviceKeys: ReadonlyMap<string, string>;
  mongodbPoolSizeMax: number;
  /** Group commit: the most operations per batch, and how long an idle account's first one waits for more. */
  groupCommit: { batchSizeMax: number; batchLingerMs: number };
  logLevel: string;
  /** Undefined: tracing is off. */
  tracing: TracingConfig | undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv): AccountServiceConfig {
  const parsed = parseEnv(envSchema, env);
  return Object.freeze({
    bankId: parsed.BANK_ID,
    port: parsed.PORT,
    host: parsed.BIND_HOST,
    mongodbUrl: parsed.MONGODB_URL,
    databaseName: parsed.DATABASE_NAME ?? `ledger_${parsed.BANK_ID.replace(/-/g, '_')}`,
    serviceKeys: new Map(parsed.SERVICE_KEYS.map((key) => [key.keyId, key.secret])),
    mongodbPoolSizeMax: parsed.MONGODB_POOL_SIZE_MAX,
    groupCommit: { batchSizeMax: parsed.LEDGER_BATCH_SIZE_MAX, batchLingerMs: parsed.LEDGER_BATCH_LINGER_MS },
    logLevel: parsed.LOG_LEVEL,
    tracing: tracingConfig(parsed, `account-service-${parsed.BANK_ID}`),
  });
}
