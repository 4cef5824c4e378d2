import { accountViewSchema, ledgerEntryViewSchema } from '../../../lib/contracts/account-service-contract';
import { decide, decideBatch } from '../../../services/account-service/ledger/decide';
import { accountView, entryView } from '../../../services/account-service/ledger/entry-view';
import type { AccountDocument, EntryDocument, Head, Operation } from '../../../services/account-service/ledger/model';
import { scopeOfRoute } from '../../../services/account-service/http/route-scopes';

const now = '2026-11-29T10:00:00.000Z';
const today = '2026-11-29';
const account: AccountDocument = { _id: 'acct', owner: 'Owner', currency: 'EUR', overdraftLimitMinor: 3_000n, createdAt: now, headSeq: 0 };
const head = (balanceAfterMinor: bigint, statusAfter: Head['statusAfter'] = 'ACTIVE'): Head => ({ seq: 4, balanceAfterMinor, statusAfter });
const debit = (amountMinor: bigint, id = 't'): Operation => ({ operationId: `${id}:debit`, kind: 'debit', amountMinor, currency: 'EUR' });
const overdraft = (overdraftLimitMinor: bigint, changeId = 'c'): Operation => ({ operationId: `${changeId}:admin`, kind: 'overdraft', amountMinor: 0n, currency: 'EUR', overdraftLimitMinor });

describe('decide: the overdraft limit, changed in the chain', () => {
  test('when the limit is raised, then a debit refused under the old limit is applied under the new one', () => {
    const drawn = head(-3_000n);
    expect(decide(account, drawn, debit(200n), now)).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
    const raised = decide(account, drawn, overdraft(4_000n), now);
    expect(raised).toMatchObject({ kind: 'overdraft', outcome: 'APPLIED', amountMinor: 0n, balanceAfterMinor: -3_000n, overdraftLimitMinor: 4_000n, overdraftLimitBeforeMinor: 3_000n, requestedAmountMinor: 4_000n });
    expect(decide(account, raised, debit(1_000n), now)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -4_000n, overdraftLimitMinor: 4_000n });
    expect(decide(account, raised, debit(1_001n), now)).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
  });

  test('when the limit is lowered, then a debit that fitted the old limit is refused', () => {
    const lowered = decide(account, head(0n), overdraft(100n), now);
    expect(decide(account, head(0n), debit(500n), now)).toMatchObject({ outcome: 'APPLIED' });
    expect(decide(account, lowered, debit(500n), now)).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS', balanceAfterMinor: 0n });
    expect(decide(account, lowered, debit(100n), now)).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -100n });
  });

  test('when the limit is lowered below what the account has drawn, then OVERDRAFT_BELOW_BALANCE and nothing changes; down to exactly what is drawn applies', () => {
    const refused = decide(account, head(-3_000n), overdraft(2_999n), now);
    expect(refused).toMatchObject({ kind: 'overdraft', outcome: 'REFUSED', code: 'OVERDRAFT_BELOW_BALANCE', amountMinor: 0n, balanceAfterMinor: -3_000n, statusAfter: 'ACTIVE' });
    // The refusal keeps the old limit in force and records the one asked for, so a replay is told apart from another change.
    expect(refused).toMatchObject({ overdraftLimitMinor: 3_000n, overdraftLimitBeforeMinor: 3_000n, requestedAmountMinor: 2_999n });
    expect(decide(account, head(-3_000n), overdraft(3_000n), now)).toMatchObject({ outcome: 'APPLIED', overdraftLimitMinor: 3_000n });
    expect(decide(account, head(-1n), overdraft(0n), now)).toMatchObject({ outcome: 'REFUSED', code: 'OVERDRAFT_BELOW_BALANCE' });
    expect(decide(account, head(0n), overdraft(0n), now)).toMatchObject({ outcome: 'APPLIED', overdraftLimitMinor: 0n });
  });

  test('when a chain has no overdraft entry, then debits are decided against the account document and entries carry no limit of their own', () => {
    const entry = decide(account, head(0n), debit(3_000n), now);
    expect(entry).toMatchObject({ outcome: 'APPLIED', balanceAfterMinor: -3_000n });
    expect(entry).not.toHaveProperty('overdraftLimitMinor');
    expect(entry).not.toHaveProperty('overdraftLimitBeforeMinor');
    expect(decide(account, head(0n), debit(3_001n), now)).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' });
  });

  test('when later entries of any kind follow a change, then each carries the changed limit forward', () => {
    const operations: Operation[] = [
      overdraft(500n),
      { operationId: 'x:credit', kind: 'credit', amountMinor: 10n, currency: 'EUR' },
      debit(9_999n, 'big'),
      { operationId: 'f:admin', kind: 'freeze', amountMinor: 0n, currency: 'EUR' },
      { operationId: 'u:admin', kind: 'unfreeze', amountMinor: 0n, currency: 'EUR' },
      { operationId: 'l:admin', kind: 'limit', amountMinor: 0n, currency: 'EUR', dailyDebitLimitMinor: 10_000n },
      debit(510n, 'fits'),
      debit(1n, 'over'),
    ];
    const entries = decideBatch(account, head(0n), operations, now, today);
    expect(entries.map((entry) => entry.overdraftLimitMinor)).toEqual(operations.map(() => 500n));
    expect(entries.map((entry) => `${entry.kind} ${entry.outcome}`)).toEqual([
      'overdraft APPLIED',
      'credit APPLIED',
      'debit REFUSED',
      'freeze APPLIED',
      'unfreeze APPLIED',
      'limit APPLIED',
      'debit APPLIED',
      'debit REFUSED',
    ]);
    expect(entries.at(-1)).toMatchObject({ balanceAfterMinor: -500n, code: 'INSUFFICIENT_FUNDS' });
    expect(entries.slice(1).some((entry) => 'overdraftLimitBeforeMinor' in entry)).toBe(false);
  });

  test('when the account is closed, then a change is refused ACCOUNT_CLOSED; a frozen account may have its limit changed', () => {
    expect(decide(account, head(0n, 'CLOSED'), overdraft(100n), now)).toMatchObject({ kind: 'overdraft', outcome: 'REFUSED', code: 'ACCOUNT_CLOSED', statusAfter: 'CLOSED', overdraftLimitMinor: 3_000n });
    expect(decide(account, head(-200n, 'FROZEN'), overdraft(200n), now)).toMatchObject({ outcome: 'APPLIED', statusAfter: 'FROZEN', overdraftLimitMinor: 200n });
  });

  test('when debits race a raise in one batch, then exactly the ones that fit the limit in force at each are applied', () => {
    const before = Array.from({ length: 20 }, (_, index) => debit(200n, `a${index}`));
    const after = Array.from({ length: 10 }, (_, index) => debit(200n, `b${index}`));
    const entries = decideBatch({ ...account, overdraftLimitMinor: 3_000n }, head(0n), [...before, overdraft(4_000n), ...after], now);
    const applied = (from: number, to: number) => entries.slice(from, to).filter((entry) => entry.outcome === 'APPLIED').length;
    expect([applied(0, 20), applied(21, 31)]).toEqual([15, 5]);
    expect(entries.at(-1)?.balanceAfterMinor).toBe(-4_000n);
  });

  test('when an overdraft operation carries no limit, then nothing is decided (the route always sends one)', () => {
    expect(() => decide(account, head(0n), { ...overdraft(1n), overdraftLimitMinor: undefined }, now)).toThrow(/overdraft limit/);
  });
});

describe('views of an overdraft-limit change', () => {
  const decided = (operation: Operation, from: Head = head(-700n)): EntryDocument => decide(account, from, operation, now, today);

  test('when an overdraft entry is shown, then it carries the limit after and before it, after the fields every entry has, and passes the contract', () => {
    const view = entryView(decided(overdraft(1_000n)));
    expect(Object.keys(view).slice(-2)).toEqual(['overdraftLimitMinor', 'overdraftLimitBeforeMinor']);
    expect(view).toMatchObject({ kind: 'overdraft', amountMinor: '0', overdraftLimitMinor: '1000', overdraftLimitBeforeMinor: '3000' });
    expect(ledgerEntryViewSchema.parse(view)).toEqual(view);
    expect(entryView(decided(overdraft(1_000n)))).toEqual(view);
  });

  test('when any other entry is shown, then it carries neither field, even after a change', () => {
    const changed = decided(overdraft(1_000n));
    const view = entryView(decided(debit(1n), changed));
    expect(view).not.toHaveProperty('overdraftLimitMinor');
    expect(view).not.toHaveProperty('overdraftLimitBeforeMinor');
  });

  test('when the account is shown, then its overdraft limit is the one in force: the head’s, else the document’s', () => {
    expect(accountView('bank-a', account, head(0n), today).overdraftLimitMinor).toBe('3000');
    const view = accountView('bank-a', account, decided(overdraft(1_000n)), today);
    expect(view.overdraftLimitMinor).toBe('1000');
    expect(accountViewSchema.parse(view)).toEqual(view);
  });

  test('when the change is routed, then it needs the admin scope', () => {
    expect(scopeOfRoute('POST', '/v1/accounts/acct/overdraft-limit')).toBe('admin');
    expect(scopeOfRoute('GET', '/v1/accounts/acct/overdraft-limit')).toBe('none');
  });
});
