import { servedRoutes } from '../../../services/transfer-api/app';
import { apiCaller, http, type ApiCaller } from '../../support/http';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * The API's edge, in-process over fakes of Temporal, its record and the banks: authentication,
 * roles, validation and the OpenAPI document. Nothing here may start a transfer or touch a bank.
 */
const rateLimitPerMinute = 100;

describe('transfer API edge', () => {
  let api: InProcessTransferApi;
  let baseUrl: string;
  let operator: ApiCaller;
  let client: ApiCaller;

  beforeAll(async () => {
    api = await startInProcessTransferApi({ rateLimitPerMinute });
    baseUrl = api.baseUrl;
    operator = apiCaller(baseUrl, api.keyFor('operator'));
    client = apiCaller(baseUrl, api.keyFor('client-a'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  const validBody = { source: { bankId: 'bank-a', accountId: 'edge-a' }, target: { bankId: 'bank-b', accountId: 'edge-b' }, amountMinor: '100', currency: 'EUR' };

  function expectNoTransfers(): void {
    expect(api.workflows.started).toEqual([]);
    expect(api.records.inserted).toEqual([]);
  }

  describe('authentication', () => {
    test.each([
      ['no Authorization header', {}],
      ['a Basic scheme', { authorization: 'Basic b3BlcmF0b3I6c2VjcmV0' }],
      ['an unknown key', { authorization: 'Bearer not-a-key-of-this-cluster-000000' }],
      ['an empty bearer', { authorization: 'Bearer ' }],
    ])('when a request has %s, then it is 401 UNAUTHENTICATED', async (_name, headers) => {
      const answer = await http(`${baseUrl}/v1/transfers`, { headers });
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('UNAUTHENTICATED');
    });

    test('when health, readiness, metrics and the OpenAPI document are read, then no key is needed', async () => {
      for (const path of ['/healthz', '/readyz', '/metrics', '/openapi.json', '/docs/']) {
        expect([path, (await http(`${baseUrl}${path}`)).status]).toEqual([path, 200]);
      }
    });
  });

  describe('roles', () => {
    test.each([
      ['open an account', '/v1/banks/bank-a/accounts', { accountId: 'x1', owner: 'X', currency: 'EUR' }],
      ['fund an account', '/v1/banks/bank-a/accounts/x1/deposits', { depositId: 'd1', amountMinor: '1', currency: 'EUR' }],
      ['freeze an account', '/v1/banks/bank-a/accounts/x1/freeze', {}],
      ['approve a transfer', '/v1/transfers/tr-1/approve', {}],
      ['cancel a transfer', '/v1/transfers/tr-1/cancel', {}],
    ])('when a client tries to %s, then it is 403 FORBIDDEN', async (_name, path, body) => {
      const answer = await client.post(path, body);
      expect(answer.status).toBe(403);
      expect(answer.body.error?.code).toBe('FORBIDDEN');
    });

    test('when a client reads an account, then it is 403 FORBIDDEN', async () => {
      const answer = await client.get('/v1/banks/bank-a/accounts/x1');
      expect(answer.status).toBe(403);
    });

    test('when every refusal above has been answered, then nothing reached a bank', () => {
      expect(api.bankCalls).toEqual([]);
    });
  });

  describe('validation of POST /v1/transfers', () => {
    const key = { 'idempotency-key': 'edge-validation' };
    test.each([
      ['a missing source', { ...validBody, source: undefined }, 'source'],
      ['an amount of zero', { ...validBody, amountMinor: '0' }, 'amountMinor'],
      ['a negative amount', { ...validBody, amountMinor: '-5' }, 'amountMinor'],
      ['a decimal amount', { ...validBody, amountMinor: '1.50' }, 'amountMinor'],
      ['an amount with a leading zero', { ...validBody, amountMinor: '0100' }, 'amountMinor'],
      ['an amount of 19 digits', { ...validBody, amountMinor: '1234567890123456789' }, 'amountMinor'],
      ['a numeric amount', { ...validBody, amountMinor: 100 }, 'amountMinor'],
      ['an amount in exponent form', { ...validBody, amountMinor: '1e3' }, 'amountMinor'],
      ['a lower-case currency', { ...validBody, currency: 'eur' }, 'currency'],
      ['a four-letter currency', { ...validBody, currency: 'EURO' }, 'currency'],
      ['an operator object as a bank id', { ...validBody, source: { bankId: { $gt: '' }, accountId: 'edge-a' } }, 'source.bankId'],
      ['an operator object as an account id', { ...validBody, target: { bankId: 'bank-b', accountId: { $ne: null } } }, 'target.accountId'],
      ['an account id with a slash', { ...validBody, target: { bankId: 'bank-b', accountId: 'a/b' } }, 'target.accountId'],
      ['an account id of 65 characters', { ...validBody, target: { bankId: 'bank-b', accountId: 'a'.repeat(65) } }, 'target.accountId'],
      ['an unknown top-level field', { ...validBody, fee: '1' }, 'fee'],
      ['an unknown nested field', { ...validBody, source: { bankId: 'bank-a', accountId: 'edge-a', iban: 'x' } }, 'source.iban'],
      ['a reference of 141 characters', { ...validBody, reference: 'r'.repeat(141) }, 'reference'],
      ['an array body', [validBody], undefined],
    ])('when the body has %s, then it is 400 VALIDATION_FAILED', async (_name, body, field) => {
      const answer = await client.post('/v1/transfers', body, key);
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
      if (field) expect(answer.body.error?.field).toBe(field);
    });

    test.each([
      ['missing', undefined],
      ['empty', ''],
      ['256 characters long', 'k'.repeat(256)],
      ['not printable ASCII', 'schlüssel'],
    ])('when the Idempotency-Key is %s, then it is 400 VALIDATION_FAILED', async (_name, value) => {
      const answer = await client.post('/v1/transfers', validBody, value === undefined ? {} : { 'idempotency-key': value });
      expect(answer.status).toBe(400);
      expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'Idempotency-Key' });
    });

    test('when the body is not JSON, then it is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const answer = await client.post('/v1/transfers', 'amount=100', { ...key, 'content-type': 'application/x-www-form-urlencoded' });
      expect(answer.status).toBe(415);
      expect(answer.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    });

    test('when the JSON is malformed, then it is 400 VALIDATION_FAILED', async () => {
      const answer = await client.post('/v1/transfers', '{"source": ', { ...key, 'content-type': 'application/json' });
      expect(answer.status).toBe(400);
      expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    });

    test('when the body is larger than 16 KiB, then it is 413 PAYLOAD_TOO_LARGE', async () => {
      const answer = await client.post('/v1/transfers', { ...validBody, reference: 'x'.repeat(17 * 1024) }, key);
      expect(answer.status).toBe(413);
      expect(answer.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    });

    test.each([
      ['an unknown source bank', { ...validBody, source: { bankId: 'bank-z', accountId: 'edge-a' } }, 'UNKNOWN_BANK', 'source.bankId'],
      ['an unknown target bank', { ...validBody, target: { bankId: 'bank-y', accountId: 'edge-b' } }, 'UNKNOWN_BANK', 'target.bankId'],
      ['the same account on both sides', { ...validBody, target: { ...validBody.source } }, 'SAME_ACCOUNT', 'target'],
    ])('when the body names %s, then it is 422 with its code at once and nothing is recorded', async (_name, body, code, field) => {
      const answer = await client.post('/v1/transfers', body, { 'idempotency-key': `edge-${code}-${field}` });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatchObject({ code, field });
    });

    test('when an operator sends a transfer to the same account, then it is refused the same way', async () => {
      const answer = await operator.post('/v1/transfers', { ...validBody, target: { ...validBody.source } }, { 'idempotency-key': 'edge-operator-same' });
      expect(answer.status).toBe(422);
      expect(answer.body.error).toMatchObject({ code: 'SAME_ACCOUNT', field: 'target' });
    });

    test('when every refusal above has been answered, then no transfer was started', () => {
      expectNoTransfers();
    });

    test('when a valid body follows with a fresh key, then it is 202 and the fakes saw one record and one start', async () => {
      const answer = await client.post('/v1/transfers', validBody, { 'idempotency-key': 'edge-valid' });
      expect(answer.status).toBe(202);
      expect(api.records.inserted.map((record) => record._id)).toEqual([answer.body.id]);
      expect(api.workflows.started.map((input) => input.transferId)).toEqual([answer.body.id]);
    });
  });

  test.each([
    ['an unknown status', '/v1/transfers?status=DONE', 'status'],
    ['a limit of 0', '/v1/transfers?limit=0', 'limit'],
    ['a limit of 101', '/v1/transfers?limit=101', 'limit'],
    ['a malformed cursor', '/v1/transfers?cursor=%24%24', 'cursor'],
    ['an unknown filter', '/v1/transfers?owner=alice', 'owner'],
  ])('when a list asks for %s, then it is 400 VALIDATION_FAILED', async (_name, path, field) => {
    const answer = await client.get(path);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code: 'VALIDATION_FAILED', field });
  });

  test('when an unknown transfer is read, then it is 404 TRANSFER_NOT_FOUND', async () => {
    const answer = await client.get('/v1/transfers/tr-0000000000000000000000000000000000000000');
    expect(answer.status).toBe(404);
    expect(answer.body.error?.code).toBe('TRANSFER_NOT_FOUND');
  });

  test('when an unknown bank is used, then it is 404 BANK_NOT_FOUND', async () => {
    const answer = await operator.get('/v1/banks/bank-z/accounts/x1');
    expect(answer.status).toBe(404);
    expect(answer.body.error).toMatchObject({ code: 'BANK_NOT_FOUND', field: 'bankId' });
  });

  test('when an unknown route is called, then it is a JSON 404 without a stack trace', async () => {
    const answer = await operator.get('/v1/nothing-here');
    expect(answer.status).toBe(404);
    expect(answer.body.error?.code).toBe('NOT_FOUND');
    expect(answer.text).not.toMatch(/at .*\.ts:\d+/);
  });

  test('when answers are sent, then helmet headers and a request id are present', async () => {
    const answer = await client.get('/v1/banks');
    expect(answer.headers.get('x-content-type-options')).toBe('nosniff');
    expect(answer.headers.get('x-request-id')).toMatch(/^[A-Za-z0-9-]+$/);
    expect(answer.headers.get('ratelimit-policy') ?? answer.headers.get('ratelimit')).toBeTruthy();
  });

  test('when one API key sends more requests a minute than allowed, then it gets 429 RATE_LIMITED while other keys go on', async () => {
    const busy = apiCaller(baseUrl, api.keyFor('client-b'));
    const answers = [];
    for (let n = 0; n <= rateLimitPerMinute; n += 1) answers.push(await busy.get('/v1/banks'));
    expect(answers.slice(0, rateLimitPerMinute).every((answer) => answer.status === 200)).toBe(true);
    const limited = answers[rateLimitPerMinute];
    expect(limited?.status).toBe(429);
    expect(limited?.body.error?.code).toBe('RATE_LIMITED');
    expect(limited?.headers.get('ratelimit-policy')).toContain(`${rateLimitPerMinute}`);
    expect((await client.get('/v1/banks')).status).toBe(200);
  });

  test('when the OpenAPI document is read, then every route the app serves is in it', async () => {
    const document = (await http(`${baseUrl}/openapi.json`)).body as { openapi: string; paths: Record<string, Record<string, unknown>> };
    expect(document.openapi).toBe('3.1.0');
    const documented = new Set(Object.entries(document.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path}`)));
    const served = servedRoutes(api.app).map((route) => `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, '{$1}')}`);
    expect(served.length).toBeGreaterThanOrEqual(17);
    expect(served.filter((route) => !documented.has(route))).toEqual([]);
  });
});
