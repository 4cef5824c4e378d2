import { clearingAccountId, isClearingAccountId, ledgerEntryViewSchema, transferLegRequestSchema } from '../../../lib/contracts/account-service-contract';
import { decide } from '../../../services/account-service/ledger/decide';
import { entryView } from '../../../services/account-service/ledger/entry-view';
import type { AccountDocument, Head, Operation } from '../../../services/account-service/ledger/model';

const now = '2026-12-01T10:00:00.000Z';
const customer: AccountDocument = { _id: 'alice', owner: 'Alice', currency: 'EUR', overdraftLimitMinor: 0n, createdAt: now, headSeq: 0 };
const clearing: AccountDocument = { _id: clearingAccountId('EUR'), owner: 'the bank (clearing)', currency: 'EUR', overdraftLimitMinor: 0n, createdAt: now, headSeq: 0, clearing: true };
const head = (balanceAfterMinor: bigint, statusAfter: Head['statusAfter'] = 'ACTIVE'): Head => ({ seq: 3, balanceAfterMinor, statusAfter });
const cleared = (kind: 'debit' | 'credit', amountMinor: bigint): Operation => ({ operationId: `t-1:${kind}`, kind, amountMinor, currency: 'EUR', clearingAccountId: clearingAccountId('EUR') });
const counterpart = (amountMinor: bigint, currency = 'EUR'): Operation => ({ operationId: 't-1:debit', kind: 'clearing', amountMinor, currency });

describe('decide: double entry on the clearing account', () => {
  test('when a cleared debit or credit applies, then its entry names the clearing account, and its view says so', () => {
    const debit = decide(customer, head(1_000n), cleared('debit', 200n), now);
    expect(debit).toMatchObject({ outcome: 'APPLIED', amountMinor: -200n, clearingAccountId: 'clearing.EUR' });
    expect(ledgerEntryViewSchema.parse(entryView(debit)).clearingAccountId).toBe('clearing.EUR');
    expect(decide(customer, head(0n), cleared('credit', 50n), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 50n, clearingAccountId: 'clearing.EUR' });
  });

  test('when a cleared debit is refused, then it names no clearing account: nothing moved, so nothing has a counterpart', () => {
    const refused = decide(customer, head(100n), cleared('debit', 200n), now);
    expect(refused).toMatchObject({ outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS', amountMinor: 0n });
    expect(refused).not.toHaveProperty('clearingAccountId');
    const frozen = decide(customer, head(1_000n, 'FROZEN'), cleared('credit', 200n), now);
    expect(frozen).toMatchObject({ outcome: 'REFUSED', code: 'ACCOUNT_FROZEN' });
    expect(frozen).not.toHaveProperty('clearingAccountId');
    expect(entryView(frozen)).not.toHaveProperty('clearingAccountId');
  });

  test('when a counterpart is booked, then it applies with its signed amount whatever the balance, never refused', () => {
    expect(decide(clearing, head(0n), counterpart(-5_000n), now)).toMatchObject({ kind: 'clearing', outcome: 'APPLIED', amountMinor: -5_000n, balanceAfterMinor: -5_000n });
    expect(decide(clearing, head(-5_000n), counterpart(5_200n), now)).toMatchObject({ outcome: 'APPLIED', amountMinor: 5_200n, balanceAfterMinor: 200n, dayDebitedMinor: 0n });
  });

  test('when a counterpart would land on a customer account, in another currency or for nothing, then deciding it fails and records nothing', () => {
    expect(() => decide(customer, head(0n), counterpart(100n), now)).toThrow('no clearing account');
    expect(() => decide(clearing, head(0n), counterpart(100n, 'USD'), now)).toThrow('books USD');
    expect(() => decide(clearing, head(0n), counterpart(0n), now)).toThrow('zero counterpart');
  });

  test('when an id starts with clearing., then it is a clearing account id, and a leg request may ask for clearing with a boolean only', () => {
    expect(isClearingAccountId('clearing.EUR')).toBe(true);
    expect(isClearingAccountId('alice.clearing')).toBe(false);
    expect(transferLegRequestSchema.safeParse({ transferId: 't', amountMinor: '1', currency: 'EUR', clearing: true }).success).toBe(true);
    expect(transferLegRequestSchema.safeParse({ transferId: 't', amountMinor: '1', currency: 'EUR', clearing: 'yes' }).success).toBe(false);
  });
});
