import { entryPageSchema, type EntryPage } from '../../../lib/contracts/account-service-contract';
import { startAccountServiceFixture, type AccountServiceFixture } from '../../support/account-service';

jest.setTimeout(300_000);

const dayMs = 86_400_000;

const startOf = (day: string): string => `${day}T00:00:00.000Z`;
const nextDay = (day: string): string => new Date(Date.parse(startOf(day)) + dayMs).toISOString().slice(0, 10);

/**
 * GET …/entries with `since` and `until`: the entries decided in a period, found by a bisection of
 * the chain, with the balance at the period's start. Money is booked on two days (the test clock
 * moved between them) on a real FerretDB.
 */
describe('account service: entries of a period on real FerretDB', () => {
  let bank: AccountServiceFixture;
  let earlyDay = '';
  let lateDay = '';

  const page = async (query: string): Promise<EntryPage> => {
    const answer = await bank.call('GET', `/v1/accounts/pia/entries?${query}`);
    expect(answer.status).toBe(200);
    return entryPageSchema.parse(answer.body);
  };

  beforeAll(async () => {
    bank = await startAccountServiceFixture('account-service-entries-in-period', 'bank-a', { ALLOW_TEST_CLOCK: 'true', TEST_CLOCK_OFFSET_MS: String(-2 * dayMs) });
    expect((await bank.call('POST', '/v1/accounts', { accountId: 'pia', owner: 'Pia', currency: 'EUR' })).status).toBe(201);
    for (let index = 1; index <= 5; index += 1) {
      expect((await bank.call('POST', '/v1/accounts/pia/deposits', { depositId: `early-${index}`, amountMinor: String(index * 100), currency: 'EUR' })).status).toBe(200);
    }
    earlyDay = (await page('limit=1&after=0')).data[0]?.createdAt.slice(0, 10) ?? '';
    await bank.restart({ TEST_CLOCK_OFFSET_MS: '0' });
    expect((await bank.call('POST', '/v1/accounts/pia/debits', { transferId: 'late-1', amountMinor: '250', currency: 'EUR' })).status).toBe(200);
    expect((await bank.call('POST', '/v1/accounts/pia/debits', { transferId: 'late-2', amountMinor: '999999', currency: 'EUR' })).status).toBe(422);
    lateDay = (await page('limit=1&after=6')).data[0]?.createdAt.slice(0, 10) ?? '';
  });

  afterAll(async () => {
    await bank?.stop();
  });

  test('when a period covers the early day, then it holds the opening entry and the five deposits, and the balance before it is 0', async () => {
    const period = await page(`since=${startOf(earlyDay)}&until=${startOf(nextDay(earlyDay))}`);
    expect(period.data.map((entry) => [entry.sequence, entry.kind, entry.amountMinor])).toEqual([
      [0, 'open', '0'],
      [1, 'deposit', '100'],
      [2, 'deposit', '200'],
      [3, 'deposit', '300'],
      [4, 'deposit', '400'],
      [5, 'deposit', '500'],
    ]);
    expect(period).toMatchObject({ balanceBeforeMinor: '0', nextCursor: null });
  });

  test('when a period starts on the late day, then it holds the debit and the refusal, and its balance before is the early close', async () => {
    const period = await page(`since=${startOf(lateDay)}&until=${startOf(nextDay(lateDay))}`);
    expect(period.data.map((entry) => [entry.sequence, entry.kind, entry.amountMinor, entry.outcome])).toEqual([
      [6, 'debit', '-250', 'APPLIED'],
      [7, 'debit', '0', 'REFUSED'],
    ]);
    expect(period.balanceBeforeMinor).toBe('1500');
  });

  test('when a period has no entries (the day between, or a day to come), then the page is empty and its balance before is the balance then', async () => {
    const between = nextDay(earlyDay) === lateDay ? undefined : nextDay(earlyDay);
    if (between !== undefined) expect(await page(`since=${startOf(between)}&until=${startOf(lateDay)}`)).toEqual({ data: [], nextCursor: null, balanceBeforeMinor: '1500' });
    expect(await page(`since=${startOf(nextDay(lateDay))}&until=${startOf(nextDay(nextDay(lateDay)))}`)).toEqual({ data: [], nextCursor: null, balanceBeforeMinor: '1250' });
  });

  test('when a period is read in pages, then the cursor stays inside it and each page carries the balance at its start', async () => {
    const bounds = `since=${startOf(earlyDay)}&until=${startOf(nextDay(earlyDay))}`;
    const first = await page(`${bounds}&limit=4`);
    expect(first.data.map((entry) => entry.sequence)).toEqual([0, 1, 2, 3]);
    expect(first).toMatchObject({ nextCursor: '3', balanceBeforeMinor: '0' });
    const second = await page(`${bounds}&limit=4&after=3`);
    expect(second.data.map((entry) => entry.sequence)).toEqual([4, 5]);
    expect(second).toMatchObject({ nextCursor: null, balanceBeforeMinor: '600' });
  });

  test('when only since is given, then the page runs to the head; without since or until the answer is as before (no balanceBeforeMinor)', async () => {
    const open = await page(`since=${startOf(lateDay)}`);
    expect(open.data.map((entry) => entry.sequence)).toEqual([6, 7]);
    const plain = (await bank.call('GET', '/v1/accounts/pia/entries?limit=2')).body as Record<string, unknown>;
    expect(Object.keys(plain).sort()).toEqual(['data', 'nextCursor']);
  });

  test('when since is not an ISO 8601 time in UTC, or the account is unknown, then 400 VALIDATION_FAILED naming it, or 404 ACCOUNT_NOT_FOUND', async () => {
    for (const since of ['2026-11-01', '2026-11-01T00:00:00+01:00', 'yesterday']) {
      const answer = await bank.call('GET', `/v1/accounts/pia/entries?since=${encodeURIComponent(since)}`);
      expect(answer.status).toBe(400);
      expect((answer.body as { error: { code: string; field?: string } }).error).toMatchObject({ code: 'VALIDATION_FAILED', field: 'since' });
    }
    const unknown = await bank.call('GET', `/v1/accounts/nobody/entries?since=${startOf(lateDay)}`);
    expect(unknown.status).toBe(404);
    expect((unknown.body as { error: { code: string } }).error.code).toBe('ACCOUNT_NOT_FOUND');
  });
});
