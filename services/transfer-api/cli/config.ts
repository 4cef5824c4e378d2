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
 * The API address and key: flags first, then TRANSFER_API_URL / TRANSFER_API_KEY, then the
 * operator key the local launcher generated in its data folder.
 */
export function loadCliConfig(flags: { apiUrl?: string; apiKey?: string }, env: NodeJS.ProcessEnv, projectRoot: string): CliConfig {
  const apiUrl = flags.apiUrl ?? env.TRANSFER_API_URL ?? 'http://127.0.0.1:3000';
  let apiKey = flags.apiKey ?? env.TRANSFER_API_KEY;
  if (!apiKey) {
    const path = generatedApiKeysPath(resolve(projectRoot, env.DATA_DIR ?? '.data'));
    try {
      const keys = JSON.parse(readFileSync(path, 'utf8')) as Array<{ name: string; role: string; key: string }>;
      apiKey = keys.find((entry) => entry.role === 'operator')?.key;
    } catch {
      apiKey = undefined;
    }
    if (!apiKey) throw new Error(`no API key: pass --api-key, set TRANSFER_API_KEY, or start the local cluster (npm start) so that ${path} exists`);
  }
  return { apiUrl, apiKey };
}
