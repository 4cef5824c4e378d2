import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';
import { http } from '../../support/http';

type Operation = { operationId?: string; responses: Record<string, { description: string; content?: Record<string, unknown> }>; parameters?: Array<{ name: string; in: string; required?: boolean }> };

describe('transfer API: the statement route in the OpenAPI document', () => {
  let api: InProcessTransferApi;

  beforeAll(async () => {
    api = await startInProcessTransferApi();
  });

  afterAll(async () => {
    await api?.stop();
  });

  test('when the document is read, then the statement is getAccountStatement, answers application/xml and documents every 4xx it can answer with its codes', async () => {
    const document = (await http(`${api.baseUrl}/openapi.json`)).body as { paths: Record<string, Record<string, Operation>> };
    const operation = document.paths['/v1/banks/{bankId}/accounts/{accountId}/statement']?.get;
    expect(operation?.operationId).toBe('getAccountStatement');
    expect(Object.keys(operation?.responses['200']?.content ?? {})).toEqual(['application/xml']);
    expect(Object.keys(operation?.responses ?? {}).sort()).toEqual(['200', '400', '401', '403', '404', '422', '429', '500', '503']);
    expect(operation?.responses['404']?.description).toMatch(/BANK_NOT_FOUND, ACCOUNT_NOT_FOUND/);
    expect(operation?.responses['422']?.description).toMatch(/STATEMENT_TOO_LARGE/);
    const query = (operation?.parameters ?? []).filter((parameter) => parameter.in === 'query');
    expect(query.map((parameter) => [parameter.name, parameter.required])).toEqual([
      ['from', true],
      ['to', true],
    ]);
  });

  test('when the route is asked with a bad period, then 400 VALIDATION_FAILED and nothing reaches the bank', async () => {
    const answer = await http(`${api.baseUrl}/v1/banks/bank-a/accounts/stella/statement?from=2026-11-01&to=2026-12-15`, { headers: { authorization: `Bearer ${api.keyFor('operator')}` } });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'to' });
    expect(api.bankCalls).toEqual([]);
  });
});
