import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createAccountActivities } from '../../../activities/account-activities';
import { AccountServiceClient, requestTimeoutHeader } from '../../../lib/clients/account-service-client';
import { httpStatusByCode, isBusinessRefusal } from '../../../lib/contracts/error-codes';

const signingKey = { keyId: 'k', secret: 's'.repeat(40) };

describe('OVERLOADED: a full account queue, retried by the saga', () => {
  test('when the code is looked up, then it is 503 and no business refusal', () => {
    expect([httpStatusByCode.OVERLOADED, isBusinessRefusal('OVERLOADED')]).toEqual([503, false]);
  });

  test('when a bank answers a debit 503 OVERLOADED, then the activity fails retryable (BANK_UNAVAILABLE)', async () => {
    const overloaded: typeof fetch = async () => new Response(JSON.stringify({ error: { code: 'OVERLOADED', message: 'queue full' } }), { status: 503, headers: { 'content-type': 'application/json', 'retry-after': '1' } });
    const activities = createAccountActivities({ banks: [{ bankId: 'bank-a', url: 'http://bank-a.invalid' }], signingKey, requestTimeoutMs: 1_000, fetch: overloaded });
    const leg = { bankId: 'bank-a', accountId: 'alice', transferId: 't1', amountMinor: '250', currency: 'EUR' };
    const failure: unknown = await new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') }).run(() => activities.debit(leg)).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect([(failure as ApplicationFailure).type, (failure as ApplicationFailure).nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
  });

  test('when the client calls an account service, then it sends its own timeout as the relative deadline header', async () => {
    const sent: Array<string | null> = [];
    const recording: typeof fetch = async (_url, init) => {
      sent.push(new Headers(init?.headers).get(requestTimeoutHeader));
      return new Response('{}', { status: 200 });
    };
    const client = new AccountServiceClient({ bankId: 'bank-a', baseUrl: 'http://bank-a.invalid', signingKey, requestTimeoutMs: 4_321, fetch: recording });
    await client.request('GET', '/v1/accounts/alice');
    await client.request('POST', '/v1/accounts/alice/debits', { transferId: 't1' });
    expect(sent).toEqual(['4321', '4321']);
  });
});
