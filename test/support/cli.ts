import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '..', '..');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the operator CLI as a person would, as its own process, with `--json` output. */
export function runCli(apiUrl: string, apiKey: string, ...args: string[]): CliRun {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/main.ts'), '--json', '--api-url', apiUrl, '--api-key', apiKey, ...args], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
