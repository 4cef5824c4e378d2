import type { AccountView, LedgerEntryView } from '../../../lib/account-service-contract';
import { reconcile, type BankLedger, type TransferPresence } from '../../../lib/reconciliation';

/** Builds an account's chain from its movements, with running balances, as the ledger would. */
function account(bankId: string, accountId: string, currency: string, moves: Array<[operationId: string, kind: LedgerEntryView['kind'], amount: bigint, outcome?: LedgerEntryView['outcome']]>): { bankId: string; ledger: { account: AccountView; entries: LedgerEntryView[] } } {
  let balance = 0n;
  const entries: LedgerEntryView[] = [{ operationId: 'open', accountId, kind: 'open', amountMinor: '0', balanceAfterMinor: '0', sequence: 0, outcome: 'APPLIED', createdAt: 't' }];
  for (const [operationId, kind, amount, outcome = 'APPLIED'] of moves) {
    const applied = outcome === 'APPLIED' ? amount : 0n;
    balance += applied;
    entries.push({ operationId, accountId, kind, amountMinor: String(applied), balanceAfterMinor: String(balance), sequence: entries.length, outcome, createdAt: 't' });
  }
  const view: AccountView = { accountId, bankId, owner: 'o', currency, status: 'ACTIVE', balanceMinor: String(balance), overdraftLimitMinor: '0', dayDebitedMinor: '0', sequence: entries.length - 1 };
  return { bankId, ledger: { account: view, entries } };
}

function banks(...accounts: ReturnType<typeof account>[]): BankLedger[] {
  const byBank = new Map<string, BankLedger>();
  for (const { bankId, ledger } of accounts) {
    const bank = byBank.get(bankId) ?? { bankId, accounts: [] };
    byBank.set(bankId, { bankId, accounts: [...bank.accounts, ledger] });
  }
  return [...byBank.values()];
}

const closed = (): TransferPresence => 'CLOSED';
const kinds = (report: ReturnType<typeof reconcile>) => report.discrepancies.map((d) => `${d.kind}${d.transferId ? ` ${d.transferId}` : ''}`).sort();

describe('reconcile', () => {
  test('when every transfer is whole, then conservation holds, settlement nets per bank pair and nothing is reported', () => {
    const report = reconcile(
      banks(
        account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 1_000n], ['t1:debit', 'debit', -300n], ['t3:debit', 'debit', -50n], ['t3:refund', 'refund', 50n], ['t4:debit', 'debit', -99n, 'REFUSED']]),
        account('bank-b', 'bob', 'EUR', [['d2:deposit', 'deposit', 500n], ['t1:credit', 'credit', 300n], ['t2:debit', 'debit', -100n]]),
        account('bank-a', 'amy', 'EUR', [['t2:credit', 'credit', 100n], ['t5:debit', 'void', 0n, 'APPLIED']]),
      ),
      closed,
      'now',
    );
    expect(kinds(report)).toEqual([]);
    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: '1500', balancesMinor: '1500', inFlightMinor: '0', holds: true }]);
    // bank-a sent 300 to bank-b, bank-b sent 100 back: bank-a owes 200 net.
    expect(report.settlement).toEqual([{ debtorBank: 'bank-a', creditorBank: 'bank-b', currency: 'EUR', netMinor: '200', transfers: 2 }]);
    expect(report.transfers).toEqual({ seen: 5, completed: 2, reversed: 1, inFlight: 0 });
  });

  test('when a debit has no credit yet and its transfer runs, then it is in flight and conservation counts it', () => {
    const report = reconcile(banks(account('bank-a', 'alice', 'USD', [['d1:deposit', 'deposit', 100n], ['t1:debit', 'debit', -40n]])), () => 'RUNNING', 'now');
    expect(kinds(report)).toEqual([]);
    expect(report.transfers.inFlight).toBe(1);
    expect(report.conservation[0]).toMatchObject({ balancesMinor: '60', inFlightMinor: '40', holds: true });
  });

  test('when money went missing or was made, then each rule names the transfer', () => {
    const report = reconcile(
      banks(
        account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 1_000n], ['lost:debit', 'debit', -10n], ['both:debit', 'debit', -20n], ['both:refund', 'refund', 20n], ['short:debit', 'debit', -30n]]),
        account('bank-b', 'bob', 'EUR', [['ghost:credit', 'credit', 5n], ['both:credit', 'credit', 20n], ['short:credit', 'credit', 29n], ['orphan:refund', 'refund', 7n]]),
      ),
      (transferId) => (transferId === 'ghost' ? 'UNKNOWN' : 'CLOSED'),
      'now',
    );
    expect(kinds(report)).toEqual(['AMOUNT_MISMATCH short', 'CONSERVATION', 'CREDIT_AND_REFUND both', 'DEBIT_WITHOUT_CREDIT_OR_REFUND lost', 'REFUND_WITHOUT_DEBIT orphan', 'UNKNOWN_TRANSFER ghost']);
    expect(report.discrepancyCount).toBe(6);
  });

  test('when a chain is altered, then the account rules report it', () => {
    const broken = account('bank-a', 'alice', 'EUR', [['d1:deposit', 'deposit', 100n], ['t1:debit', 'debit', -100n], ['t2:credit', 'credit', 5n]]);
    const entries = broken.ledger.entries;
    const [, , debit, credit] = entries;
    if (!debit || !credit) throw new Error('fixture');
    const tampered = [...entries.slice(0, 2), { ...debit, balanceAfterMinor: '-1' }, { ...credit, sequence: 7 }, { ...credit, sequence: 4 }];
    const report = reconcile([{ bankId: 'bank-a', accounts: [{ account: { ...broken.ledger.account, balanceMinor: '999' }, entries: tampered }] }], closed, 'now');
    expect(kinds(report)).toEqual(expect.arrayContaining(['BALANCE_MISMATCH', 'BELOW_LIMIT', 'CHAIN_BROKEN', 'DUPLICATE_OPERATION']));
  });
});
