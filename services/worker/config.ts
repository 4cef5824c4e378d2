import { z } from 'zod';
import { type BankDirectoryEntry, bankDirectorySchema, bankIdSchema, serviceUrlSchema, bindHostSchema, logLevelSchema, parseEnv, signingKeySchema, signingKeysSchema } from '../../lib/config/env-parsers';
import { payloadCodecKeysSchema, type CodecKey } from '../../lib/crypto/payload-codec';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { tracingConfig, tracingEnvShape, type TracingConfig } from '../../lib/telemetry/tracing';
import { allowedHostsSchema } from '../../lib/events/webhook-url';
import { workerTuningEnvShape, type WorkerTuning } from './worker-tuning';

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TASK_QUEUE: z.string().min(1).default('transfers'),
  BANKS: bankDirectorySchema,
  /** The settlement bank's id and account service; unset, transfers that settle cannot (their reservation retries, then the debit is refunded). */
  SETTLEMENT_BANK_ID: bankIdSchema.default('settlement'),
  SETTLEMENT_BANK_URL: serviceUrlSchema.optional(),
  /** The saga's key for its calls to the account services (scope ledger). */
  SERVICE_SIGNING_KEY: signingKeySchema,
  /** Reconciliation's own key (scope read). */
  RECONCILIATION_SIGNING_KEY: signingKeySchema,
  /** Verifies that a transfer input and an operator decision came from the transfer API. */
  TRANSFER_AUTHORITY_KEYS: signingKeysSchema,
  PAYLOAD_CODEC_KEYS: payloadCodecKeysSchema.optional(),
  BANK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Minutes between scheduled reconciliation runs; 0 removes the schedule. */
  RECONCILIATION_INTERVAL_MINUTES: z.coerce.number().int().min(0).max(7 * 24 * 60).default(60),
  BIND_HOST: bindHostSchema,
  WORKER_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).default(9464),
  EVENTS_MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  EVENTS_DATABASE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('transfer_api'),
  WEBHOOK_ALLOWED_HOSTS: allowedHostsSchema.default([]),
  WEBHOOK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(5_000),
  LOG_LEVEL: logLevelSchema,
  ...tracingEnvShape,
  ...workerTuningEnvShape,
});

export interface WorkerConfig {
  temporal: { address: string; namespace: string; taskQueue: string };
  banks: readonly BankDirectoryEntry[];
  settlementBank: { bankId: string; url: string } | undefined;
  /** Signs the saga's calls to the account services. */
  signingKey: SigningKey;
  /** Signs reconciliation's reads. */
  reconciliationSigningKey: SigningKey;
  /** Every transfer authority key: an input or decision signed by none of them moves nothing. */
  authorityKeys: readonly SigningKey[];
  bankRequestTimeoutMs: number;
  reconciliationIntervalMinutes: number;
  /** host:port of the SDK runtime's Prometheus endpoint (/metrics). */
  metricsBindAddress: string;
  /** Payload encryption keys, the encrypting one first; undefined leaves payloads in plain JSON. */
  codecKeys: readonly CodecKey[] | undefined;
  /** The transfer API's database (event feed, webhook endpoints), and how webhooks are called. */
  events: { mongodbUrl: string; databaseName: string; allowedHosts: readonly string[]; requestTimeoutMs: number };
  logLevel: string;
  /** Undefined: tracing is off. */
  tracing: TracingConfig | undefined;
  /** The saga worker's capacity settings; unset ones keep the SDK's defaults. */
  tuning: WorkerTuning;
}

export function loadConfig(env: NodeJS.ProcessEnv): WorkerConfig {
  const parsed = parseEnv(envSchema, env);
  return Object.freeze({
    temporal: { address: parsed.TEMPORAL_ADDRESS, namespace: parsed.TEMPORAL_NAMESPACE, taskQueue: parsed.TASK_QUEUE },
    banks: parsed.BANKS,
    settlementBank: parsed.SETTLEMENT_BANK_URL === undefined ? undefined : { bankId: parsed.SETTLEMENT_BANK_ID, url: parsed.SETTLEMENT_BANK_URL },
    signingKey: parsed.SERVICE_SIGNING_KEY,
    reconciliationSigningKey: parsed.RECONCILIATION_SIGNING_KEY,
    authorityKeys: parsed.TRANSFER_AUTHORITY_KEYS,
    bankRequestTimeoutMs: parsed.BANK_REQUEST_TIMEOUT_MS,
    reconciliationIntervalMinutes: parsed.RECONCILIATION_INTERVAL_MINUTES,
    metricsBindAddress: `${parsed.BIND_HOST}:${parsed.WORKER_METRICS_PORT}`,
    codecKeys: parsed.PAYLOAD_CODEC_KEYS,
    events: { mongodbUrl: parsed.EVENTS_MONGODB_URL, databaseName: parsed.EVENTS_DATABASE_NAME, allowedHosts: parsed.WEBHOOK_ALLOWED_HOSTS, requestTimeoutMs: parsed.WEBHOOK_REQUEST_TIMEOUT_MS },
    logLevel: parsed.LOG_LEVEL,
    tracing: tracingConfig(parsed, 'worker'),
    tuning: {
      WORKER_MAX_CACHED_WORKFLOWS: parsed.WORKER_MAX_CACHED_WORKFLOWS,
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: parsed.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      WORKER_MAX_CONCURRENT_ACTIVITIES: parsed.WORKER_MAX_CONCURRENT_ACTIVITIES,
      WORKER_WORKFLOW_TASK_POLLERS: parsed.WORKER_WORKFLOW_TASK_POLLERS,
      WORKER_ACTIVITY_TASK_POLLERS: parsed.WORKER_ACTIVITY_TASK_POLLERS,
      WORKER_STICKY_QUEUE_TIMEOUT_MS: parsed.WORKER_STICKY_QUEUE_TIMEOUT_MS,
    },
  });
}
