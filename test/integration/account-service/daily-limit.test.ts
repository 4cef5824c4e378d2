import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(300_000);

type Body = Record<string, unknown> & { error?: { code: string; field?: string }; entry?: Record<string, unknown> };

const dayMs = 86_400_000;

describe('account service: daily outgoing limits on real FerretDB', () => {
  let bank: AccountServiceFixture;

  beforeAll(async () => {
    // The test clock is allowed so that a restart can move the service a day ahead.
    bank = await startAccountServiceFixture('account-service-daily-limit', 'bank-a', { ALLOW_TEST_CLOCK: 'true', TEST_CLOCK_OFFSET_MS: '0' });
  });

  afterAll(async () => {
    await bank?.stop();
  });

  async function openFunded(accountId: string, fundsMinor: bigint, dailyDebitLimitMinor?: string): Promise<void> {
    const opened = await bank.call('POST', '/v1/accounts', { accountId, owner: `Owner ${accountId}`, currency: 'EUR', ...(dailyDebitLimitMinor === undefined ? {} : { dailyDebitLimitMinor }) });
    expect(opened.status).toBe(201);
    expect((opened.body as Body).dailyDebitLimitMinor).toBe(dailyDebitLimitMinor);
    expect((await bank.call('POST', `/v1/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(fundsMinor), currency: 'EUR' })).status).toBe(200);
  }

  const debit = (accountId: string, transferId: string, amountMinor: string) => bank.call('POST', `/v1/accounts/${accountId}/debits`, { transferId, amountMinor, currency: 'EUR' });
  const account = async (accountId: string): Promise<Body> => (await bank.call('GET', `/v1/accounts/${accountId}`)).body as Body;

  async function race(accountId: string, prefix: string, amounts: readonly bigint[]): Promise<{ appliedMinor: bigint; applied: number; refusalCodes: Set<string> }> {
    const answers = await Promise.all(amounts.map((amountMinor, index) => debit(accountId, `${prefix}-${index}`, String(amountMinor))));
    let appliedMinor = 0n;
    let applied = 0;
    const refusalCodes = new Set<string>();
    answers.forEach((answer, index) => {
      if (answer.status === 200) {
        applied += 1;
        appliedMinor += amounts[index] as bigint;
      } else {
        expect(answer.status).toBe(422);
        refusalCodes.add(String((answer.body as Body).error?.code));
        expect((answer.body as Body).entry).toMatchObject({ amountMinor: '0', outcome: 'REFUSED', code: 'DAILY_LIMIT_EXCEEDED' });
      }
    });
    return { appliedMinor, applied, refusalCodes };
  }

  test('when 200 debits of 250 race a daily limit of 10000, then exactly 40 are applied and the rest are DAILY_LIMIT_EXCEEDED', async () => {
    await openFunded('even', 1_000_000n, '10000');
    const result = await race('even', 'even', Array.from({ length: 200 }, () => 250n));
    expect(result).toEqual({ appliedMinor: 10_000n, applied: 40, refusalCodes: new Set(['DAILY_LIMIT_EXCEEDED']) });
    expect(await account('even')).toMatchObject({ balanceMinor: '990000', dayDebitedMinor: '10000', dailyDebitLimitMinor: '10000' });
  });

  test('when 200 debits of uneven amounts race a daily limit, then the applied sum never passes it and the smallest refused did not fit', async () => {
    await openFunded('uneven', 10_000_000n, '12345');
    const amounts = Array.from({ length: 200 }, (_, index) => BigInt(37 + ((index * 7919) % 461)));
    const result = await race('uneven', 'uneven', amounts);
    expect(result.appliedMinor).toBeLessThanOrEqual(12_345n);
    expect(result.applied).toBeGreaterThan(0);
    expect(result.refusalCodes).toEqual(new Set(['DAILY_LIMIT_EXCEEDED']));
    const view = await account('uneven');
    expect(view.dayDebitedMinor).toBe(String(result.appliedMinor));
    expect(view.balanceMinor).toBe(String(10_000_000n - result.appliedMinor));
    // Every refusal was decided against the running total: the one that came last could not fit.
    expect(12_345n - result.appliedMinor).toBeLessThan(37n + 461n);
  });

  test('when a debit of today is refunded, then its amount is available again the same day', async () => {
    await openFunded('refunded', 100_000n, '1000');
    expect((await debit('refunded', 'r-1', '1000')).status).toBe(200);
    expect((await debit('refunded', 'r-2', '1')).status).toBe(422);
    const refund = await bank.call('POST', '/v1/accounts/refunded/refunds', { transferId: 'r-1' });
    expect(refund.status).toBe(200);
    expect(refund.body).toMatchObject({ kind: 'refund', amountMinor: '1000', dayDebitedMinor: '0' });
    expect((await debit('refunded', 'r-3', '1000')).status).toBe(200);
    expect(await account('refunded')).toMatchObject({ balanceMinor: '99000', dayDebitedMinor: '1000' });
  });

  test('when the limit is changed through the chain, then later debits see it; bad input is 400 and changes nothing', async () => {
    await openFunded('changed', 100_000n);
    expect((await debit('changed', 'c-1', '700')).status).toBe(200);
    const set = await bank.call('POST', '/v1/accounts/changed/daily-limit', { changeId: 'limit-1000', dailyDebitLimitMinor: '1000' });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ dailyDebitLimitMinor: '1000', dayDebitedMinor: '700' });
    const refused = await debit('changed', 'c-2', '301');
    expect(refused.status).toBe(422);
    expect((refused.body as Body).error?.code).toBe('DAILY_LIMIT_EXCEEDED');
    for (const bad of ['-5', 'ten', 12, '1.5', '']) {
      const answer = await bank.call('POST', '/v1/accounts/changed/daily-limit', { changeId: 'limit-bad', dailyDebitLimitMinor: bad });
      expect(answer.status).toBe(400);
      expect((answer.body as Body).error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'dailyDebitLimitMinor' });
    }
    expect(await account('changed')).toMatchObject({ dailyDebitLimitMinor: '1000' });
    const removed = await bank.call('POST', '/v1/accounts/changed/daily-limit', { changeId: 'limit-none', dailyDebitLimitMinor: null });
    expect(removed.status).toBe(200);
    expect((removed.body as Body).dailyDebitLimitMinor).toBeUndefined();
    expect((await debit('changed', 'c-3', '5000')).status).toBe(200);
  });

  test('when the day rolls over (test clock a day ahead), then the limit is available again and a refund of yesterday does not lower today', async () => {
    await openFunded('rolled', 100_000n, '500');
    expect((await debit('rolled', 'y-1', '500')).status).toBe(200);
    expect((await debit('rolled', 'y-2', '1')).status).toBe(422);
    await bank.restart({ TEST_CLOCK_OFFSET_MS: String(dayMs) });
    expect(await account('rolled')).toMatchObject({ dayDebitedMinor: '0' });
    const today = await debit('rolled', 't-1', '400');
    expect(today.status).toBe(200);
    const yesterday = (await bank.call('GET', '/v1/accounts/rolled/entries?limit=50')).body as { data: Array<Record<string, unknown>> };
    const yesterdayDay = yesterday.data.find((entry) => entry.operationId === 'y-1:debit')?.day;
    expect(today.body).toMatchObject({ dayDebitedMinor: '400' });
    expect((today.body as Body).day).not.toBe(yesterdayDay);
    // Yesterday's debit refunded today: the money comes back, today's total stays 400.
    const refund = await bank.call('POST', '/v1/accounts/rolled/refunds', { transferId: 'y-1' });
    expect(refund.body).toMatchObject({ kind: 'refund', amountMinor: '500', dayDebitedMinor: '400' });
    expect((await debit('rolled', 't-2', '101')).status).toBe(422);
    expect((await debit('rolled', 't-3', '100')).status).toBe(200);
    expect(await account('rolled')).toMatchObject({ balanceMinor: '99500', dayDebitedMinor: '500' });
  });
});
