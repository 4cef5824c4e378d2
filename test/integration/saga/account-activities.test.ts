import { createServer, type Server } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createAccountActivities, type LegResult } from '../../../activities/account-activities';
import { findFreePort } from '../../../infra/ports';
import { startAccountServiceFixture, testSigningKey, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(120_000);

describe('account activities against a real account service', () => {
  let bank: AccountServiceFixture;
  let silent: Server;
  let silentPort: number;
  let closedPort: number;

  beforeAll(async () => {
    bank = await startAccountServiceFixture('saga-activities');
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'payer', owner: 'Payer', currency: 'EUR' })).status).toBe(201);
    expect((await bank.call('POST', '/v1/accounts/payer/deposits', { depositId: 'seed', amountMinor: '1000', currency: 'EUR' })).status).toBe(200);
    // Accepts connections and never answers: a bank that hangs.
    silentPort = await findFreePort();
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(silentPort, '127.0.0.1', resolve));
    closedPort = await findFreePort();
  });

  afterAll(async () => {
    silent?.closeAllConnections();
    silent?.close();
    await bank?.stop();
  });

  function activities(url = bank.url, signingKey = testSigningKey) {
    return createAccountActivities({ banks: [{ bankId: 'bank-a', url }], signingKey, requestTimeoutMs: 1_000 });
  }

  async function failureOf(run: () => Promise<LegResult>): Promise<ApplicationFailure> {
    const error = await new MockActivityEnvironment().run(run).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApplicationFailure);
    return error as ApplicationFailure;
  }

  const leg = { bankId: 'bank-a', accountId: 'payer', amountMinor: '300', currency: 'EUR' };

  test('when a signed debit is applied, then the activity returns its decision (no balance, no amount) and its attempt', async () => {
    const result: LegResult = await new MockActivityEnvironment().run(() => activities().debit({ ...leg, transferId: 'act-1' }));
    expect(result).toEqual({ entry: { operationId: 'act-1:debit', kind: 'debit', outcome: 'APPLIED' }, attempt: 1 });
  });

  test('when the ledger refuses, then a non-retryable failure typed with the code carries the refusal entry', async () => {
    const failure = await failureOf(() => activities().debit({ ...leg, transferId: 'act-2', amountMinor: '5000' }));
    expect(failure.type).toBe('INSUFFICIENT_FUNDS');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.details?.[0]).toEqual({ operationId: 'act-2:debit', kind: 'debit', outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
  });

  test('when the account does not exist, then ACCOUNT_NOT_FOUND is non-retryable', async () => {
    const failure = await failureOf(() => activities().credit({ ...leg, accountId: 'ghost', transferId: 'act-3' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['ACCOUNT_NOT_FOUND', true]);
  });

  test('when the worker signs with a key the bank does not accept, then the failure is retryable (an operator can fix keys)', async () => {
    const failure = await failureOf(() => activities(bank.url, { keyId: 'rogue', secret: 'r'.repeat(40) }).debit({ ...leg, transferId: 'act-4' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
    expect(failure.message).toContain('401');
  });

  test('when nothing listens at the bank, then the failure is retryable BANK_UNAVAILABLE', async () => {
    const failure = await failureOf(() => activities(`http://127.0.0.1:${closedPort}`).debit({ ...leg, transferId: 'act-5' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
  });

  test('when the bank does not answer within the request timeout, then the failure is retryable BANK_UNAVAILABLE', async () => {
    const startedAt = Date.now();
    const failure = await failureOf(() => activities(`http://127.0.0.1:${silentPort}`).refund({ bankId: 'bank-a', accountId: 'payer', transferId: 'act-6' }));
    expect([failure.type, failure.nonRetryable]).toEqual(['BANK_UNAVAILABLE', false]);
    expect(failure.message).toContain('no answer within 1000 ms');
    expect(Date.now() - startedAt).toBeLessThan(10_000);
  });

  test('when a refund and a credit-void run for a transfer that never reached the bank, then both void their slots', async () => {
    const env = new MockActivityEnvironment();
    const refund: LegResult = await env.run(() => activities().refund({ bankId: 'bank-a', accountId: 'payer', transferId: 'act-7' }));
    expect(refund.entry).toMatchObject({ operationId: 'act-7:debit', kind: 'void' });
    const voided: LegResult = await env.run(() => activities().voidCredit({ bankId: 'bank-a', accountId: 'payer', transferId: 'act-7' }));
    expect(voided.entry).toMatchObject({ operationId: 'act-7:credit', kind: 'void' });
    const lateDebit = await failureOf(() => activities().debit({ ...leg, transferId: 'act-7' }));
    expect([lateDebit.type, lateDebit.nonRetryable]).toEqual(['TRANSFER_VOIDED', true]);
  });
});
