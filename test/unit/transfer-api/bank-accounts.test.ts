import { ApiError } from '../../../lib/http/errors';
import { signatureHeader } from '../../../lib/crypto/request-signing';
import { BankAccounts } from '../../../services/transfer-api/gateways/bank-accounts';

const apiKey = { keyId: 'api-1', secret: 's'.repeat(40) };

interface FakeBank {
  banks: BankAccounts;
  seen: Array<{ url: string; headers: Headers }>;
}

/** A BankAccounts whose one bank (bank-a) answers every call with `status` and `body`. */
function bankAnswering(status: number, body: unknown): FakeBank {
  const seen: FakeBank['seen'] = [];
  const fakeFetch = (async (url: string | URL | Request, init?: RequestInit) => {
    seen.push({ url: String(url), headers: new Headers(init?.headers) });
    return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
  }) as typeof fetch;
  return { banks: new BankAccounts([{ bankId: 'bank-a', url: 'http://bank-a.invalid' }], apiKey, 1_000, fakeFetch), seen };
}

async function refusalOf(call: Promise<unknown>): Promise<ApiError> {
  const outcome = await call.then(
    (answer) => answer,
    (error: unknown) => error,
  );
  if (!(outcome instanceof ApiError)) throw new Error(`expected an ApiError, got ${JSON.stringify(outcome)}`);
  return outcome;
}

const forbidden = { error: { code: 'FORBIDDEN', message: 'key api-1 may not use POST /v1/accounts/a-1/debits: it needs the ledger scope' } };

describe('bank accounts gateway: what a bank’s refusal of our key becomes', () => {
  test('when the bank answers 403 FORBIDDEN, then the caller gets 503 BANK_UNAVAILABLE saying the bank refused the API’s service key', async () => {
    const { banks, seen } = bankAnswering(403, forbidden);
    const refusal = await refusalOf(banks.call('bank-a', 'POST', '/v1/accounts', { accountId: 'a-1', owner: 'A', currency: 'EUR' }));
    expect([refusal.status, refusal.code]).toEqual([503, 'BANK_UNAVAILABLE']);
    expect(refusal.message).toMatch(/bank-a refused this API's service key/);
    expect(seen.map((call) => call.url)).toEqual(['http://bank-a.invalid/v1/accounts']);
    expect(seen[0]?.headers.get(signatureHeader)).toMatch(/^keyId=api-1,ts=\d+,sig=[0-9a-f]{64}$/);
  });

  test('when the bank answers 403, then the answer carries neither the secret, the key id nor the bank’s message', async () => {
    const refusal = await refusalOf(bankAnswering(403, forbidden).banks.call('bank-a', 'GET', '/v1/accounts/a-1'));
    const answer = JSON.stringify({ body: refusal.toBody(), headers: refusal.headers });
    expect(answer).not.toContain(apiKey.secret);
    expect(answer).not.toContain('api-1');
    expect(answer).not.toContain('ledger scope');
  });

  test('when the bank answers 401 UNAUTHENTICATED or 500, then 503 BANK_UNAVAILABLE as before', async () => {
    for (const status of [401, 500]) {
      const refusal = await refusalOf(bankAnswering(status, { error: { code: status === 401 ? 'UNAUTHENTICATED' : 'INTERNAL', message: 'x' } }).banks.call('bank-a', 'GET', '/v1/accounts/a-1'));
      expect([refusal.status, refusal.code, refusal.headers['retry-after']]).toEqual([503, 'BANK_UNAVAILABLE', '5']);
    }
  });

  test('when the bank answers 404 ACCOUNT_NOT_FOUND or 200, then the bank’s status and body pass through unchanged', async () => {
    const notFound = { error: { code: 'ACCOUNT_NOT_FOUND', message: 'no account a-1' } };
    const statusAndBody = async (answer: Promise<{ status: number; body: unknown }>) => {
      const { status, body } = await answer;
      return { status, body };
    };
    expect(await statusAndBody(bankAnswering(404, notFound).banks.call('bank-a', 'GET', '/v1/accounts/a-1'))).toEqual({ status: 404, body: notFound });
    expect(await statusAndBody(bankAnswering(200, { accountId: 'a-1' }).banks.call('bank-a', 'GET', '/v1/accounts/a-1'))).toEqual({ status: 200, body: { accountId: 'a-1' } });
  });
});
