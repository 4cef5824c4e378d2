import { apiCaller, type ApiCaller } from '../../support/http';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * What the API decides about settlement before anything is recorded, in-process over fakes: a
 * transfer between two banks in a currency the settlement bank does not hold is refused at once,
 * and a transfer's record fixes how it settles.
 */
describe('settlement at the transfer API edge', () => {
  let api: InProcessTransferApi;
  let operator: ApiCaller;

  beforeAll(async () => {
    api = await startInProcessTransferApi({ settlementCurrencies: ['EUR'] });
    operator = apiCaller(api.baseUrl, api.keyFor('operator'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  const body = (source: string, target: string, currency: string) => ({ source: { bankId: source, accountId: 'payer' }, target: { bankId: target, accountId: 'payee' }, amountMinor: '100', currency });

  test('when a transfer between two banks is in a currency the settlement bank does not hold, then it is 422 CURRENCY_NOT_SETTLED and nothing is recorded or started', async () => {
    const answer = await operator.post('/v1/transfers', body('bank-a', 'bank-b', 'USD'), { 'idempotency-key': 'usd-between-banks' });
    expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([422, 'CURRENCY_NOT_SETTLED', 'currency']);
    expect(answer.body.error?.message).toContain('EUR');
    expect([api.records.inserted.length, api.workflows.started.length]).toEqual([0, 0]);
  });

  test('when the same currency stays within one bank, or the transfer between banks is in a settled currency, then it is accepted and its record and input fix the settlement', async () => {
    expect((await operator.post('/v1/transfers', body('bank-a', 'bank-a', 'USD'), { 'idempotency-key': 'usd-in-bank' })).status).toBe(202);
    expect((await operator.post('/v1/transfers', body('bank-a', 'bank-b', 'EUR'), { 'idempotency-key': 'eur-between-banks' })).status).toBe(202);
    expect(api.records.inserted.map((record) => record.settlement)).toEqual([
      { model: 'deferred-net', bankId: 'settlement' },
      { model: 'deferred-net', bankId: 'settlement' },
    ]);
    expect(api.workflows.started.map((input) => input.policy.settlement)).toEqual([
      { model: 'deferred-net', bankId: 'settlement' },
      { model: 'deferred-net', bankId: 'settlement' },
    ]);
  });
});
