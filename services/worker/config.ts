import { z } from 'zod';
import { bankDirectorySchema, parseEnv, serviceKeysSchema, type BankDirectoryEntry } from '../../lib/config-parsers';
import type { SigningKey } from '../../lib/request-signing';
import { allowedHostsSchema } from '../../lib/webhook-url';

const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TASK_QUEUE: z.string().min(1).default('transfers'),
  BANKS: bankDirectorySchema,
  SERVICE_KEYS: serviceKeysSchema,
  BANK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  EVENTS_MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  EVENTS_DATABASE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('transfer_api'),
  WEBHOOK_ALLOWED_HOSTS: allowedHostsSchema.default([]),
  WEBHOOK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export interface WorkerConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  banks: readonly BankDirectoryEntry[];
  /** The first of SERVICE_KEYS: every call to an account service is signed with it. */
  signingKey: SigningKey;
  bankRequestTimeoutMs: number;
  /** The transfer API's database (event feed, webhook endpoints), and how webhooks are called. */
  events: { mongodbUrl: string; databaseName: string; allowedHosts: readonly string[]; requestTimeoutMs: number };
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = parseEnv(envSchema, env);
  const [signingKey] = parsed.SERVICE_KEYS;
  if (!signingKey) throw new Error('SERVICE_KEYS is empty');
  return Object.freeze({
    temporal: { address: parsed.TEMPORAL_ADDRESS, namespace: parsed.TEMPORAL_NAMESPACE, taskQueue: parsed.TASK_QUEUE },
    banks: parsed.BANKS,
    signingKey,
    bankRequestTimeoutMs: parsed.BANK_REQUEST_TIMEOUT_MS,
    events: { mongodbUrl: parsed.EVENTS_MONGODB_URL, databaseName: parsed.EVENTS_DATABASE_NAME, allowedHosts: parsed.WEBHOOK_ALLOWED_HOSTS, requestTimeoutMs: parsed.WEBHOOK_REQUEST_TIMEOUT_MS },
    logLevel: parsed.LOG_LEVEL,
  });
}
