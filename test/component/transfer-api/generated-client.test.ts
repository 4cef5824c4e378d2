import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { answerOf, bodyOf, createTransferApi, TransferApiError, type ApiSchemas, type TransferApi } from '../../../services/transfer-api/cli/api-client';
import { defineRoute } from '../../../services/transfer-api/http/route-table';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * The CLI's client, generated from the document: the committed types are what `npm run api:types`
 * writes now, and the client calls the API over real HTTP with typed paths, bodies and answers.
 */
const projectRoot = join(__dirname, '..', '..', '..');
// The script's own default (not imported: openapi-typescript is ESM underneath, which Jest does not load).
const generatedTypesPath = join(projectRoot, 'services/transfer-api/cli/generated/transfer-api.ts');

function regenerate(out: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/generate-api-types.ts'), '--out', out], { cwd: projectRoot, encoding: 'utf8', timeout: 90_000 }, (error, _stdout, stderr) => {
      resolve({ code: error ? 1 : 0, stderr });
    });
  });
}

const validBody: ApiSchemas['CreateTransferRequest'] = { source: { bankId: 'bank-a', accountId: 'a-1' }, target: { bankId: 'bank-b', accountId: 'b-1' }, amountMinor: '12050', currency: 'EUR' };

/**
 * Never called: `tsc --noEmit -p .` checks it. Each @ts-expect-error line must fail to compile
 * (an unused one is itself an error), so a client that stopped checking paths, bodies, headers or
 * answers, or a route table that stopped checking its codes, fails the type check.
 */
export async function _compileOnly(client: TransferApi): Promise<void> {
  const transfer: ApiSchemas['Transfer'] = await bodyOf(client.GET('/v1/transfers/{id}', { params: { path: { id: 'tr-1' } } }));
  const created = await answerOf(client.POST('/v1/transfers', { body: validBody, params: { header: { 'idempotency-key': 'k-1' } } }));
  const status: 'PENDING' | 'AWAITING_APPROVAL' | 'DEBITED' | 'COMPLETED' | 'REJECTED' | 'COMPENSATING' | 'REFUNDED' | 'CANCELLED' = created.body.status;
  void [transfer, status];
  // @ts-expect-error a path the API does not serve
  await client.GET('/v1/transfer/{id}', { params: { path: { id: 'tr-1' } } });
  // @ts-expect-error a method the path does not answer
  await client.DELETE('/v1/transfers/{id}', { params: { path: { id: 'tr-1' } } });
  // @ts-expect-error amounts are decimal strings of minor units, never numbers
  await client.POST('/v1/transfers', { body: { ...validBody, amountMinor: 12050 }, params: { header: { 'idempotency-key': 'k-1' } } });
  // @ts-expect-error the Idempotency-Key header is required
  await client.POST('/v1/transfers', { body: validBody });
  // @ts-expect-error a status the API does not know
  await client.GET('/v1/transfers', { params: { query: { status: 'DONE' } } });
  const banks = await bodyOf(client.GET('/v1/banks'));
  // @ts-expect-error the answer has no such field
  void banks.data[0]?.bankName;
  const handler = async () => ({ status: 200, body: {} });
  // @ts-expect-error every route names its operationId
  defineRoute({ method: 'get', path: '/v1/x', summary: 'X', tag: 'system', roles: ['operator'], responses: { 200: { description: 'x' } }, handler });
  // @ts-expect-error an error code the table does not have
  defineRoute({ method: 'get', path: '/v1/x', operationId: 'getX', summary: 'X', tag: 'system', roles: ['operator'], responses: { 200: { description: 'x' } }, errors: { 404: ['TRANSFER_NOT_FOUN'] }, handler });
  // @ts-expect-error a code under a status it does not answer with
  defineRoute({ method: 'get', path: '/v1/x', operationId: 'getX', summary: 'X', tag: 'system', roles: ['operator'], responses: { 200: { description: 'x' } }, errors: { 409: ['TRANSFER_NOT_FOUND'] }, handler });
  // @ts-expect-error errors go in `errors`, as codes, not in `responses`
  defineRoute({ method: 'get', path: '/v1/x', operationId: 'getX', summary: 'X', tag: 'system', roles: ['operator'], responses: { 404: { description: 'x', schema: z.object({}) } }, handler });
}

describe('the generated client', () => {
  test('when the types are generated again from the document, then they are the committed ones (run npm run api:types otherwise)', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'api-types-'));
    try {
      const out = join(folder, 'transfer-api.ts');
      const result = await regenerate(out);
      expect([result.code, result.stderr]).toEqual([0, '']);
      expect(readFileSync(out, 'utf8')).toBe(readFileSync(generatedTypesPath, 'utf8'));
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  describe('over HTTP to the API', () => {
    let api: InProcessTransferApi;

    beforeAll(async () => {
      api = await startInProcessTransferApi();
    });

    afterAll(async () => {
      await api?.stop();
    });

    test('when it lists the banks, then the answer is the typed directory with the headers the document names', async () => {
      const answer = await answerOf(createTransferApi(`${api.baseUrl}/`, api.keyFor('client-a')).GET('/v1/banks'));
      expect([answer.status, answer.body.data.map((bank) => bank.bankId)]).toEqual([200, ['bank-a', 'bank-b']]);
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.get('ratelimit')).toMatch(/; r=\d+; t=\d+$/);
      expect(answer.headers.get('ratelimit-policy')).toMatch(/; q=1000; w=60; pk=/);
    });

    test('when the API refuses, then the client throws TransferApiError with its status, code and message', async () => {
      const client = createTransferApi(api.baseUrl, api.keyFor('operator'));
      const missing = await bodyOf(client.GET('/v1/transfers/{id}', { params: { path: { id: 'tr-none' } } })).catch((error: unknown) => error);
      expect(missing).toBeInstanceOf(TransferApiError);
      expect(missing).toMatchObject({ status: 404, code: 'TRANSFER_NOT_FOUND', message: 'no transfer tr-none' });
      const forbidden = await bodyOf(createTransferApi(api.baseUrl, api.keyFor('client-a')).POST('/v1/reconciliations')).catch((error: unknown) => error);
      expect(forbidden).toMatchObject({ status: 403, code: 'FORBIDDEN' });
      const unauthenticated = await bodyOf(createTransferApi(api.baseUrl, 'not-a-key').GET('/v1/banks')).catch((error: unknown) => error);
      expect(unauthenticated).toMatchObject({ status: 401, code: 'UNAUTHENTICATED' });
    });
  });
});
