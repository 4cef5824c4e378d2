import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ApiKeyEntry {
  name: string;
  role: 'client' | 'operator';
  key: string;
}

export interface ServiceKeyEntry {
  keyId: string;
  secret: string;
}

/** The secrets a local cluster runs with; generated once per data folder, never committed. */
export interface ClusterSecrets {
  /** Keys account services accept; the first one signs the worker's and the API's calls. */
  serviceKeys: ServiceKeyEntry[];
  apiKeys: ApiKeyEntry[];
  /** PAYLOAD_CODEC_KEYS: the first encrypts, all decrypt. */
  codecKeys: string;
  /** The codec server's access token (in its URL path for the Web UI, or as a Bearer token). */
  codecToken: string;
  /** Where they were written, for the launcher to print; undefined when they came from the environment. */
  folder: string | undefined;
}

export function secretsDir(dataDir: string): string {
  return join(dataDir, 'secrets');
}

function token(bytes: number): string {
  return randomBytes(bytes).toString('base64url');
}

export function formatServiceKeys(keys: readonly ServiceKeyEntry[]): string {
  return keys.map((key) => `${key.keyId}:${key.secret}`).join(',');
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

/**
 * SERVICE_KEYS and TRANSFER_API_KEYS from the launcher's environment win; otherwise the
 * keys in the data folder are reused, or generated there (mode 0600) on the first start.
 */
export async function loadOrCreateSecrets(dataDir: string, fromEnv: { serviceKeys?: string; apiKeys?: string; codecKeys?: string }, extraApiKeys: readonly ApiKeyEntry[] = []): Promise<ClusterSecrets> {
  const folder = secretsDir(dataDir);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  let wrote = false;

  let serviceKeys: ServiceKeyEntry[];
  if (fromEnv.serviceKeys) {
    serviceKeys = fromEnv.serviceKeys.split(',').map((item) => {
      const separator = item.indexOf(':');
      return { keyId: item.slice(0, separator), secret: item.slice(separator + 1) };
    });
  } else {
    const path = join(folder, 'service-keys.json');
    serviceKeys = (await readJson<ServiceKeyEntry[]>(path)) ?? [];
    if (serviceKeys.length === 0) {
      serviceKeys = [{ keyId: 'local-1', secret: token(32) }];
      await writeFile(path, JSON.stringify(serviceKeys, null, 2), { mode: 0o600 });
      wrote = true;
    }
  }

  let apiKeys: ApiKeyEntry[];
  if (fromEnv.apiKeys) {
    apiKeys = fromEnv.apiKeys.split(',').map((item) => {
      const [name = '', role = '', key = ''] = item.split(':');
      return { name, role: role === 'operator' ? 'operator' : 'client', key };
    });
  } else {
    const path = join(folder, 'api-keys.json');
    apiKeys = (await readJson<ApiKeyEntry[]>(path)) ?? [];
    if (apiKeys.length === 0) {
      apiKeys = [
        { name: 'operator', role: 'operator', key: `op_${token(24)}` },
        { name: 'client-a', role: 'client', key: `cl_${token(24)}` },
      ];
      await writeFile(path, JSON.stringify(apiKeys, null, 2), { mode: 0o600 });
      wrote = true;
    }
  }
  let codecKeys = fromEnv.codecKeys;
  const codecPath = join(folder, 'codec.json');
  let codec = await readJson<{ keys: string; token: string }>(codecPath);
  if (!codec) {
    codec = { keys: `local-codec-1:${randomBytes(32).toString('base64')}`, token: token(32) };
    await writeFile(codecPath, JSON.stringify(codec, null, 2), { mode: 0o600 });
    wrote = true;
  }
  codecKeys ??= codec.keys;
  for (const extra of extraApiKeys) if (!apiKeys.some((key) => key.name === extra.name)) apiKeys.push(extra);
  return { serviceKeys, apiKeys, codecKeys, codecToken: codec.token, folder: fromEnv.serviceKeys && fromEnv.apiKeys && !wrote ? undefined : folder };
}
