import { z } from 'zod';
import { logLevelSchema, parseEnv } from '../../lib/config/env-parsers';
import { namespaceRetentionHours } from '../../infra/local-plan';

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** How long Temporal keeps a closed workflow; the same setting and default as the local launcher's. */
  TEMPORAL_NAMESPACE_RETENTION: namespaceRetentionHours,
  /** Temporal may still be starting when this runs: keep trying this long. */
  TEMPORAL_SETUP_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(600_000).default(120_000),
  LOG_LEVEL: logLevelSchema,
});

export interface TemporalSetupConfig {
  temporal: { address: string; namespace: string; retentionHours: number };
  timeoutMs: number;
  logLevel: string;
}

export function loadConfig(env: NodeJS.ProcessEnv): TemporalSetupConfig {
  const parsed = parseEnv(envSchema, env);
  return Object.freeze({
    temporal: { address: parsed.TEMPORAL_ADDRESS, namespace: parsed.TEMPORAL_NAMESPACE, retentionHours: parsed.TEMPORAL_NAMESPACE_RETENTION },
    timeoutMs: parsed.TEMPORAL_SETUP_TIMEOUT_MS,
    logLevel: parsed.LOG_LEVEL,
  });
}
