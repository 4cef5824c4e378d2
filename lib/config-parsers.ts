import { z } from 'zod';
import type { SigningKey } from './request-signing';

/** Bank ids name bank nodes in URLs, workflow inputs and search attributes. */
export const bankIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

export interface BankDirectoryEntry {
  bankId: string;
  /** Base URL of the bank's account service, without a trailing slash. */
  url: string;
}

/** `BANKS=bank-a=http://127.0.0.1:4001,bank-b=http://127.0.0.1:4002` */
export const bankDirectorySchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const entries: BankDirectoryEntry[] = [];
    for (const item of value.split(',')) {
      const separator = item.indexOf('=');
      const bankId = item.slice(0, separator).trim();
      const url = item.slice(separator + 1).trim().replace(/\/+$/, '');
      if (separator < 1 || !bankIdPattern.test(bankId) || !/^https?:\/\/[^\s/]+/.test(url)) {
        context.addIssue({ code: 'custom', message: `"${item}" is not bank-id=http(s)://host:port` });
        return z.NEVER;
      }
      if (entries.some((entry) => entry.bankId === bankId)) {
        context.addIssue({ code: 'custom', message: `bank ${bankId} is listed twice` });
        return z.NEVER;
      }
      entries.push({ bankId, url });
    }
    return entries;
  });

/**
 * `SERVICE_KEYS=id:secret,...` — the keys an account service accepts; the first one is
 * the key a caller signs with. Secrets are at least 32 characters.
 */
export const serviceKeysSchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const keys: SigningKey[] = [];
    for (const item of value.split(',')) {
      const separator = item.indexOf(':');
      const keyId = item.slice(0, separator).trim();
      const secret = item.slice(separator + 1).trim();
      if (separator < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(keyId) || secret.length < 32) {
        context.addIssue({ code: 'custom', message: 'each entry is keyId:secret with a secret of at least 32 characters' });
        return z.NEVER;
      }
      keys.push({ keyId, secret });
    }
    return keys;
  });

/** `LOG_LEVEL`: the pino level every service logs at. */
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** `BIND_HOST`: the address a service listens on. */
export const bindHostSchema = z.string().min(1).default('127.0.0.1');

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses a process's environment once at start-up; the error names the variable at fault. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(`Invalid ${String(issue?.path[0] ?? 'configuration')}: ${issue?.message ?? 'invalid value'}`);
}
