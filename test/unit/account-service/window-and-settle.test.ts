import { accountViewSchema, ledgerEntryViewSchema, settlementRequestSchema, windowMarkRequestSchema } from '../../../lib/contracts/account-service-contract';
import { balanceMinorMax, balanceMinorMin, decide, decideBatch } from '../../../services/account-service/ledger/decide';
import { accountView, entryView } from '../../../services/account-service/ledger/entry-view';
import type { AccountDocument, EntryDocument, Head, Operation } from '../../../services/account-service/ledger/model';
import { scopeOfRoute } from '../../../services/account-service/http/route-scopes';

const now = '2026-11-29T10:00:00.000Z';
const today = '2026-11-29';
/** A participant's position account at the settlement bank: its overdraft limit is the bank's Net Debit Cap. */
const account: AccountDocument = { _id: 'position-b', owner: 'Bank B position', currency: 'EUR', overdraftLimitMinor: 1_000n, createdAt: now, headSeq: 0 };
const head = (balanceAfterMinor: bigint, statusAfter: Head['statusAfter'] = 'ACTIVE', windowId?: string): Head => ({ seq: 4, balanceAfterMinor, statusAfter, ...(windowId === undefined ? {} : { windowId }) });
const window = (windowId: string): Operation => ({ operationId: `${windowId}:window`, kind: 'window', amountMinor: 0n, currency: 'EUR', windowId });
const settle = (amountMinor: bigint, id = 's', currency = 'EUR'): Operation => ({ operationId: `${id}:settle`, kind: 'settle', amountMinor, currency });
const debit = (amountMinor: bigint, id = 't'): Operation => ({ operationId: `${id}:debit`, kind: 'debit', amountMinor, currency: 'EUR' });
const change = (kind: 'freeze' | 'unfreeze' | 'close', id: string): Operation => ({ operationId: `${id}:admin`, kind, amountMinor: 0n, currency: 'EUR' });

/** Operations of every kind an account service decides, from a balance of 0, ending on an empty account closed. */
function everyKind(): Operation[] {
  return [
    { operationId: 'd:deposit', kind: 'deposit', amountMinor: 1_000n, currency: 'EUR' },
    debit(300n, 'out'),
    { operationId: 'in:credit', kind: 'credit', amountMinor: 50n, currency: 'EUR' },
    { operationId: 'out:refund', kind: 'refund', amountMinor: 300n, currency: 'EUR', debitDay: today },
    { operationId: 'never:credit', kind: 'void', amountMinor: 0n, currency: 'EUR' },
    change('freeze', 'f'),
    change('unfreeze', 'u'),
    { operationId: 'l:admin', kind: 'limit', amountMinor: 0n, currency: 'EUR', dailyDebitLimitMinor: 10_000n },
    { operationId: 'o:admin', kind: 'overdraft', amountMinor: 0n, currency: 'EUR', overdraftLimitMinor: 500n },
    settle(-200n, 'net-1'),
  ];
}

describe('decide: window markers', () => {
  test('when a marker is decided, then it is a zero-amount applied entry that carries its own window', () => {
    const marker = decide(account, head(-300n), window('w-1'), now, today);
    expect(marker).toMatchObject({ kind: 'window', operationId: 'w-1:window', outcome: 'APPLIED', amountMinor: 0n, balanceAfterMinor: -300n, statusAfter: 'ACTIVE', windowId: 'w-1', requestedAmountMinor: 0n });
    expect(marker.code).toBeUndefined();
  });

  test('when entries of every kind follow a marker, then each carries its window forward, and a second marker replaces it for the entries after it', () => {
    const operations = [window('w-1'), ...everyKind(), window('w-2'), debit(10n, 'late'), settle(-840n, 'net-2'), change('close', 'c')];
    const entries = decideBatch(account, head(0n), operations, now, today);
    expect(entries.map((entry) => `${entry.kind} ${entry.outcome}`)).toEqual([
      'window APPLIED',
      'deposit APPLIED',
      'debit APPLIED',
      'credit APPLIED',
      'refund APPLIED',
      'void APPLIED',
      'freeze APPLIED',
      'unfreeze APPLIED',
      'limit APPLIED',
      'overdraft APPLIED',
      'settle APPLIED',
      'window APPLIED',
      'debit APPLIED',
      'settle APPLIED',
      'close APPLIED',
    ]);
    expect(entries.map((entry) => entry.windowId)).toEqual([...Array<string>(11).fill('w-1'), ...Array<string>(4).fill('w-2')]);
    expect(entries.at(-1)).toMatchObject({ statusAfter: 'CLOSED', balanceAfterMinor: 0n });
  });

  test('when debits come before and after a marker in one batch, then those before carry the old window and those after the new one', () => {
    const operations = [debit(100n, 'a'), debit(100n, 'b'), window('w-2'), debit(100n, 'c'), debit(100n, 'd')];
    const entries = decideBatch(account, head(0n, 'ACTIVE', 'w-1'), operations, now, today);
    expect(entries.map((entry) => [entry.operationId, entry.windowId])).toEqual([
      ['a:debit', 'w-1'],
      ['b:debit', 'w-1'],
      ['w-2:window', 'w-2'],
      ['c:debit', 'w-2'],
      ['d:debit', 'w-2'],
    ]);
    // On a chain's first marker, the debits before it carry no window at all.
    const first = decideBatch(account, head(0n), operations, now, today);
    expect(first.map((entry) => entry.windowId)).toEqual([undefined, undefined, 'w-2', 'w-2', 'w-2']);
    expect(first.slice(0, 2).some((entry) => 'windowId' in entry)).toBe(false);
  });

  test('when a chain has no marker, then no entry of any kind carries a window, nor its views', () => {
    const entries = decideBatch(account, head(0n), [...everyKind(), settle(-850n, 'net-2'), change('close', 'c')], now, today);
    expect(entries.every((entry) => !('windowId' in entry))).toBe(true);
    expect(entries.map((entry) => entryView(entry)).some((view) => 'windowId' in view)).toBe(false);
    expect(accountView('settlement', account, entries.at(-1) as EntryDocument, today)).not.toHaveProperty('windowId');
  });

  test('when the account is frozen, then a marker applies; when it is closed, then ACCOUNT_CLOSED and the window in force stays', () => {
    expect(decide(account, head(0n, 'FROZEN', 'w-1'), window('w-2'), now, today)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'FROZEN', windowId: 'w-2' });
    const refused = decide(account, head(0n, 'CLOSED', 'w-1'), window('w-2'), now, today);
    expect(refused).toMatchObject({ kind: 'window', outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', amountMinor: 0n, statusAfter: 'CLOSED', windowId: 'w-1' });
    expect(decide(account, head(0n, 'CLOSED'), window('w-2'), now, today)).not.toHaveProperty('windowId');
  });

  test('when a marker carries no window id, then nothing is decided (the route always sends one)', () => {
    expect(() => decide(account, head(0n), { ...window('w-1'), windowId: undefined }, now, today)).toThrow(/window id/);
  });
});

describe('decide: settlement moves', () => {
  test('when a settlement takes a position past its overdraft limit, then it applies, and a later debit is refused INSUFFICIENT_FUNDS', () => {
    const settled = decide(account, head(0n), settle(-5_000n), now, today);
    expect(settled).toMatchObject({ kind: 'settle', outcome: 'APPLIED', amountMinor: -5_000n, balanceAfterMinor: -5_000n, requestedAmountMinor: -5_000n, dayDebitedMinor: 0n });
    expect(settled.balanceAfterMinor).toBeLessThan(-account.overdraftLimitMinor);
    expect(decide(account, settled, debit(1n), now, today)).toMatchObject({ kind: 'debit', outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS', balanceAfterMinor: -5_000n });
    // Money in still lands; once the position is back within its limit, debits fit again.
    const funded = decide(account, settled, settle(4_500n, 's-2'), now, today);
    expect(funded).toMatchObject({ outcome: 'APPLIED', amountMinor: 4_500n, balanceAfterMinor: -500n });
    expect(decide(account, funded, debit(500n), now, today)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -1_000n });
  });

  test('when a settlement is decided, then it does not count toward the day’s debited total nor the daily limit', () => {
    const limited: Head = { ...head(0n), dailyDebitLimitMinor: 100n, day: today, dayDebitedMinor: 60n };
    const settled = decide(account, limited, settle(-700n), now, today);
    expect(settled).toMatchObject({ outcome: 'APPLIED', dayDebitedMinor: 60n, dailyDebitLimitMinor: 100n });
    // The 40 left of the day's 100 are still there to send, and not one more.
    expect(decide(account, settled, debit(40n), now, today)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -740n, dayDebitedMinor: 100n });
    expect(decide(account, settled, debit(41n), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'DAILY_LIMIT_EXCEEDED' });
  });

  test('when the account is closed, then ACCOUNT_CLOSED before the currency is looked at; when frozen, then it still lands', () => {
    expect(decide(account, head(0n, 'CLOSED'), settle(-5n, 's', 'USD'), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', amountMinor: 0n, balanceAfterMinor: 0n, statusAfter: 'CLOSED' });
    expect(decide(account, head(0n, 'CLOSED'), settle(5n), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', amountMinor: 0n });
    expect(decide(account, head(0n, 'FROZEN'), settle(-5_000n), now, today)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'FROZEN', balanceAfterMinor: -5_000n });
  });

  test('when the currency differs, then CURRENCY_MISMATCH and the balance stays', () => {
    expect(decide(account, head(10n), settle(-5n, 's', 'USD'), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'CURRENCY_MISMATCH', amountMinor: 0n, balanceAfterMinor: 10n, requestedAmountMinor: -5n, requestedCurrency: 'USD' });
  });

  test('when a settlement would take the balance beyond a signed 64-bit integer either way, then BALANCE_LIMIT_EXCEEDED; up to the edge it applies', () => {
    expect(decide(account, head(balanceMinorMax - 5n), settle(5n), now, today)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: balanceMinorMax });
    expect(decide(account, head(balanceMinorMax - 5n), settle(6n), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'BALANCE_LIMIT_EXCEEDED', balanceAfterMinor: balanceMinorMax - 5n });
    expect(decide(account, head(balanceMinorMin + 5n), settle(-5n), now, today)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: balanceMinorMin });
    expect(decide(account, head(balanceMinorMin + 5n), settle(-6n), now, today)).toMatchObject({ outcome: 'REFUSED', code: 'BALANCE_LIMIT_EXCEEDED', balanceAfterMinor: balanceMinorMin + 5n });
  });
});

describe('views and wire contract of window markers and settlement moves', () => {
  const decided = (operation: Operation, from: Head = head(0n, 'ACTIVE', 'w-1')): EntryDocument => decide(account, from, operation, now, today);

  test('when entries of a window are shown, then each carries windowId after every other field, and passes the contract', () => {
    for (const entry of [decided(window('w-2')), decided(settle(-5_000n)), decided(debit(10n)), decided({ operationId: 'o:admin', kind: 'overdraft', amountMinor: 0n, currency: 'EUR', overdraftLimitMinor: 2_000n })]) {
      const view = entryView(entry);
      expect(Object.keys(view).at(-1)).toBe('windowId');
      expect(ledgerEntryViewSchema.parse(view)).toEqual(view);
    }
    expect(entryView(decided(window('w-2')))).toMatchObject({ kind: 'window', operationId: 'w-2:window', amountMinor: '0', outcome: 'APPLIED', windowId: 'w-2' });
    expect(entryView(decided(settle(-5_000n)))).toMatchObject({ kind: 'settle', operationId: 's:settle', amountMinor: '-5000', balanceAfterMinor: '-5000', windowId: 'w-1' });
    const refused = entryView(decided(window('w-2'), head(0n, 'CLOSED', 'w-1')));
    expect(ledgerEntryViewSchema.parse(refused)).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', windowId: 'w-1' });
  });

  test('when the account is shown, then it carries the current window last, only once its chain has one, and passes the contract', () => {
    const view = accountView('settlement', account, decided(window('w-2')), today);
    expect(Object.keys(view).at(-1)).toBe('windowId');
    expect(view.windowId).toBe('w-2');
    expect(accountViewSchema.parse(view)).toEqual(view);
    const none = accountView('settlement', account, head(0n), today);
    expect(none).not.toHaveProperty('windowId');
    expect(accountViewSchema.parse(none)).toEqual(none);
  });

  test('when a marker is asked for, then only a window id is accepted', () => {
    expect(windowMarkRequestSchema.parse({ windowId: 'w-2026-11-29.1' })).toEqual({ windowId: 'w-2026-11-29.1' });
    for (const body of [{}, { windowId: '' }, { windowId: 'a:b' }, { windowId: 7 }, { windowId: { $gt: '' } }, { windowId: 'w-1', amountMinor: '0' }]) {
      expect({ body, accepted: windowMarkRequestSchema.safeParse(body).success }).toEqual({ body, accepted: false });
    }
  });

  test('when a settlement is asked for, then its amount is a signed, non-zero whole number of at most 18 digits', () => {
    for (const amountMinor of ['-5000', '5000', '1', '-1', '999999999999999999', '-999999999999999999']) {
      expect(settlementRequestSchema.parse({ settlementId: 's-1', amountMinor, currency: 'EUR' })).toEqual({ settlementId: 's-1', amountMinor, currency: 'EUR' });
    }
    for (const amountMinor of ['0', '-0', '+5', '05', '-05', '1e3', '1.5', ' 5', '1000000000000000000', '-1000000000000000000', 5, null]) {
      expect({ amountMinor, accepted: settlementRequestSchema.safeParse({ settlementId: 's-1', amountMinor, currency: 'EUR' }).success }).toEqual({ amountMinor, accepted: false });
    }
    expect(settlementRequestSchema.safeParse({ settlementId: 's-1', amountMinor: '5', currency: 'EUR', transferId: 't' }).success).toBe(false);
    expect(settlementRequestSchema.safeParse({ settlementId: 's-1', amountMinor: '5' }).success).toBe(false);
  });

  test('when the routes are scoped, then both need the ledger scope', () => {
    expect(scopeOfRoute('POST', '/v1/accounts/position-b/windows')).toBe('ledger');
    expect(scopeOfRoute('POST', '/v1/accounts/position-b/settlements')).toBe('ledger');
    expect(scopeOfRoute('GET', '/v1/accounts/position-b/windows')).toBe('none');
    expect(scopeOfRoute('POST', '/v1/accounts/position-b/windows/w-1')).toBe('none');
  });
});
