import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { signingKeysSchema, type ServiceScope } from '../lib/config/env-parsers';
import type { SigningKey } from '../lib/crypto/request-signing';

export interface ApiKeyEntry {
  name: string;
  role: 'client' | 'operator';
  key: string;
}

/** Who calls the account services; each caller signs with a key of its own. */
export const serviceCallers = ['worker', 'transfer-api', 'reconciliation'] as const;
export type ServiceCaller = (typeof serviceCallers)[number];

/** Each caller's key may do only what that caller does: the saga moves money, the API administers, reconciliation reads. */
export const scopesOfCaller: Record<ServiceCaller, ServiceScope[]> = {
  worker: ['ledger'],
  'transfer-api': ['admin', 'read'],
  reconciliation: ['read'],
};

export interface ServiceKeyEntry extends SigningKey {
  caller: ServiceCaller;
  scopes: ServiceScope[];
}

/** The secrets a local cluster runs with; generated once per data folder, never committed. */
export interface ClusterSecrets {
  /** Every key the account services accept, with its scopes. A caller signs with its first entry; later ones are still accepted (a rotation). */
  serviceKeys: ServiceKeyEntry[];
  apiKeys: ApiKeyEntry[];
  /** TRANSFER_AUTHORITY_KEYS: the API signs transfer inputs and decisions with the first, the worker accepts all. */
  authorityKeys: SigningKey[];
  /** PAYLOAD_CODEC_KEYS: the first encrypts, all decrypt. */
  codecKeys: string;
  /** The codec server's access token (in its URL path for the Web UI, or as a Bearer token). */
  codecToken: string;
  /** Where they are kept, for the launcher to print. */
  folder: string;
}

export function secretsDir(dataDir: string): string {
  return join(dataDir, 'secrets');
}

/** URL-safe random text: it goes into MongoDB URLs and key lists, where `:`, `/` and `,` would break them. */
export function randomToken(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

/** A new key for every caller, each with its caller's scopes. */
export function generateServiceKeys(): ServiceKeyEntry[] {
  return serviceCallers.map((caller): ServiceKeyEntry => ({ caller, keyId: `${caller}-1`, secret: randomToken(32), scopes: scopesOfCaller[caller] }));
}

/** What each caller may do at the settlement bank beyond its scopes at the banks. */
const settlementScopesOfCaller: Record<ServiceCaller, ServiceScope[]> = {
  // The window workflows read the position chains, mark them and set caps as they settle.
  worker: ['ledger', 'read', 'admin'],
  // The operators' liquidity operations: funds-out from a reserve is a debit.
  'transfer-api': ['admin', 'read', 'ledger'],
  reconciliation: ['read'],
};

/** The settlement bank's keys: the callers' own, each with its settlement scopes added. */
export function settlementServiceKeys(secrets: Pick<ClusterSecrets, 'serviceKeys'>): ServiceKeyEntry[] {
  return secrets.serviceKeys.map((key) => {
    const added = settlementScopesOfCaller[key.caller].filter((scope) => !key.scopes.includes(scope));
    return added.length === 0 ? key : { ...key, scopes: [...key.scopes, ...added] };
  });
}

/** A new transfer authority key. */
export function generateAuthorityKey(): SigningKey {
  return { keyId: 'transfer-authority-1', secret: randomToken(32) };
}

/** SERVICE_KEYS as an account service reads it: `id:secret:scope|scope,...`. */
export function formatServiceKeys(keys: readonly ServiceKeyEntry[]): string {
  return keys.map((key) => `${key.keyId}:${key.secret}:${key.scopes.join('|')}`).join(',');
}

/** The key a caller signs with: its first entry. */
export function signingKeyOf(secrets: Pick<ClusterSecrets, 'serviceKeys'>, caller: ServiceCaller): SigningKey {
  const entry = secrets.serviceKeys.find((key) => key.caller === caller);
  if (!entry) throw new Error(`the service keys hold no key for ${caller}`);
  return { keyId: entry.keyId, secret: entry.secret };
}

/** The key the API signs transfer inputs and decisions with: the first of TRANSFER_AUTHORITY_KEYS. */
export function authorityKeyOf(secrets: Pick<ClusterSecrets, 'authorityKeys'>): SigningKey {
  const [key] = secrets.authorityKeys;
  if (!key) throw new Error('the secrets hold no transfer authority key');
  return key;
}

/** TRANSFER_AUTHORITY_KEYS, or any other rotation list: `id:secret,…`. */
export function formatSigningKeys(keys: readonly SigningKey[]): string {
  return keys.map(formatSigningKey).join(',');
}

export function formatSigningKey(key: SigningKey): string {
  return `${key.keyId}:${key.secret}`;
}

export function formatApiKeys(keys: readonly ApiKeyEntry[]): string {
  return keys.map((key) => `${key.name}:${key.role}:${key.key}`).join(',');
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

const isServiceKeyEntry = (value: unknown): value is ServiceKeyEntry => {
  const entry = value as Partial<ServiceKeyEntry> | null;
  return typeof entry?.keyId === 'string' && typeof entry.secret === 'string' && (serviceCallers as readonly unknown[]).includes(entry.caller) && Array.isArray(entry.scopes);
};

/**
 * One key per caller, with that caller's scopes. A file from before per-caller keys (one shared key,
 * no caller) is replaced; a file every caller has a key in is kept as it is, rotations included.
 */
async function loadOrCreateServiceKeys(folder: string): Promise<{ keys: ServiceKeyEntry[]; wrote: boolean }> {
  const path = join(folder, 'service-keys.json');
  const found = await readJson<unknown[]>(path);
  if (Array.isArray(found) && found.every(isServiceKeyEntry) && serviceCallers.every((caller) => found.some((entry) => entry.caller === caller))) return { keys: found, wrote: false };
  const keys = generateServiceKeys();
  await writeFile(path, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return { keys, wrote: true };
}

/** Two operators, so that one can approve what the other created (four eyes), and one client. */
export function defaultApiKeys(): ApiKeyEntry[] {
  return [
    { name: 'operator', role: 'operator', key: `op_${randomToken(24)}` },
    { name: 'operator-2', role: 'operator', key: `op_${randomToken(24)}` },
    { name: 'client-a', role: 'client', key: `cl_${randomToken(24)}` },
  ];
}

/** The API keys in the data folder; a default missing from an older file (the second operator) is added to it. */
async function loadOrCreateApiKeys(folder: string): Promise<{ keys: ApiKeyEntry[]; wrote: boolean }> {
  const path = join(folder, 'api-keys.json');
  const keys = (await readJson<ApiKeyEntry[]>(path)) ?? [];
  const missing = defaultApiKeys().filter((fallback) => !keys.some((key) => key.name === fallback.name));
  if (missing.length === 0) return { keys, wrote: false };
  keys.push(...missing);
  await writeFile(path, JSON.stringify(keys, null, 2), { mode: 0o600 });
  return { keys, wrote: true };
}

function parseApiKeys(value: string): ApiKeyEntry[] {
  return value.split(',').map((item) => {
    const [name = '', role = '', key = ''] = item.split(':');
    return { name, role: role === 'operator' ? 'operator' : 'client', key };
  });
}

/** A small JSON file of generated values, read back on the next start. */
async function loadOrCreate<T>(path: string, create: () => T): Promise<{ value: T; wrote: boolean }> {
  const found = await readJson<T>(path);
  if (found) return { value: found, wrote: false };
  const value = create();
  await writeFile(path, JSON.stringify(value, null, 2), { mode: 0o600 });
  return { value, wrote: true };
}

/**
 * TRANSFER_API_KEYS and PAYLOAD_CODEC_KEYS from the launcher's environment win; otherwise the
 * keys in the data folder are reused, or generated there (mode 0600) on the first start.
 */
export async function loadOrCreateSecrets(dataDir: string, fromEnv: { apiKeys?: string; codecKeys?: string }, extraApiKeys: readonly ApiKeyEntry[] = []): Promise<ClusterSecrets> {
  const folder = secretsDir(dataDir);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const service = await loadOrCreateServiceKeys(folder);
  const api = fromEnv.apiKeys ? { keys: parseApiKeys(fromEnv.apiKeys), wrote: false } : await loadOrCreateApiKeys(folder);
  const codec = await loadOrCreate(join(folder, 'codec.json'), () => ({ keys: `local-codec-1:${randomBytes(32).toString('base64')}`, token: randomToken(32) }));
  const authority = await loadOrCreate(join(folder, 'transfer-authority.json'), () => ({ keys: formatSigningKey(generateAuthorityKey()) }));
  const apiKeys = [...api.keys];
  for (const extra of extraApiKeys) if (!apiKeys.some((key) => key.name === extra.name)) apiKeys.push(extra);
  return {
    serviceKeys: service.keys,
    apiKeys,
    authorityKeys: signingKeysSchema.parse(authority.value.keys),
    codecKeys: fromEnv.codecKeys ?? codec.value.keys,
    codecToken: codec.value.token,
    folder,
  };
}
