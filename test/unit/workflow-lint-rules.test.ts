import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const projectRoot = join(__dirname, '..', '..');

/**
 * The rules under test need no type information; without it each lint takes a second instead of
 * building the project's types (the typed promise rules are turned off for these probes only).
 */
const untypedLint = ['--parser-options', 'projectService:false', '--rule', '{"@typescript-eslint/no-floating-promises":"off","@typescript-eslint/no-misused-promises":"off"}'];

/** Lints source text as if it stood at filePath, through the ESLint CLI (its config loader needs real ESM). */
async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const result = spawnSync(join(projectRoot, 'node_modules', '.bin', 'eslint'), ['--format', 'json', ...untypedLint, '--stdin', '--stdin-filename', filePath], {
    cwd: projectRoot,
    input: code,
    encoding: 'utf8',
  });
  const [report] = JSON.parse(result.stdout) as Array<{ messages: Array<{ ruleId: string | null; message: string }> }>;
  return (report?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

describe('lint rules that keep workflow code deterministic', () => {
  test('when a workflow imports a Node built-in, infra or an activity value, then lint fails', async () => {
    const code = [
      "import { readFileSync } from 'node:fs';",
      "import { randomUUID } from 'crypto';",
      "import { startCluster } from '../infra/cluster';",
      "import { createAccountActivities } from '../activities/account-activities';",
      'export const used = [readFileSync, randomUUID, startCluster, createAccountActivities];',
    ].join('\n');
    expect(await ruleIds(code, 'workflows/probe.ts')).toEqual(Array(4).fill('no-restricted-imports'));
  });

  test('when a workflow imports a lib module outside the pure ones, then lint fails; the pure ones pass', async () => {
    const impure = [
      "import { signRequest } from '../lib/crypto/request-signing';",
      "import { AccountServiceClient } from '../lib/clients/account-service-client';",
      'export const used = [signRequest, AccountServiceClient];',
    ].join('\n');
    expect(await ruleIds(impure, 'workflows/probe.ts')).toEqual(Array(2).fill('no-restricted-imports'));
    const pure = [
      "import { transferWorkflowId } from '../lib/contracts/transfer-contract';",
      "import { isBusinessRefusal } from '../lib/contracts/error-codes';",
      "import { searchAttributes } from '../lib/contracts/search-attributes';",
      "import * as money from '../lib/contracts/money';",
      'export const used = [transferWorkflowId, isBusinessRefusal, searchAttributes, money];',
    ].join('\n');
    expect(await ruleIds(pure, 'workflows/probe.ts')).toEqual([]);
  });

  test('when a workflow reads process.env, then lint fails', async () => {
    expect(await ruleIds('export const threshold = process.env.APPROVAL_THRESHOLD_MINOR;\n', 'workflows/probe.ts')).toEqual(['no-restricted-globals']);
  });

  test('when a workflow imports activities as types only, then lint passes', async () => {
    const code = "import type { AccountActivities } from '../activities/account-activities';\nexport type Used = AccountActivities;\n";
    expect(await ruleIds(code, 'workflows/probe.ts')).toEqual([]);
  });

  test('when a service imports Node built-ins, then lint passes', async () => {
    expect(await ruleIds("import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n", 'services/probe.ts')).toEqual([]);
  });

  test('when any module has a default export, then lint fails', async () => {
    expect(await ruleIds('const value = 1;\nexport default value;\n', 'lib/probe.ts')).toEqual(['no-restricted-syntax']);
  });
});
