import { z } from 'zod';
import { bindHostSchema, logLevelSchema, parseEnv } from '../../lib/config/env-parsers';
import { payloadCodecKeysSchema, type CodecKey } from '../../lib/crypto/payload-codec';

const origin = z.string().regex(/^https?:\/\/[^\s/]+$/, 'origins are scheme://host[:port] without a path');

/** The variables this process reads; exported so that the compose test can name unknown ones. */
export const envSchema = z.object({
  CODEC_SERVER_PORT: z.coerce.number().int().min(0).max(65_535).default(8234),
  BIND_HOST: bindHostSchema,
  PAYLOAD_CODEC_KEYS: payloadCodecKeysSchema,
  /** The shared secret callers prove: as the first path segment (the Web UI) or as a Bearer token (the CLI). */
  CODEC_SERVER_TOKEN: z.string().regex(/^[A-Za-z0-9_-]{32,128}$/, 'must be 32 to 128 URL-safe characters'),
  /** Browser origins allowed to call the codec server: the Temporal Web UI's, and no other. */
  CODEC_CORS_ORIGINS: z
    .string()
    .min(1)
    .transform((value) => value.split(',').map((item) => item.trim()))
    .pipe(z.array(origin).min(1)),
  /** Encode and decode requests one client address may make a minute (a history page is one request). */
  CODEC_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).max(1_000_000).default(1_200),
  LOG_LEVEL: logLevelSchema,
});

export interface CodecServerConfig {
  port: number;
  host: string;
  codecKeys: readonly CodecKey[];
  token: string;
  corsOrigins: readonly string[];
  requestsPerMinute: number;
  logLevel: string;
}

/** Read once at start-up; a bad value stops the process with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv): CodecServerConfig {
  const parsed = parseEnv(envSchema, env);
  return Object.freeze({
    port: parsed.CODEC_SERVER_PORT,
    host: parsed.BIND_HOST,
    codecKeys: parsed.PAYLOAD_CODEC_KEYS,
    token: parsed.CODEC_SERVER_TOKEN,
    corsOrigins: parsed.CODEC_CORS_ORIGINS,
    requestsPerMinute: parsed.CODEC_RATE_LIMIT_PER_MINUTE,
    logLevel: parsed.LOG_LEVEL,
  });
}
