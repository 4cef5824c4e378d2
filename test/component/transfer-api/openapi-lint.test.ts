import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpStatusByCode, isErrorCode } from '../../../lib/contracts/error-codes';
import { transferEventTypes } from '../../../lib/contracts/event-contract';
import { publishedOpenApiDocument } from '../../../services/transfer-api/published-document';

/**
 * The document /openapi.json serves, every route included, through Redocly's recommended ruleset
 * (redocly.yaml) and Spectral's OpenAPI ruleset (.spectral.yaml): no error and no warning.
 */
const projectRoot = join(__dirname, '..', '..', '..');
const bin = (name: string) => join(projectRoot, 'node_modules', '.bin', name);

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: projectRoot, encoding: 'utf8', timeout: 90_000, env: { ...process.env, NO_COLOR: '1', REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

interface Operation {
  operationId?: string;
  security?: unknown[];
  'x-roles'?: string[];
  description?: string;
  requestBody?: unknown;
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
}

interface Document {
  paths: Record<string, Record<string, Operation>>;
  webhooks: Record<string, { post: { parameters: Array<{ name: string; in: string }> } }>;
  components: { schemas: Record<string, { properties?: { error?: { properties?: { code?: { enum?: string[] } } } } }> };
}

describe('the OpenAPI document, operation by operation', () => {
  const document = publishedOpenApiDocument() as Document;
  const operations = Object.entries(document.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })));
  const v1 = operations.filter(({ name }) => name.includes(' /v1/'));
  const codesOf = (ref: string | undefined) => document.components.schemas[(ref ?? '').replace('#/components/schemas/', '')]?.properties?.error?.properties?.code?.enum ?? [];

  test('when every operation is read, then each has a unique operationId, and those under /v1 name their roles and need the bearer key while the rest need none', () => {
    const ids = operations.map(({ operation }) => operation.operationId);
    expect(ids.filter((id) => id === undefined)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { name, operation } of v1) {
      expect([name, operation.security]).toEqual([name, [{ bearerAuth: [] }]]);
      expect(operation['x-roles']?.length).toBeGreaterThan(0);
      expect(operation.description).toContain(`Needs an API key of the ${operation['x-roles']?.join(' or ')} role.`);
    }
    for (const { name, operation } of operations.filter(({ name }) => !name.includes(' /v1/'))) expect([name, operation.security]).toEqual([name, []]);
  });

  test("when an error response is read, then its codes are an enum of the code table's codes with exactly that status, and every /v1 operation answers 400, 401, 429 and 500 (413 and 415 with a body)", () => {
    for (const { name, operation } of v1) {
      const statuses = Object.keys(operation.responses);
      expect([name, ['400', '401', '429', '500', ...(operation.requestBody ? ['413', '415'] : [])].filter((status) => !statuses.includes(status))]).toEqual([name, []]);
      for (const [status, response] of Object.entries(operation.responses).filter(([status]) => Number(status) >= 400)) {
        const codes = codesOf(response.content?.['application/json']?.schema?.$ref);
        expect([name, status, codes.length > 0]).toEqual([name, status, true]);
        expect([name, status, codes.filter((code) => !isErrorCode(code) || String(httpStatusByCode[code]) !== status)]).toEqual([name, status, []]);
      }
    }
  });

  test('when the webhooks are read, then there is one per event type, each with the three signature headers', () => {
    expect(Object.keys(document.webhooks)).toEqual([...transferEventTypes]);
    for (const webhook of Object.values(document.webhooks)) expect(webhook.post.parameters.filter((parameter) => parameter.in === 'header').map((parameter) => parameter.name)).toEqual(['webhook-id', 'webhook-timestamp', 'webhook-signature']);
  });
});

describe('the OpenAPI document under the linters', () => {
  let folder: string;
  let documentPath: string;

  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
    documentPath = join(folder, 'openapi.json');
    writeFileSync(documentPath, JSON.stringify(publishedOpenApiDocument(), null, 2));
  });

  afterAll(() => {
    rmSync(folder, { recursive: true, force: true });
  });

  test('when Redocly lints it with the recommended ruleset, then it finds no error and no warning', async () => {
    const result = await run(bin('redocly'), ['lint', documentPath, '--config', join(projectRoot, 'redocly.yaml'), '--format', 'json']);
    const report = JSON.parse(result.stdout.slice(result.stdout.indexOf('{'))) as { totals: { errors: number; warnings: number }; problems: Array<{ ruleId: string; message: string; location: Array<{ pointer: string }> }> };
    const problems = report.problems.map((problem) => `${problem.ruleId} ${problem.location[0]?.pointer ?? ''}: ${problem.message}`);
    expect(problems).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
    expect(result.code).toBe(0);
  });

  test("when Spectral lints it with the spectral:oas ruleset, then it finds no problem of any severity", async () => {
    const result = await run(bin('spectral'), ['lint', documentPath, '--ruleset', join(projectRoot, '.spectral.yaml'), '--format', 'json', '--fail-severity', 'hint', '--quiet']);
    const results = JSON.parse(result.stdout.trim() === '' ? '[]' : result.stdout) as Array<{ code: string; message: string; path: string[]; severity: number }>;
    expect(results.map((entry) => `${entry.code} ${entry.path.join('.')}: ${entry.message}`)).toEqual([]);
    expect([result.code, result.stderr.trim()]).toEqual([0, '']);
  });
});
