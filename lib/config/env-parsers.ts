import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { SigningKey } from '../crypto/request-signing';

/** Bank ids name bank nodes in URLs, workflow inputs and search attributes. */
export const bankIdPattern = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const bankIdSchema = z.string().regex(bankIdPattern, 'must be a bank id: lower-case letters, digits and dashes, such as bank-a');
/** An account service's base URL, its trailing slash dropped. */
export const serviceUrlSchema = z
  .string()
  .regex(/^https?:\/\/[^\s/]+/, 'must be an http(s)://host:port URL')
  .transform((url) => url.replace(/\/+$/, ''));

export interface BankDirectoryEntry {
  bankId: string;
  /** Base URL of the bank's account service, without a trailing slash. */
  url: string;
  /** The bank's BIC, where the transfer API is given one (BANK_BICS): ISO 20022 messages name the bank by it. */
  bic?: string;
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

const keyIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** One `id:secret` pair; secrets are at least 32 characters and hold no colon. */
function parseKeyPair(item: string): SigningKey | undefined {
  const [keyId = '', secret = '', ...rest] = item.trim().split(':');
  if (!keyIdPattern.test(keyId) || secret.length < 32 || rest.length > 0) return undefined;
  return { keyId, secret };
}

/** `NAME=id:secret`: the one key a caller signs its calls with. */
export const signingKeySchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const key = parseKeyPair(value);
    if (key) return key;
    context.addIssue({ code: 'custom', message: 'must be keyId:secret with a secret of at least 32 characters and no colon' });
    return z.NEVER;
  });

/** `NAME=id:secret,...`: keys for a rotation, the first one signs and every one is accepted. */
export const signingKeysSchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const keys: SigningKey[] = [];
    for (const item of value.split(',')) {
      const key = parseKeyPair(item);
      if (!key || keys.some((known) => known.keyId === key.keyId)) {
        context.addIssue({ code: 'custom', message: 'each entry is keyId:secret with a secret of at least 32 characters and no colon, each key id once' });
        return z.NEVER;
      }
      keys.push(key);
    }
    return keys;
  });

/** What a service key may do at an account service: move money, administer accounts, read. */
export const serviceScopes = ['ledger', 'admin', 'read'] as const;
export type ServiceScope = (typeof serviceScopes)[number];

export interface AcceptedServiceKey extends SigningKey {
  scopes: ReadonlySet<ServiceScope>;
}

const isServiceScope = (value: string): value is ServiceScope => (serviceScopes as readonly string[]).includes(value);

/**
 * `SERVICE_KEYS=id:secret[:scope|scope],...` — the keys an account service accepts, each with the
 * scopes it may use (`ledger`, `admin`, `read`); an entry without scopes has all three.
 */
export const serviceKeysSchema = z
  .string()
  .min(1)
  .transform((value, context) => {
    const keys: AcceptedServiceKey[] = [];
    for (const item of value.split(',')) {
      const [pair, scopeList] = splitScopes(item.trim());
      const key = parseKeyPair(pair);
      const scopes = scopeList === undefined ? [...serviceScopes] : scopeList.split('|');
      if (!key || !scopes.every(isServiceScope) || scopes.length === 0 || keys.some((known) => known.keyId === key.keyId)) {
        context.addIssue({ code: 'custom', message: 'each entry is keyId:secret[:scope|scope] with a secret of at least 32 characters, scopes among ledger, admin and read, each key id once' });
        return z.NEVER;
      }
      keys.push({ ...key, scopes: new Set(scopes as ServiceScope[]) });
    }
    return keys;
  });

/** `id:secret:scopes` → [`id:secret`, `scopes`]; `id:secret` → [`id:secret`, undefined]. */
function splitScopes(item: string): [string, string | undefined] {
  const parts = item.split(':');
  if (parts.length < 3) return [item, undefined];
  return [parts.slice(0, 2).join(':'), parts.slice(2).join(':')];
}

/** `NAME=true|false`. */
export const booleanSchema = (fallback: boolean) => z.enum(['true', 'false']).default(fallback ? 'true' : 'false').transform((value) => value === 'true');

/**
 * `NAME=client=value,other=value`: one entry per API client name, each value read by `parseValue`
 * (undefined refuses it, naming `expected`); a client listed twice is refused too.
 */
export function perClientSchema<T>(parseValue: (text: string) => T | undefined, expected: string) {
  return z.string().transform((value, context) => {
    const entries = new Map<string, T>();
    for (const item of value.split(',').filter((part) => part.trim() !== '')) {
      const equals = item.indexOf('=');
      const name = item.slice(0, equals).trim();
      const parsed = equals > 0 ? parseValue(item.slice(equals + 1).trim()) : undefined;
      if (!keyIdPattern.test(name) || parsed === undefined) {
        context.addIssue({ code: 'custom', message: `"${item}" is not ${expected}` });
        return z.NEVER;
      }
      if (entries.has(name)) {
        context.addIssue({ code: 'custom', message: `client ${name} is listed twice` });
        return z.NEVER;
      }
      entries.set(name, parsed);
    }
    return entries;
  });
}

/** `LOG_LEVEL`: the pino level every service logs at. */
export const logLevelSchema = z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info');

/** `BIND_HOST`: the address a service listens on. */
export const bindHostSchema = z.string().min(1).default('127.0.0.1');

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * `NAME_FILE=/run/secrets/name` stands for `NAME` with the file's content (one trailing newline
 * dropped): how Compose and Kubernetes hand secrets over without putting them in the environment.
 * Setting both is refused, and so is a file that cannot be read.
 */
export function resolveFileVariables(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const resolved: NodeJS.ProcessEnv = { ...env };
  for (const [key, path] of Object.entries(env)) {
    if (!key.endsWith('_FILE') || path === undefined || path === '') continue;
    const name = key.slice(0, -'_FILE'.length);
    if (env[name] !== undefined && env[name] !== '') throw new ConfigError(`Invalid ${key}: ${name} is set as well; set one of them`);
    let content: string;
    try {
      content = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(`Invalid ${key}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
    resolved[name] = content.replace(/\r?\n$/, '');
    delete resolved[key];
  }
  return resolved;
}

/** Parses a process's environment once at start-up (`NAME_FILE` read as `NAME`); the error names the variable at fault. */
export function parseEnv<T extends z.ZodType>(schema: T, env: NodeJS.ProcessEnv): z.output<T> {
  const parsed = schema.safeParse(resolveFileVariables(env));
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new ConfigError(`Invalid ${String(issue?.path[0] ?? 'configuration')}: ${issue?.message ?? 'invalid value'}`);
}
