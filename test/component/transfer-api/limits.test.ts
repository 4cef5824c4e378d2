import { apiCaller, type ApiCaller } from '../../support/http';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * The operator's account changes as the API checks them before anything is sent to a bank:
 * in-process over a bank transport that only records what would have been sent.
 */
describe('limits: account changes refused at the API', () => {
  let api: InProcessTransferApi;
  let operator: ApiCaller;
  let clientA: ApiCaller;

  beforeAll(async () => {
    api = await startInProcessTransferApi();
    operator = apiCaller(api.baseUrl, api.keyFor('operator'));
    clientA = apiCaller(api.baseUrl, api.keyFor('client-a'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  beforeEach(() => {
    api.bankCalls.splice(0);
  });

  const change = (accountId: string, action: string, idempotencyKey?: string, body: unknown = {}) =>
    operator.post(`/v1/banks/bank-a/accounts/${accountId}/${action}`, body, idempotencyKey === undefined ? {} : { 'idempotency-key': idempotencyKey });

  test('when an operator sets a negative or non-numeric daily limit, then 400 VALIDATION_FAILED on dailyDebitLimitMinor and nothing reaches the bank; a client is 403', async () => {
    for (const bad of ['-1', 'lots', 5, '1e3']) {
      const answer = await operator.post('/v1/banks/bank-a/accounts/alice/daily-limit', { dailyDebitLimitMinor: bad }, { 'idempotency-key': 'bad-limit' });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dailyDebitLimitMinor' });
    }
    expect((await clientA.post('/v1/banks/bank-a/accounts/alice/daily-limit', { dailyDebitLimitMinor: '1' }, { 'idempotency-key': 'client-limit' })).status).toBe(403);
    expect(api.bankCalls).toEqual([]);
  });

  test.each([
    ['freeze', 'missing', undefined, {}],
    ['freeze', 'empty', '', {}],
    ['unfreeze', 'not an id (a colon)', 'key:1', {}],
    ['close', 'not an id (65 characters)', 'k'.repeat(65), {}],
    ['daily-limit', 'missing', undefined, { dailyDebitLimitMinor: '5' }],
  ])('when a %s has an Idempotency-Key that is %s, then 400 VALIDATION_FAILED naming the header and nothing reaches the bank', async (action, _name, idempotencyKey, body) => {
    const answer = await change('kim', action, idempotencyKey, body);
    expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([400, 'VALIDATION_FAILED', 'Idempotency-Key']);
    expect(api.bankCalls).toEqual([]);
  });

  test('when a freeze has a well-formed Idempotency-Key, then it reaches the bank with the key as its change id', async () => {
    expect((await change('kim', 'freeze', 'kim-freeze-1')).status).toBe(200);
    expect(api.bankCalls.map((call) => [call.method, call.url, JSON.parse(call.body ?? 'null')])).toEqual([['POST', 'http://bank-a.invalid/v1/accounts/kim/freeze', { changeId: 'kim-freeze-1' }]]);
  });

  test('when the OpenAPI document is read, then the change routes require and describe the Idempotency-Key', async () => {
    const document = (await operator.get('/openapi.json')).body as { paths: Record<string, { post?: { description?: string; parameters?: Array<{ in: string; name: string; required?: boolean }> } }> };
    for (const action of ['freeze', 'unfreeze', 'close', 'daily-limit']) {
      const route = document.paths[`/v1/banks/{bankId}/accounts/{accountId}/${action}`]?.post;
      expect({ action, header: route?.parameters?.find((parameter) => parameter.in === 'header') }).toMatchObject({ action, header: { name: 'idempotency-key', required: true } });
      expect(route?.description).toContain('Idempotent-Replayed: true');
    }
  });
});
