import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export interface CliConfig {
  apiUrl: string;
  apiKey: string;
}

/** Where `npm start` writes the generated API keys (see infra/secrets.ts). */
export function generatedApiKeysPath(dataDir: string): string {
  return join(dataDir, 'secrets', 'api-keys.json');
}

/**
 * The API address and key: flags first, then TRANSFER_API_URL / TRANSFER_API_KEY, then a key the
 * local launcher generated in its data folder (the one `--as` names, else the first operator's).
 */
export function loadCliConfig(flags: { apiUrl?: string; apiKey?: string; as?: string }, env: NodeJS.ProcessEnv, projectRoot: string): CliConfig {
  const apiUrl = flags.apiUrl ?? env.TRANSFER_API_URL ?? 'http://127.0.0.1:3000';
  if (flags.as !== undefined && flags.apiKey !== undefined) throw new Error('pass either --api-key or --as, not both');
  const apiKey = (flags.as === undefined ? flags.apiKey ?? env.TRANSFER_API_KEY : undefined) ?? generatedKey(flags.as, env, projectRoot);
  return { apiUrl, apiKey };
}

function generatedKey(name: string | undefined, env: NodeJS.ProcessEnv, projectRoot: string): string {
  const path = generatedApiKeysPath(resolve(projectRoot, env.DATA_DIR ?? '.data'));
  let keys: Array<{ name: string; role: string; key: string }> = [];
  try {
    keys = JSON.parse(readFileSync(path, 'utf8')) as typeof keys;
  } catch {
    throw new Error(`no API key: pass --api-key, set TRANSFER_API_KEY, or start the local cluster (npm start) so that ${path} exists`);
  }
  const found = name === undefined ? keys.find((entry) => entry.role === 'operator') : keys.find((entry) => entry.name === name);
  if (!found) throw new Error(name === undefined ? `no operator key in ${path}` : `no key named ${name} in ${path} (names: ${keys.map((entry) => entry.name).join(', ')})`);
  return found.key;
}
