import { createHash } from 'node:crypto';
import { z } from 'zod';
import { type BankDirectoryEntry, bankDirectorySchema, bindHostSchema, booleanSchema, ConfigError, logLevelSchema, parseEnv, perClientSchema, signingKeySchema, signingKeysSchema } from '../../lib/config/env-parsers';
import { payloadCodecKeysSchema, type CodecKey } from '../../lib/crypto/payload-codec';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { tracingConfig, tracingEnvShape, type TracingConfig } from '../../lib/telemetry/tracing';
import { allowedHostsSchema } from '../../lib/events/webhook-url';
import { webhookSecretOverlapMsDefault } from '../../lib/events/event-store';
import { bicPattern } from '../../lib/iso20022/payment-identifiers';
import { banksOfMandate, clientMandatesSchema, type Mandate } from './mandates';
import { settlementConfigOf, settlementEnvShape, type SettlementConfig } from './settlement-config';

export type Role = 'client' | 'operator';

export interface ApiKeyRecord {
  name: string;
  role: Role;
  /** SHA-256 of the key; the key itself is never kept. */
  keyHash: Buffer;
}

export function hashApiKey(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

/** `TRANSFER_API_KEYS=name:role:key,...`; keys are hashed as they are read. */
const apiKeysSchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const records: ApiKeyRecord[] = [];
    for (const item of value.split(',')) {
      const [name, role, key, ...rest] = item.trim().split(':');
      if (!name || !/^[A-Za-z0-9._-]{1,64}$/.test(name) || (role !== 'client' && role !== 'operator') || !key || key.length < 24 || rest.length > 0) {
        context.addIssue({ code: 'custom', message: 'each entry is name:role:key with role client or operator and a key of at least 24 characters' });
        return z.NEVER;
      }
      if (records.some((record) => record.name === name)) {
        context.addIssue({ code: 'custom', message: `client ${name} is listed twice` });
        return z.NEVER;
      }
      records.push({ name, role, keyHash: hashApiKey(key) });
    }
    return records;
  });

const minorString = z.string().regex(/^[1-9][0-9]{0,15}$/);

/** `CLIENT_TRANSFER_MAX_MINOR=client-a=500000,client-b=2000000`: each client's largest amount per transfer. */
const clientMaximaSchema = perClientSchema(
  (amount) => (/^[1-9][0-9]{0,15}$/.test(amount) && BigInt(amount) <= BigInt(Number.MAX_SAFE_INTEGER) ? amount : undefined),
  'client-name=amount (a positive whole number of minor units, at most 9007199254740991)',
);

/** `BANK_BICS=bank-a=BKAADEFFXXX,bank-b=BKBBDEFFXXX`: the BIC of each bank in BANKS that has one, for the ISO 20022 messages. */
const bankBicsSchema = z.string().transform((value, context) => {
  const bics = new Map<string, string>();
  for (const item of value.split(',').filter((part) => part.trim() !== '')) {
    const [bankId = '', bic = '', ...rest] = item.split('=').map((part) => part.trim());
    if (rest.length > 0 || !bicPattern.test(bic) || bics.has(bankId)) {
      context.addIssue({ code: 'custom', message: `"${item}" is not bank-id=BIC (8 or 11 upper-case letters and digits, such as BKAADEFFXXX), each bank once` });
      return z.NEVER;
    }
    bics.set(bankId, bic);
  }
  return bics;
});

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3000),
  BIND_HOST: bindHostSchema,
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TASK_QUEUE: z.string().min(1).default('transfers'),
  BANKS: bankDirectorySchema,
  BANK_BICS: bankBicsSchema.optional(),
  /** The API's own key for its calls to the account services (scopes admin and read). */
  SERVICE_SIGNING_KEY: signingKeySchema,
  /** Signs every transfer input and operator decision it hands to Temporal; the worker verifies them. */
  TRANSFER_AUTHORITY_KEYS: signingKeysSchema,
  CLIENT_MANDATES: clientMandatesSchema.optional(),
  APPROVAL_FOUR_EYES: booleanSchema(true),
  PAYLOAD_CODEC_KEYS: payloadCodecKeysSchema.optional(),
  TRANSFER_API_KEYS: apiKeysSchema,
  APPROVAL_THRESHOLD_MINOR: minorString.default('1000000'),
  APPROVAL_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  /** The AmountMinor search attribute is an Int read as a JS number, so the maximum stays a safe integer. */
  TRANSFER_MAX_MINOR: minorString
    .refine((value) => BigInt(value) <= BigInt(Number.MAX_SAFE_INTEGER), 'must be at most 9007199254740991')
    .default('100000000000'),
  CLIENT_TRANSFER_MAX_MINOR: clientMaximaSchema.optional(),
  REFUND_ATTENTION_AFTER_ATTEMPTS: z.coerce.number().int().min(1).max(1_000).default(5),
  CREDIT_GIVE_UP_AFTER_MS: z.coerce.number().int().min(1_000).default(300_000),
  DEBIT_GIVE_UP_AFTER_MS: z.coerce.number().int().min(1_000).default(300_000),
  COMPENSATION_RETRY_MAX_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  TRANSFER_SWEEP_INTERVAL_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  TRANSFER_START_GRACE_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000),
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  BANK_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  TRANSFER_OVERDUE_AFTER_MS: z.coerce.number().int().min(1_000).default(900_000),
  EVENTS_MONGODB_URL: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URL'),
  EVENTS_DATABASE_NAME: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/).default('transfer_api'),
  WEBHOOK_ALLOWED_HOSTS: allowedHostsSchema.default([]),
  WEBHOOK_RETRY_INITIAL_INTERVAL_MS: z.coerce.number().int().min(100).default(10_000),
  WEBHOOK_RETRY_MAX_INTERVAL_MS: z.coerce.number().int().min(100).default(3_600_000),
  WEBHOOK_GIVE_UP_AFTER_MS: z.coerce.number().int().min(1_000).default(86_400_000),
  /** How long a secret replaced by a rotation keeps signing deliveries (a rotation may ask for less). */
  WEBHOOK_SECRET_OVERLAP_MS: z.coerce.number().int().min(0).max(30 * 86_400_000).default(webhookSecretOverlapMsDefault),
  /** Days an event stays in the feed; the delivery log's window may be shorter, never longer. */
  EVENT_FEED_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  WEBHOOK_ATTEMPTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3_650).default(30),
  EVENT_RETENTION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).max(86_400_000).default(3_600_000),
  LOG_LEVEL: logLevelSchema,
  ...tracingEnvShape,
  ...settlementEnvShape,
});

export interface TransferApiConfig {
  port: number;
  host: string;
  temporal: { address: string; namespace: string; taskQueue: string };
  banks: readonly BankDirectoryEntry[];
  /** Signs calls to account services. */
  signingKey: SigningKey;
  /** Transfer authority keys: the first signs transfer inputs and operator decisions. */
  authorityKeys: readonly SigningKey[];
  apiKeys: readonly ApiKeyRecord[];
  /** Client name → what it may debit; a client not listed may debit nothing. Operators act on every account. */
  clientMandates: ReadonlyMap<string, Mandate>;
  /** Approving or rejecting needs an operator other than the transfer's creator. */
  approvalFourEyes: boolean;
  approvalThresholdMinor: string;
  approvalTimeoutMs: number;
  transferMaxMinor: string;
  /** API client name → largest amount per transfer; a client not listed gets transferMaxMinor. */
  clientTransferMaxMinor: ReadonlyMap<string, string>;
  refundAttentionAfterAttempts: number;
  creditGiveUpAfterMs: number;
  debitGiveUpAfterMs: number;
  compensationRetryMaximumIntervalMs: number;
  /** How often the record sweeper looks at the open transfers, and how old one must be before it acts. */
  sweep: { intervalMs: number; startGraceMs: number };
  rateLimitPerMinute: number;
  bankRequestTimeoutMs: number;
  transferOverdueAfterMs: number;
  /** Payload encryption keys, the encrypting one first; undefined leaves payloads in plain JSON. */
  codecKeys: readonly CodecKey[] | undefined;
  /** The API's own database (webhook endpoints, event feed) and the webhook settings. */
  events: { mongodbUrl: string; databaseName: string };
  allowedWebhookHosts: readonly string[];
  webhookRetry: { initialIntervalMs: number; maximumIntervalMs: number; giveUpAfterMs: number };
  webhookSecretOverlapMs: number;
  /** How long the event feed and the delivery log keep an event, and how often the sweep deletes older ones. */
  eventRetention: { feedDays: number; attemptsDays: number; sweepIntervalMs: number };
  logLevel: string;
  /** Undefined: tracing is off. */
  tracing: TracingConfig | undefined;
  /** Undefined: no settlement bank, transfers do not settle. */
  settlement: SettlementConfig | undefined;
}

/** Read once at start-up; a bad value stops the process with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv): TransferApiConfig {
  const parsed = parseEnv(envSchema, env);
  // A maximum for a name no key carries is a typo that would leave the real client unbounded by it.
  const clientTransferMaxMinor = parsed.CLIENT_TRANSFER_MAX_MINOR ?? new Map<string, string>();
  for (const name of clientTransferMaxMinor.keys()) {
    if (!parsed.TRANSFER_API_KEYS.some((record) => record.name === name)) throw new ConfigError(`Invalid CLIENT_TRANSFER_MAX_MINOR: no API key is named ${name}`);
  }
  const clientMandates = parsed.CLIENT_MANDATES ?? new Map<string, Mandate>();
  checkMandates(clientMandates, parsed.TRANSFER_API_KEYS, parsed.BANKS);
  const banks = withBics(parsed.BANKS, parsed.BANK_BICS ?? new Map<string, string>());
  checkEventRetention(parsed.EVENT_FEED_RETENTION_DAYS, parsed.WEBHOOK_ATTEMPTS_RETENTION_DAYS, parsed.WEBHOOK_GIVE_UP_AFTER_MS);
  return Object.freeze({
    port: parsed.PORT,
    host: parsed.BIND_HOST,
    temporal: { address: parsed.TEMPORAL_ADDRESS, namespace: parsed.TEMPORAL_NAMESPACE, taskQueue: parsed.TASK_QUEUE },
    banks,
    signingKey: parsed.SERVICE_SIGNING_KEY,
    authorityKeys: parsed.TRANSFER_AUTHORITY_KEYS,
    apiKeys: parsed.TRANSFER_API_KEYS,
    clientMandates,
    approvalFourEyes: parsed.APPROVAL_FOUR_EYES,
    approvalThresholdMinor: parsed.APPROVAL_THRESHOLD_MINOR,
    approvalTimeoutMs: parsed.APPROVAL_TIMEOUT_MS,
    transferMaxMinor: parsed.TRANSFER_MAX_MINOR,
    clientTransferMaxMinor,
    refundAttentionAfterAttempts: parsed.REFUND_ATTENTION_AFTER_ATTEMPTS,
    creditGiveUpAfterMs: parsed.CREDIT_GIVE_UP_AFTER_MS,
    debitGiveUpAfterMs: parsed.DEBIT_GIVE_UP_AFTER_MS,
    compensationRetryMaximumIntervalMs: parsed.COMPENSATION_RETRY_MAX_INTERVAL_MS,
    sweep: { intervalMs: parsed.TRANSFER_SWEEP_INTERVAL_MS, startGraceMs: parsed.TRANSFER_START_GRACE_MS },
    rateLimitPerMinute: parsed.RATE_LIMIT_PER_MINUTE,
    bankRequestTimeoutMs: parsed.BANK_REQUEST_TIMEOUT_MS,
    transferOverdueAfterMs: parsed.TRANSFER_OVERDUE_AFTER_MS,
    codecKeys: parsed.PAYLOAD_CODEC_KEYS,
    events: { mongodbUrl: parsed.EVENTS_MONGODB_URL, databaseName: parsed.EVENTS_DATABASE_NAME },
    allowedWebhookHosts: parsed.WEBHOOK_ALLOWED_HOSTS,
    webhookRetry: { initialIntervalMs: parsed.WEBHOOK_RETRY_INITIAL_INTERVAL_MS, maximumIntervalMs: parsed.WEBHOOK_RETRY_MAX_INTERVAL_MS, giveUpAfterMs: parsed.WEBHOOK_GIVE_UP_AFTER_MS },
    webhookSecretOverlapMs: parsed.WEBHOOK_SECRET_OVERLAP_MS,
    eventRetention: { feedDays: parsed.EVENT_FEED_RETENTION_DAYS, attemptsDays: parsed.WEBHOOK_ATTEMPTS_RETENTION_DAYS, sweepIntervalMs: parsed.EVENT_RETENTION_SWEEP_INTERVAL_MS },
    logLevel: parsed.LOG_LEVEL,
    tracing: tracingConfig(parsed, 'transfer-api'),
    settlement: settlementConfigOf(parsed, parsed.BANKS),
  });
}

/** Each bank with its BIC; a BIC for a bank BANKS does not list is a typo that would leave the real one without. */
function withBics(banks: readonly BankDirectoryEntry[], bics: ReadonlyMap<string, string>): BankDirectoryEntry[] {
  const unknown = [...bics.keys()].find((bankId) => !banks.some((bank) => bank.bankId === bankId));
  if (unknown !== undefined) throw new ConfigError(`Invalid BANK_BICS: ${unknown} is not a bank BANKS lists`);
  return banks.map((bank) => {
    const bic = bics.get(bank.bankId);
    return bic === undefined ? bank : { ...bank, bic };
  });
}

/** A mandate for a name no client key carries, or naming a bank not in BANKS, is a typo that would refuse the real client. */
function checkMandates(mandates: ReadonlyMap<string, Mandate>, keys: readonly ApiKeyRecord[], banks: readonly BankDirectoryEntry[]): void {
  for (const [name, mandate] of mandates) {
    if (!keys.some((record) => record.name === name && record.role === 'client')) throw new ConfigError(`Invalid CLIENT_MANDATES: no client API key is named ${name}`);
    const unknown = banksOfMandate(mandate).find((bankId) => !banks.some((bank) => bank.bankId === bankId));
    if (unknown !== undefined) throw new ConfigError(`Invalid CLIENT_MANDATES: ${name} names ${unknown}, which BANKS does not list`);
  }
}

/**
 * The delivery log is found through the feed, so it cannot outlive it; and an event must outlive
 * its deliveries' retries, or a retry finds it gone.
 */
function checkEventRetention(feedDays: number, attemptsDays: number, giveUpAfterMs: number): void {
  if (attemptsDays > feedDays) throw new ConfigError(`Invalid WEBHOOK_ATTEMPTS_RETENTION_DAYS: ${attemptsDays} is longer than EVENT_FEED_RETENTION_DAYS (${feedDays})`);
  if (attemptsDays * 86_400_000 <= giveUpAfterMs) throw new ConfigError(`Invalid WEBHOOK_ATTEMPTS_RETENTION_DAYS: ${attemptsDays} days do not outlast WEBHOOK_GIVE_UP_AFTER_MS (${giveUpAfterMs} ms)`);
}
