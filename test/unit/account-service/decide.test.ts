import { balanceMinorMax, chainDay, decide, decideBatch, openingEntry } from '../../../services/account-service/ledger/decide';
import type { AccountDocument, EntryDocument, Head, Operation } from '../../../services/account-service/ledger/model';

const now = '2026-01-01T00:00:00.000Z';
const account: AccountDocument = { _id: 'acct', owner: 'Owner', currency: 'EUR', overdraftLimitMinor: 0n, createdAt: now, headSeq: 0 };
const head = (balanceAfterMinor: bigint, statusAfter: Head['statusAfter'] = 'ACTIVE', seq = 4): Head => ({ seq, balanceAfterMinor, statusAfter });
const op = (kind: Operation['kind'], amountMinor: bigint, currency = 'EUR'): Operation => ({ operationId: `t:${kind}`, kind, amountMinor, currency });

describe('decide: the next entry of a chain', () => {
  test('when a debit is covered, then it is applied at seq + 1 with a negative amount', () => {
    const entry = decide(account, head(100n), op('debit', 30n), now);
    expect(entry).toMatchObject({ _id: 'acct:5', seq: 5, amountMinor: -30n, balanceAfterMinor: 70n, outcome: 'APPLIED', requestedAmountMinor: 30n, requestedCurrency: 'EUR' });
    expect(entry.code).toBeUndefined();
  });

  test('when a debit exceeds the balance, then it is a zero-amount refusal with INSUFFICIENT_FUNDS', () => {
    expect(decide(account, head(29n), op('debit', 30n), now)).toMatchObject({ amountMinor: 0n, balanceAfterMinor: 29n, outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS', requestedAmountMinor: 30n });
  });

  test('when an account has an overdraft limit, then a debit may reach minus the limit and not one unit further', () => {
    const overdrawn = { ...account, overdraftLimitMinor: 50n };
    expect(decide(overdrawn, head(0n), op('debit', 50n), now)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -50n });
    expect(decide(overdrawn, head(0n), op('debit', 51n), now)).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
  });

  test('when the account is closed or frozen, then money movements are refused with the status, before the currency is looked at', () => {
    for (const kind of ['debit', 'credit', 'deposit'] as const) {
      expect(decide(account, head(100n, 'CLOSED'), op(kind, 1n, 'USD'), now)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', statusAfter: 'CLOSED' });
      expect(decide(account, head(100n, 'FROZEN'), op(kind, 1n, 'USD'), now)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_FROZEN', statusAfter: 'FROZEN' });
    }
  });

  test('when the currency differs, then CURRENCY_MISMATCH', () => {
    expect(decide(account, head(100n), op('credit', 1n, 'USD'), now)).toMatchObject({ outcome: 'REFUSED', code: 'CURRENCY_MISMATCH', amountMinor: 0n });
  });

  test('when the account is closed or frozen, then refunds and voids still apply', () => {
    for (const status of ['CLOSED', 'FROZEN'] as const) {
      expect(decide(account, head(0n, status), op('refund', 40n), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 40n, balanceAfterMinor: 40n, statusAfter: status });
      expect(decide(account, head(0n, status), op('void', 0n), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 0n, kind: 'void' });
    }
  });

  test('when a refund has nothing to reverse, then it is a zero-amount NOTHING_TO_REFUND entry', () => {
    expect(decide(account, head(10n), { ...op('refund', 0n), nothingToRefund: true }, now)).toMatchObject({ outcome: 'NOTHING_TO_REFUND', amountMinor: 0n, balanceAfterMinor: 10n });
  });

  test('when a status changes, then the entry carries the new status and moves no money', () => {
    expect(decide(account, head(0n), op('freeze', 0n), now)).toMatchObject({ statusAfter: 'FROZEN', amountMinor: 0n, outcome: 'APPLIED' });
    expect(decide(account, head(0n, 'FROZEN'), op('unfreeze', 0n), now)).toMatchObject({ statusAfter: 'ACTIVE' });
    expect(decide(account, head(0n, 'FROZEN'), op('close', 0n), now)).toMatchObject({ statusAfter: 'CLOSED' });
  });

  test('when a credit or deposit would take the balance past a signed 64-bit integer, then BALANCE_LIMIT_EXCEEDED and the balance stays', () => {
    const nearMax = balanceMinorMax - 5n;
    expect(decide(account, head(nearMax), op('credit', 5n), now)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: balanceMinorMax });
    for (const kind of ['credit', 'deposit'] as const) {
      expect(decide(account, head(nearMax), op(kind, 6n), now)).toMatchObject({ outcome: 'REFUSED', code: 'BALANCE_LIMIT_EXCEEDED', balanceAfterMinor: nearMax });
    }
  });

  test('when a refund would take the balance past 64 bits, then nothing is decided (it cannot be refused, and a wrapped balance would make money)', () => {
    expect(() => decide(account, head(balanceMinorMax), op('refund', 1n), now)).toThrow(/beyond 64 bits/);
  });
});

describe('decide: account administration, refusals included, so that a replay answers the same', () => {
  test('when a closed account is frozen or unfrozen, then a zero-amount ACCOUNT_CLOSED refusal that keeps the status', () => {
    for (const kind of ['freeze', 'unfreeze'] as const) {
      expect(decide(account, head(7n, 'CLOSED'), op(kind, 0n), now)).toMatchObject({ kind, outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', statusAfter: 'CLOSED', amountMinor: 0n, balanceAfterMinor: 7n });
    }
  });

  test('when an account holding money or owing some is closed, then ACCOUNT_NOT_EMPTY and its status stays', () => {
    for (const [balance, status] of [[1n, 'ACTIVE'], [-1n, 'ACTIVE'], [5n, 'FROZEN']] as const) {
      expect(decide(account, head(balance, status), op('close', 0n), now)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_NOT_EMPTY', statusAfter: status, balanceAfterMinor: balance });
    }
  });

  test('when the status asked for is already in force, then the entry applies and changes nothing, a closed account holding a late refund too', () => {
    expect(decide(account, head(0n, 'FROZEN'), op('freeze', 0n), now)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'FROZEN', amountMinor: 0n });
    expect(decide(account, head(0n), op('unfreeze', 0n), now)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'ACTIVE' });
    expect(decide(account, head(40n, 'CLOSED'), op('close', 0n), now)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'CLOSED', balanceAfterMinor: 40n });
  });

  test('when a daily limit is changed, then it applies whatever the status, and null removes it', () => {
    for (const status of ['ACTIVE', 'FROZEN', 'CLOSED'] as const) {
      expect(decide(account, head(0n, status), { ...op('limit', 0n), dailyDebitLimitMinor: 500n }, now)).toMatchObject({ outcome: 'APPLIED', statusAfter: status, dailyDebitLimitMinor: 500n });
    }
    expect(decide(account, { ...head(0n), dailyDebitLimitMinor: 500n }, { ...op('limit', 0n), dailyDebitLimitMinor: null }, now).dailyDebitLimitMinor).toBeUndefined();
  });
});

describe('decideBatch: a run of entries from one head', () => {
  test('when operations are decided as a batch, then each sees the one before it, refusals included', () => {
    const operations: Operation[] = [
      { operationId: 'a:debit', kind: 'debit', amountMinor: 60n, currency: 'EUR' },
      { operationId: 'b:debit', kind: 'debit', amountMinor: 60n, currency: 'EUR' },
      { operationId: 'c:credit', kind: 'credit', amountMinor: 25n, currency: 'EUR' },
      { operationId: 'd:debit', kind: 'debit', amountMinor: 60n, currency: 'EUR' },
    ];
    const entries = decideBatch(account, head(100n), operations, now);
    expect(entries.map((entry) => [entry._id, entry.outcome, entry.balanceAfterMinor])).toEqual([
      ['acct:5', 'APPLIED', 40n],
      ['acct:6', 'REFUSED', 40n],
      ['acct:7', 'APPLIED', 65n],
      ['acct:8', 'APPLIED', 5n],
    ]);
  });

  test('when a batch freezes the account midway, then the operations after it are refused', () => {
    const entries = decideBatch(account, head(100n), [op('freeze', 0n), { operationId: 'x:debit', kind: 'debit', amountMinor: 1n, currency: 'EUR' }], now);
    expect(entries[1]).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_FROZEN' });
  });

  test('when a batch is empty, then no entries', () => {
    expect(decideBatch(account, head(0n), [], now)).toEqual([]);
  });
});

describe('openingEntry', () => {
  test('when two processes build the opening entry of one account, then they build the same document', () => {
    const first: EntryDocument = openingEntry(account);
    expect(first).toEqual(openingEntry({ ...account }));
    expect(first).toMatchObject({ _id: 'acct:0', seq: 0, operationId: 'open', balanceAfterMinor: 0n, statusAfter: 'ACTIVE', createdAt: now });
  });
});

describe("decide: a chain's bank day only moves forward", () => {
  const limited = (day: string, dayDebitedMinor: bigint): Head => ({ seq: 9, balanceAfterMinor: 1_000n, statusAfter: 'ACTIVE', dailyDebitLimitMinor: 100n, day, dayDebitedMinor });
  const debit = (id: string, amountMinor: bigint): Operation => ({ operationId: `${id}:debit`, kind: 'debit', amountMinor, currency: 'EUR' });

  test("when the deciding clock's day is earlier than the head's, then the entry is of the head's day and its total counts", () => {
    const entry = decide(account, limited('2026-01-02', 100n), debit('late-clock', 1n), '2026-01-01T23:58:00.000Z');
    expect(entry).toMatchObject({ outcome: 'REFUSED', code: 'DAILY_LIMIT_EXCEEDED', day: '2026-01-02', dayDebitedMinor: 100n, balanceAfterMinor: 1_000n });
  });

  test("when the clock's day is later than the head's, then the day moves on and the total starts again at 0", () => {
    expect(decide(account, limited('2026-01-01', 100n), debit('next-day', 100n), '2026-01-02T00:01:00.000Z')).toMatchObject({ outcome: 'APPLIED', day: '2026-01-02', dayDebitedMinor: 100n, balanceAfterMinor: 900n });
  });

  test('when two clocks minutes apart across midnight take turns on one chain, then the day never goes back and 100 is all that is debited', () => {
    const clocks = ['2026-01-02T00:02:00.000Z', '2026-01-01T23:58:00.000Z'];
    let current: Head = limited('2026-01-01', 0n);
    const entries: EntryDocument[] = [];
    for (let turn = 0; turn < 8; turn += 1) {
      const entry = decide(account, current, debit(`turn-${turn}`, 50n), clocks[turn % 2] as string);
      entries.push(entry);
      current = entry;
    }
    expect(entries.map((entry) => entry.day)).toEqual(Array.from({ length: 8 }, () => '2026-01-02'));
    expect(entries.map((entry) => entry.outcome)).toEqual(['APPLIED', 'APPLIED', ...Array.from({ length: 6 }, () => 'REFUSED')]);
    expect(current).toMatchObject({ balanceAfterMinor: 900n, dayDebitedMinor: 100n });
  });

  test('when a head has no day (written before daily limits), then the clock decides the day', () => {
    expect(chainDay({ seq: 1, balanceAfterMinor: 0n, statusAfter: 'ACTIVE' }, '2026-01-01')).toBe('2026-01-01');
    expect(chainDay(limited('2026-01-03', 0n), '2026-01-01')).toBe('2026-01-03');
  });

  test("when a debit would take the day's total past a signed 64-bit integer, then BALANCE_LIMIT_EXCEEDED and the total stays", () => {
    const rich: Head = { seq: 3, balanceAfterMinor: balanceMinorMax, statusAfter: 'ACTIVE', day: '2026-01-01', dayDebitedMinor: balanceMinorMax - 10n };
    expect(decide(account, rich, debit('fits', 10n), now)).toMatchObject({ outcome: 'APPLIED', dayDebitedMinor: balanceMinorMax, balanceAfterMinor: balanceMinorMax - 10n });
    expect(decide(account, rich, debit('past', 11n), now)).toMatchObject({ outcome: 'REFUSED', code: 'BALANCE_LIMIT_EXCEEDED', amountMinor: 0n, dayDebitedMinor: balanceMinorMax - 10n, balanceAfterMinor: balanceMinorMax });
  });
});
