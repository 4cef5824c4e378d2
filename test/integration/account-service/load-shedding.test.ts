import { AccountServiceUnreachableError, AccountServiceClient, requestTimeoutHeader } from '../../../lib/clients/account-service-client';
import { signatureHeader, signRequest } from '../../../lib/crypto/request-signing';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';
import { http, type HttpAnswer } from '../../support/http';

jest.setTimeout(240_000);

const queueDepthMax = 5;
const lingerMs = 1_000;

describe("account service: bounded queues and callers' deadlines on real FerretDB", () => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    // Every idle account's first operation waits a whole second for company: the queue fills meanwhile.
    bank = await startAccountServiceFixture('account-service-load-shedding', 'bank-a', { LEDGER_BATCH_LINGER_MS: String(lingerMs), LEDGER_QUEUE_DEPTH_MAX: String(queueDepthMax) });
  });

  afterAll(async () => {
    await bank?.stop();
  });

  async function openFunded(accountId: string): Promise<void> {
    expect((await bank.call('POST', '/v1/accounts', { accountId, owner: `Owner ${accountId}`, currency: 'EUR' })).status).toBe(201);
    expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: '1000', currency: 'EUR' })).status).toBe(200);
  }

  /** A signed POST with the headers given, as a caller other than the house client would send it. */
  function signedPost(path: string, payload: unknown, headers: Record<string, string>): Promise<HttpAnswer> {
    const body = JSON.stringify(payload);
    const signature = signRequest(testSigningKey, { bankId: bank.bankId, method: 'POST', pathWithQuery: path, body });
    return http(`${bank.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json', [signatureHeader]: signature, ...headers } });
  }

  async function operationIdsOf(accountId: string): Promise<string[]> {
    const page = (await bank.call('GET', `/v1/accounts/${accountId}/entries?limit=500`)).body as { data: Array<{ operationId: string }> };
    return page.data.map((entry) => entry.operationId);
  }

  test('when a burst beyond the queue bound hits one account, then the rest are 503 OVERLOADED with Retry-After at once and the chain holds exactly the accepted ones', async () => {
    await openFunded('burst');
    const path = '/v1/accounts/burst/debits';
    const answers = await Promise.all(Array.from({ length: 40 }, (_, n) => signedPost(path, { transferId: `burst-${n}`, amountMinor: '7', currency: 'EUR' }, {})));
    const accepted = answers.flatMap((answer, n) => (answer.status === 200 ? [`burst-${n}:debit`] : []));
    const shed = answers.filter((answer) => answer.status !== 200);
    expect(shed.map((answer) => [answer.status, answer.body.error?.code, answer.headers.get('retry-after')])).toEqual(Array.from({ length: 40 - queueDepthMax }, () => [503, 'OVERLOADED', '1']));
    expect(accepted).toHaveLength(queueDepthMax);
    expect(await operationIdsOf('burst')).toEqual(['open', 'seed-burst:deposit', ...accepted]);
    expect((await bank.call('GET', '/v1/accounts/burst')).body).toMatchObject({ balanceMinor: String(1000 - 7 * queueDepthMax), sequence: 1 + queueDepthMax });
  });

  test("when a caller's deadline passes while its debit waits behind a slow batch, then it is answered 503 OVERLOADED and never decided", async () => {
    await openFunded('late');
    const answer = await signedPost('/v1/accounts/late/debits', { transferId: 'late-1', amountMinor: '7', currency: 'EUR' }, { [requestTimeoutHeader]: '200' });
    expect([answer.status, answer.body.error?.code, answer.headers.get('retry-after')]).toEqual([503, 'OVERLOADED', '1']);
    expect((await bank.call('GET', '/v1/accounts/late/operations/late-1:debit')).status).toBe(404);
    expect(await operationIdsOf('late')).toEqual(['open', 'seed-late:deposit']);
    // Asked again with time to wait, it is decided once, now.
    expect((await bank.call('POST', '/v1/accounts/late/debits', { transferId: 'late-1', amountMinor: '7', currency: 'EUR' })).status).toBe(200);
    expect((await bank.call('GET', '/v1/accounts/late')).body).toMatchObject({ balanceMinor: '993', sequence: 2 });
  });

  test('when the caller gives up and closes its request while the debit is queued, then the debit is never decided', async () => {
    await openFunded('gone');
    const impatient = new AccountServiceClient({ bankId: bank.bankId, baseUrl: bank.url, signingKey: testSigningKey, requestTimeoutMs: 300 });
    const failure = await impatient.request('POST', '/v1/accounts/gone/debits', { transferId: 'gone-1', amountMinor: '7', currency: 'EUR' }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AccountServiceUnreachableError);
    expect((failure as AccountServiceUnreachableError).timedOut).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, lingerMs + 500));
    expect(await operationIdsOf('gone')).toEqual(['open', 'seed-gone:deposit']);
    expect((await bank.call('GET', '/v1/accounts/gone')).body).toMatchObject({ balanceMinor: '1000', sequence: 1 });
  });

  test(`when ${requestTimeoutHeader} is not a whole number of milliseconds, then 400 VALIDATION_FAILED naming it, and nothing is decided`, async () => {
    await openFunded('malformed');
    for (const value of ['0', '-5', '1.5', 'soon', '99999999999']) {
      const answer = await signedPost('/v1/accounts/malformed/debits', { transferId: 'malformed-1', amountMinor: '7', currency: 'EUR' }, { [requestTimeoutHeader]: value });
      expect([value, answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([value, 400, 'VALIDATION_FAILED', requestTimeoutHeader]);
    }
    expect(await operationIdsOf('malformed')).toEqual(['open', 'seed-malformed:deposit']);
  });
});
