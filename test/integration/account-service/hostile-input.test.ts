import { createHash, createHmac } from 'node:crypto';
import { signRequest } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import { http } from '../../support/http';

jest.setTimeout(120_000);

/** Counts every document the service keeps, to show that a refused request wrote nothing. */
async function documentCount(bank: AccountServiceFixture): Promise<number> {
  let total = 0;
  for (const name of ['accounts', 'entries', 'pointers']) total += await bank.db.collection(name).countDocuments({});
  return total;
}

describe('account service: hostile input and signatures', () => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-hostile');
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'victim', owner: 'Victim', currency: 'EUR' })).status).toBe(201);
    expect((await bank.call('POST', '/v1/accounts/victim/deposits', { depositId: 'seed', amountMinor: '1000', currency: 'EUR' })).status).toBe(200);
  });

  afterAll(async () => {
    await bank?.stop();
  });

  const hostile: Array<[string, string, unknown]> = [
    ['an operator object as the account id', '/v1/accounts', { accountId: { $gt: '' }, owner: 'x', currency: 'EUR' }],
    ['an operator object as the owner', '/v1/accounts', { accountId: 'new-1', owner: { $ne: null }, currency: 'EUR' }],
    ['an account id starting with a dot', '/v1/accounts', { accountId: '.hidden', owner: 'x', currency: 'EUR' }],
    ['an account id of 65 characters', '/v1/accounts', { accountId: 'a'.repeat(65), owner: 'x', currency: 'EUR' }],
    ['an account id with a $', '/v1/accounts', { accountId: 'a$b', owner: 'x', currency: 'EUR' }],
    ['an empty owner', '/v1/accounts', { accountId: 'new-2', owner: '', currency: 'EUR' }],
    ['an owner of 201 characters', '/v1/accounts', { accountId: 'new-3', owner: 'o'.repeat(201), currency: 'EUR' }],
    ['a lower-case currency', '/v1/accounts', { accountId: 'new-4', owner: 'x', currency: 'eur' }],
    ['a negative overdraft limit', '/v1/accounts', { accountId: 'new-5', owner: 'x', currency: 'EUR', overdraftLimitMinor: '-1' }],
    ['an unknown field', '/v1/accounts', { accountId: 'new-6', owner: 'x', currency: 'EUR', balanceMinor: '1000000' }],
    ['a __proto__ field', '/v1/accounts', JSON.parse('{"accountId":"new-7","owner":"x","currency":"EUR","__proto__":{"admin":true}}') as unknown],
    ['an array body', '/v1/accounts', [{ accountId: 'new-8', owner: 'x', currency: 'EUR' }]],
    ['a string body', '/v1/accounts', 'victim'],
    ['a null body', '/v1/accounts', null],
    ['an amount of zero', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '0', currency: 'EUR' }],
    ['a negative amount', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '-10', currency: 'EUR' }],
    ['a numeric amount', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: 10, currency: 'EUR' }],
    ['a decimal amount', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '10.5', currency: 'EUR' }],
    ['an amount with a leading zero', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '010', currency: 'EUR' }],
    ['an amount of 19 digits', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '1000000000000000000', currency: 'EUR' }],
    ['an amount in exponent form', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '1e3', currency: 'EUR' }],
    ['an amount with spaces', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: ' 10', currency: 'EUR' }],
    ['a hex amount', '/v1/accounts/victim/debits', { transferId: 't1', amountMinor: '0x10', currency: 'EUR' }],
    ['an operator object as the transfer id', '/v1/accounts/victim/debits', { transferId: { $gt: '' }, amountMinor: '10', currency: 'EUR' }],
    ['a transfer id with a colon', '/v1/accounts/victim/debits', { transferId: 't1:credit', amountMinor: '10', currency: 'EUR' }],
    ['a missing currency', '/v1/accounts/victim/credits', { transferId: 't1', amountMinor: '10' }],
    ['a missing transfer id', '/v1/accounts/victim/refunds', {}],
    ['an extra field on a refund', '/v1/accounts/victim/refunds', { transferId: 't1', amountMinor: '10' }],
    ['an operator object as a deposit id', '/v1/accounts/victim/deposits', { depositId: { $where: 'sleep(1000)' }, amountMinor: '10', currency: 'EUR' }],
    ['a status in the body of a freeze', '/v1/accounts/victim/freeze', { changeId: 'c-1', status: 'ACTIVE' }],
    ['a freeze without a change id', '/v1/accounts/victim/freeze', {}],
    ['an operator object as the change id of an unfreeze', '/v1/accounts/victim/unfreeze', { changeId: { $ne: null } }],
    ['a change id with a colon on a close', '/v1/accounts/victim/close', { changeId: 'c:admin' }],
    ['a daily limit without a change id', '/v1/accounts/victim/daily-limit', { dailyDebitLimitMinor: '1' }],
    ['an account id with a NUL in the path', '/v1/accounts/vic%00tim/debits', { transferId: 't1', amountMinor: '10', currency: 'EUR' }],
    ['an account id with a $ in the path', '/v1/accounts/$victim/credits', { transferId: 't1', amountMinor: '10', currency: 'EUR' }],
    ['an encoded slash in the account id', '/v1/accounts/vic%2Ftim/debits', { transferId: 't1', amountMinor: '10', currency: 'EUR' }],
    ['an operator object as the currency', '/v1/accounts/victim/credits', { transferId: 't1', amountMinor: '10', currency: { $ne: 'USD' } }],
    ['a numeric overdraft limit', '/v1/accounts', { accountId: 'new-9', owner: 'x', currency: 'EUR', overdraftLimitMinor: 100 }],
    ['an amount on a credit-void', '/v1/accounts/victim/credit-voids', { transferId: 't1', amountMinor: '10' }],
    ['an array as the transfer id of a credit-void', '/v1/accounts/victim/credit-voids', { transferId: ['t1'] }],
  ];

  // Queries of the entry listing: the cursor and the page size are the only fields, and strict.
  const hostileQueries: Array<[string, string]> = [
    ['a page size of 0', '?limit=0'],
    ['a page size above the maximum', '?limit=501'],
    ['a page size that is not a number', '?limit=ten'],
    ['an operator in the page size', '?limit[$gt]=1'],
    ['a negative cursor', '?after=-1'],
    ['a cursor in exponent form', '?after=1e3'],
    ['a cursor given twice', '?after=1&after=2'],
    ['an unknown query field', '?cursor=3'],
  ];

  test.each(hostile)('when a request has %s, then it is 400 VALIDATION_FAILED and nothing is written', async (_name, path, body) => {
    const before = await documentCount(bank);
    const answer = await bank.call('POST', path, body);
    expect(answer.status).toBe(400);
    expect((answer.body as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
    expect(JSON.stringify(answer.body)).not.toMatch(/at .*\.ts:\d+/);
    expect(await documentCount(bank)).toBe(before);
  });

  test.each(hostileQueries)('when the entry listing is asked with %s, then it is 400 VALIDATION_FAILED', async (_name, query) => {
    const answer = await bank.call('GET', `/v1/accounts/victim/entries${query}`);
    expect(answer.status).toBe(400);
    expect((answer.body as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });

  function signedHeaders(method: string, path: string, body: string, key = testSigningKey, ts?: number): Record<string, string> {
    return { 'x-signature': signRequest(key, { bankId: 'bank-a', method, pathWithQuery: path, body }, ts) };
  }

  test('when the body is not JSON, then 415 UNSUPPORTED_MEDIA_TYPE and nothing is written', async () => {
    const before = await documentCount(bank);
    const body = 'transferId=t1&amountMinor=10';
    const answer = await http(`${bank.url}/v1/accounts/victim/debits`, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...signedHeaders('POST', '/v1/accounts/victim/debits', body) } });
    expect(answer.status).toBe(415);
    expect(answer.body.error?.code).toBe('UNSUPPORTED_MEDIA_TYPE');
    expect(await documentCount(bank)).toBe(before);
  });

  test('when the JSON is malformed, then 400 VALIDATION_FAILED and nothing is written', async () => {
    const before = await documentCount(bank);
    const body = '{"transferId": "t1", ';
    const answer = await http(`${bank.url}/v1/accounts/victim/debits`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signedHeaders('POST', '/v1/accounts/victim/debits', body) } });
    expect(answer.status).toBe(400);
    expect(answer.body.error?.code).toBe('VALIDATION_FAILED');
    expect(await documentCount(bank)).toBe(before);
  });

  test('when the body is larger than 16 KiB, then 413 PAYLOAD_TOO_LARGE and nothing is written', async () => {
    const before = await documentCount(bank);
    const body = JSON.stringify({ accountId: 'big', owner: 'x'.repeat(17 * 1024), currency: 'EUR' });
    const answer = await http(`${bank.url}/v1/accounts`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...signedHeaders('POST', '/v1/accounts', body) } });
    expect(answer.status).toBe(413);
    expect(answer.body.error?.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await documentCount(bank)).toBe(before);
  });

  describe('signatures', () => {
    const path = '/v1/accounts/victim/debits';
    const body = JSON.stringify({ transferId: 'sig-1', amountMinor: '10', currency: 'EUR' });
    const now = Math.floor(Date.now() / 1000);
    const validSig = (ts: number, secret = testSigningKey.secret, signedBody = body, signedPath = path) => {
      const canonical = `POST\n${signedPath}\n${ts}\n${createHash('sha256').update(signedBody).digest('hex')}`;
      return createHmac('sha256', secret).update(canonical).digest('hex');
    };
    const cases: Array<[string, Record<string, string>]> = [
      ['no signature', {}],
      ['a malformed signature', { 'x-signature': 'keyId=test-1,sig=abc' }],
      ['an unknown key id', { 'x-signature': `keyId=nobody,ts=${now},sig=${validSig(now)}` }],
      ['a signature made with a wrong secret', { 'x-signature': `keyId=test-1,ts=${now},sig=${validSig(now, 'w'.repeat(40))}` }],
      ['a stale timestamp (6 minutes old)', { 'x-signature': `keyId=test-1,ts=${now - 360},sig=${validSig(now - 360)}` }],
      ['a future timestamp (6 minutes ahead)', { 'x-signature': `keyId=test-1,ts=${now + 360},sig=${validSig(now + 360)}` }],
      ['a signature over another body', { 'x-signature': `keyId=test-1,ts=${now},sig=${validSig(now, testSigningKey.secret, '{}')}` }],
      ['a signature over another path', { 'x-signature': `keyId=test-1,ts=${now},sig=${validSig(now, testSigningKey.secret, body, '/v1/accounts/other/debits')}` }],
    ];

    test.each(cases)('when a request carries %s, then 401 UNAUTHENTICATED and nothing is written', async (_name, headers) => {
      const before = await documentCount(bank);
      const answer = await http(`${bank.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
      expect(answer.status).toBe(401);
      expect(answer.body.error?.code).toBe('UNAUTHENTICATED');
      expect(await documentCount(bank)).toBe(before);
    });

    test('when a request is signed with the second (rotated-in) key, then it is accepted', async () => {
      const oldKey = { keyId: 'old-key', secret: 'o'.repeat(40) };
      const answer = await http(`${bank.url}/v1/whoami`, { headers: signedHeaders('GET', '/v1/whoami', '', oldKey) });
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ bankId: 'bank-a', keyId: 'old-key' });
    });

    test('when health, readiness and metrics are read, then no signature is needed', async () => {
      for (const probe of ['/healthz', '/readyz', '/metrics']) expect((await http(`${bank.url}${probe}`)).status).toBe(200);
      expect((await http(`${bank.url}/metrics`)).text).toContain('ledger_decisions_total');
    });
  });

  test('when every hostile request has been refused, then the victim still holds exactly its deposit', async () => {
    const victim = (await bank.call('GET', '/v1/accounts/victim')).body as { balanceMinor: string; sequence: number };
    expect(victim).toMatchObject({ balanceMinor: '1000', sequence: 1 });
  });
});
