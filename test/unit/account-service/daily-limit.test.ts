import { decide, decideBatch, openingEntry } from '../../../services/account-service/ledger/decide';
import { dayOfInTimeZone } from '../../../services/account-service/ledger/ledger';
import type { AccountDocument, Head, Operation } from '../../../services/account-service/ledger/model';
import { loadConfig } from '../../../services/account-service/config';

const now = '2026-11-29T10:00:00.000Z';
const today = '2026-11-29';
const account: AccountDocument = { _id: 'acct', owner: 'Owner', currency: 'EUR', overdraftLimitMinor: 0n, createdAt: now, headSeq: 0 };
const limited = (dailyDebitLimitMinor: bigint | undefined, dayDebitedMinor?: bigint, day: string | undefined = today): Head => ({
  seq: 7,
  balanceAfterMinor: 1_000_000n,
  statusAfter: 'ACTIVE',
  ...(dailyDebitLimitMinor === undefined ? {} : { dailyDebitLimitMinor }),
  ...(dayDebitedMinor === undefined ? {} : { dayDebitedMinor, day }),
});
const debit = (amountMinor: bigint, id = 't'): Operation => ({ operationId: `${id}:debit`, kind: 'debit', amountMinor, currency: 'EUR' });
const refund = (amountMinor: bigint, debitDay: string): Operation => ({ operationId: 't:refund', kind: 'refund', amountMinor, currency: 'EUR', debitDay });

describe('decide: the daily outgoing limit, decided in the chain', () => {
  test('when a debit fits under the limit, then it is applied and the entry carries the day and its running total', () => {
    expect(decide(account, limited(100n, 60n), debit(40n), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: -40n, day: today, dayDebitedMinor: 100n, dailyDebitLimitMinor: 100n });
  });

  test('when a debit would pass the limit by one minor unit, then it is a zero-amount DAILY_LIMIT_EXCEEDED refusal that keeps the total', () => {
    expect(decide(account, limited(100n, 60n), debit(41n), now)).toMatchObject({ outcome: 'REFUSED', code: 'DAILY_LIMIT_EXCEEDED', amountMinor: 0n, balanceAfterMinor: 1_000_000n, dayDebitedMinor: 60n, dailyDebitLimitMinor: 100n });
  });

  test('when the funds are short too, then INSUFFICIENT_FUNDS wins (the balance is checked first)', () => {
    expect(decide(account, { ...limited(10n, 0n), balanceAfterMinor: 5n }, debit(20n), now)).toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
  });

  test('when the head is of an earlier day, then the running total starts again at 0', () => {
    expect(decide(account, limited(100n, 100n, '2026-11-28'), debit(100n), now)).toMatchObject({ outcome: 'APPLIED', day: today, dayDebitedMinor: 100n });
  });

  test('when the head predates daily limits (no day, no total), then its total counts as 0', () => {
    const old: Head = { seq: 3, balanceAfterMinor: 500n, statusAfter: 'ACTIVE', dailyDebitLimitMinor: 50n };
    expect(decide(account, old, debit(50n), now)).toMatchObject({ outcome: 'APPLIED', dayDebitedMinor: 50n });
    expect(decide(account, { seq: 3, balanceAfterMinor: 500n, statusAfter: 'ACTIVE' }, debit(500n), now)).toMatchObject({ outcome: 'APPLIED', dayDebitedMinor: 500n });
  });

  test('when the account has no limit, then debits are applied and still counted', () => {
    const entry = decide(account, limited(undefined, 900n), debit(100n), now);
    expect(entry).toMatchObject({ outcome: 'APPLIED', dayDebitedMinor: 1000n });
    expect(entry.dailyDebitLimitMinor).toBeUndefined();
  });

  test('when a refund reverses a debit of the same day, then the amount goes back to the day total', () => {
    expect(decide(account, limited(100n, 100n), refund(30n, today), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 30n, dayDebitedMinor: 70n });
  });

  test("when a refund reverses a debit of an earlier day, then today's total is not reduced", () => {
    expect(decide(account, limited(100n, 80n), refund(30n, '2026-11-28'), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 30n, dayDebitedMinor: 80n });
  });

  test('when credits and deposits land, then the day total does not change', () => {
    expect(decide(account, limited(100n, 80n), { ...debit(500n), operationId: 'x:credit', kind: 'credit' }, now)).toMatchObject({ dayDebitedMinor: 80n });
  });

  test('when a limit entry sets, lowers or removes the limit, then later debits are decided against the new one', () => {
    const lowered = decide(account, limited(100n, 60n), { operationId: 'limit@8', kind: 'limit', amountMinor: 0n, currency: 'EUR', dailyDebitLimitMinor: 50n }, now);
    expect(lowered).toMatchObject({ kind: 'limit', outcome: 'APPLIED', amountMinor: 0n, dailyDebitLimitMinor: 50n, dayDebitedMinor: 60n });
    expect(decide(account, lowered, debit(1n), now)).toMatchObject({ code: 'DAILY_LIMIT_EXCEEDED' });
    const removed = decide(account, lowered, { operationId: 'limit@9', kind: 'limit', amountMinor: 0n, currency: 'EUR', dailyDebitLimitMinor: null }, now);
    expect(removed.dailyDebitLimitMinor).toBeUndefined();
    expect(decide(account, removed, debit(10_000n), now)).toMatchObject({ outcome: 'APPLIED' });
  });

  test('when a batch of debits races one limit, then exactly the ones that fit are applied, in order', () => {
    const operations = Array.from({ length: 30 }, (_, index) => debit(7n, `d${index}`));
    const entries = decideBatch(account, limited(100n, 0n), operations, now);
    const applied = entries.filter((entry) => entry.outcome === 'APPLIED');
    expect(applied).toHaveLength(14);
    expect(applied.reduce((sum, entry) => sum - entry.amountMinor, 0n)).toBe(98n);
    expect(entries.filter((entry) => entry.outcome === 'REFUSED').every((entry) => entry.code === 'DAILY_LIMIT_EXCEEDED')).toBe(true);
    expect(entries.at(-1)?.dayDebitedMinor).toBe(98n);
  });

  test('when an account is opened with a limit, then its opening entry carries it (and no day)', () => {
    const opening = openingEntry({ ...account, dailyDebitLimitMinor: 500n });
    expect(opening.dailyDebitLimitMinor).toBe(500n);
    expect(opening.day).toBeUndefined();
  });

  test('when the day is given in a time zone, then it is that zone’s calendar day', () => {
    const late = new Date('2026-11-29T23:30:00.000Z');
    expect(dayOfInTimeZone(undefined)(late)).toBe('2026-11-29');
    expect(dayOfInTimeZone('Europe/Berlin')(late)).toBe('2026-11-30');
    expect(dayOfInTimeZone('America/New_York')(new Date('2026-11-29T03:00:00.000Z'))).toBe('2026-11-28');
    expect(decide(account, limited(100n, 100n, '2026-11-29'), debit(100n), late.toISOString(), '2026-11-30')).toMatchObject({ outcome: 'APPLIED', day: '2026-11-30' });
  });
});

describe('account service config: time zone and the test clock', () => {
  const base = { BANK_ID: 'bank-a', MONGODB_URL: 'mongodb://127.0.0.1:1', SERVICE_KEYS: `k1:${'s'.repeat(40)}` };

  test('when BANK_TIME_ZONE is an IANA name, then it is taken; when it is not, then start fails naming it', () => {
    expect(loadConfig({ ...base, BANK_TIME_ZONE: 'Europe/Berlin' }).timeZone).toBe('Europe/Berlin');
    expect(loadConfig(base).timeZone).toBeUndefined();
    expect(() => loadConfig({ ...base, BANK_TIME_ZONE: 'Mars/Olympus' })).toThrow(/BANK_TIME_ZONE/);
  });

  test('when TEST_CLOCK_OFFSET_MS is set without ALLOW_TEST_CLOCK=true, or in production, then start fails naming it', () => {
    expect(() => loadConfig({ ...base, TEST_CLOCK_OFFSET_MS: '86400000' })).toThrow(/TEST_CLOCK_OFFSET_MS/);
    expect(() => loadConfig({ ...base, TEST_CLOCK_OFFSET_MS: '86400000', ALLOW_TEST_CLOCK: 'true', NODE_ENV: 'production' })).toThrow(/TEST_CLOCK_OFFSET_MS/);
    expect(loadConfig({ ...base, TEST_CLOCK_OFFSET_MS: '86400000', ALLOW_TEST_CLOCK: 'true', NODE_ENV: 'test' }).clockOffsetMs).toBe(86_400_000);
    expect(loadConfig(base).clockOffsetMs).toBe(0);
  });
});
