import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(300_000);

type Body = { error?: { code: string }; entry?: Record<string, unknown>; day?: string; dayDebitedMinor?: string };

const minuteMs = 60_000;
const dayMs = 86_400_000;

/** The offset that puts a process's clock `minutesFromMidnight` from the coming UTC midnight. */
function offsetAround(midnight: number, minutesFromMidnight: number): number {
  return midnight + minutesFromMidnight * minuteMs - Date.now();
}

/**
 * Two processes on one database whose clocks differ by 15 minutes across midnight: one is still on
 * the day before, the other already on the next. Before a chain's day only moved forward, each took
 * the other's entries for another day and started the total again: 400 debited against 100.
 */
describe('account service: a daily limit holds across midnight whatever the clocks of its processes', () => {
  let late: AccountServiceFixture;
  let early: { url: string; call: AccountServiceFixture['call'] };
  let nextDay: string;

  beforeAll(async () => {
    const midnight = Math.ceil((Date.now() + minuteMs) / dayMs) * dayMs;
    nextDay = new Date(midnight).toISOString().slice(0, 10);
    // The first process runs 5 minutes past midnight and starts the second like itself, then is restarted 10 minutes before it.
    late = await startAccountServiceFixture('account-service-clock-skew', 'bank-a', { ALLOW_TEST_CLOCK: 'true', TEST_CLOCK_OFFSET_MS: String(offsetAround(midnight, 5)) });
    early = await late.startSecondProcess();
    await late.restart({ TEST_CLOCK_OFFSET_MS: String(offsetAround(midnight, -10)) });
  });

  afterAll(async () => {
    await late?.stop();
  });

  test('when two processes 15 minutes apart across midnight take turns debiting, then one debit of 100 is applied against the limit of 100 and the rest are DAILY_LIMIT_EXCEEDED', async () => {
    expect((await late.call('POST', '/v1/accounts', { accountId: 'skewed', owner: 'Skewed', currency: 'EUR', dailyDebitLimitMinor: '100' })).status).toBe(201);
    expect((await late.call('POST', '/v1/accounts/skewed/deposits', { depositId: 'seed', amountMinor: '10000', currency: 'EUR' })).status).toBe(200);
    const answers: Array<[string, number, string | undefined, unknown]> = [];
    for (let turn = 0; turn < 8; turn += 1) {
      const [name, process] = turn % 2 === 0 ? ['ahead', early] : ['behind', late];
      const answer = await process.call('POST', '/v1/accounts/skewed/debits', { transferId: `turn-${turn}`, amountMinor: '100', currency: 'EUR' });
      const body = answer.body as Body;
      answers.push([name, answer.status, body.error?.code, (body.entry ?? body).day]);
    }
    expect(answers).toEqual([
      ['ahead', 200, undefined, nextDay],
      ...Array.from({ length: 7 }, (_, index): [string, number, string, string] => [index % 2 === 0 ? 'behind' : 'ahead', 422, 'DAILY_LIMIT_EXCEEDED', nextDay]),
    ]);
    for (const process of [late, early]) {
      expect((await process.call('GET', '/v1/accounts/skewed')).body).toMatchObject({ balanceMinor: '9900', dayDebitedMinor: '100', dailyDebitLimitMinor: '100', sequence: 9 });
    }
  });
});
