import type { ChainEntry } from '../../../lib/reconciliation/accounts';
import type { BankLedger } from '../../../lib/reconciliation/reconciliation';
import { interbankCompleted, settlementViolations } from '../../chaos/settlement-check';

type Move = [operationId: string, kind: ChainEntry['kind'], amount: bigint];

/** An account of a ledger from its moves, with running balances. */
function account(accountId: string, moves: Move[]): BankLedger['accounts'][number] {
  let balance = 0n;
  const entries: ChainEntry[] = moves.map(([operationId, kind, amount], index) => {
    balance += amount;
    return { operationId, accountId, kind, sequence: index + 1, outcome: 'APPLIED', createdAt: '2026-12-01T00:00:00.000Z', amountMinor: amount, balanceAfterMinor: balance };
  });
  return { account: { accountId, currency: 'EUR', sequence: entries.length, balanceMinor: balance, overdraftLimitMinor: 0n }, entries };
}

const reserves = [account('reserve.bank-a.EUR', [['opening-reserve:deposit', 'deposit', 1000n]]), account('reserve.bank-b.EUR', [['opening-reserve:deposit', 'deposit', 1000n]])];

describe('the chaos checker’s settlement rules', () => {
  test('when every transfer holds the legs of its status, then there is no violation', () => {
    const settlement: BankLedger = {
      bankId: 'settlement',
      accounts: [...reserves, account('position.bank-a.EUR', [['t1:debit', 'debit', -100n], ['t2:debit', 'debit', -50n], ['t2:refund', 'refund', 50n]]), account('position.bank-b.EUR', [['t1:credit', 'credit', 100n]])],
    };
    expect(settlementViolations(settlement, new Map([['t1', 'COMPLETED'], ['t2', 'REFUNDED']]), ['t1'])).toEqual([]);
  });

  test('when a completed transfer lacks its credit, a refunded one kept its reservation, or money moved for no transfer, then each is named and the positions do not sum to zero', () => {
    const settlement: BankLedger = {
      bankId: 'settlement',
      accounts: [...reserves, account('position.bank-a.EUR', [['t1:debit', 'debit', -100n], ['t2:debit', 'debit', -50n], ['ghost:debit', 'debit', -5n]]), account('position.bank-b.EUR', [])],
    };
    const violations = settlementViolations(settlement, new Map([['t1', 'COMPLETED'], ['t2', 'REFUNDED']]), ['t1']);
    expect(violations).toEqual([
      't1 COMPLETED: reserved true, credited false, released false',
      't2 REFUNDED: reserved true, credited false, released false',
      'ghost: the settlement bank moved money for a transfer the workload never created',
      't1 COMPLETED between two banks without its settlement legs',
      'the positions sum to -155, not 0, with every transfer ended',
    ]);
  });

  test('when a reserve holds more or less than was paid into it, then that is a violation', () => {
    const settlement: BankLedger = { bankId: 'settlement', accounts: [account('reserve.bank-a.EUR', [['opening-reserve:deposit', 'deposit', 1000n], ['x:credit', 'credit', 7n]])] };
    expect(settlementViolations(settlement, new Map([['x', 'REFUNDED']]), [])).toContain('the reserves hold 7 more than was paid into them, with no window settled');
  });

  test('when a completed transfer debited one bank and credited another, then it must settle; within one bank it need not', () => {
    const bank = (bankId: string, moves: Move[]): BankLedger => ({ bankId, accounts: [account(`${bankId}-1`, moves)] });
    const ledgers = [bank('bank-a', [['t1:debit', 'debit', -10n], ['t2:debit', 'debit', -10n], ['t2:credit', 'credit', 10n]]), bank('bank-b', [['t1:credit', 'credit', 10n]])];
    expect(interbankCompleted(ledgers, new Map([['t1', 'COMPLETED'], ['t2', 'COMPLETED']]))).toEqual(['t1']);
  });
});
