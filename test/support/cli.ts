import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '..', '..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): CliRun {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/main.ts'), '--json', ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 120_000, env });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs the operator CLI as a person would, as its own process, with `--json` output. */
export function runCli(apiUrl: string, apiKey: string, ...args: string[]): CliRun {
  return spawnCli(['--api-url', apiUrl, '--api-key', apiKey, ...args]);
}

/** The CLI with a key the launcher generated into a cluster's data folder, picked by its name (`--as`). */
export function runCliAs(apiUrl: string, dataDir: string, keyName: string, ...args: string[]): CliRun {
  return spawnCli(['--api-url', apiUrl, '--as', keyName, ...args], { ...process.env, DATA_DIR: dataDir, TRANSFER_API_KEY: '' });
}
