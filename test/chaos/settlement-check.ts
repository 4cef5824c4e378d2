import { AccountServiceClient } from '../../lib/clients/account-service-client';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { readBankLedger } from '../../lib/reconciliation/ledger-reader';
import type { BankLedger } from '../../lib/reconciliation/reconciliation';

/**
 * The settlement rules of the chaos checker, from the ledgers alone at quiescence: per transfer,
 * the settlement bank holds exactly the legs its final status implies, the positions sum to zero,
 * and the reserves hold exactly what was paid into them (no window closes during the run).
 */

interface SettlementLegs {
  reserved: boolean;
  released: boolean;
  credited: boolean;
}

const legOf = (operationId: string, suffix: string): string | undefined => (operationId.endsWith(suffix) ? operationId.slice(0, -suffix.length) : undefined);

/** Each transfer's banks as its customer legs show them: the bank of its applied debit and of its applied credit. */
export function interbankCompleted(ledgers: readonly BankLedger[], statuses: ReadonlyMap<string, string | undefined>): string[] {
  const debitBank = new Map<string, string>();
  const creditBank = new Map<string, string>();
  for (const bank of ledgers) {
    for (const { entries } of bank.accounts) {
      for (const entry of entries) {
        if (entry.outcome !== 'APPLIED') continue;
        const debited = entry.kind === 'debit' ? legOf(entry.operationId, ':debit') : undefined;
        const credited = entry.kind === 'credit' ? legOf(entry.operationId, ':credit') : undefined;
        if (debited) debitBank.set(debited, bank.bankId);
        if (credited) creditBank.set(credited, bank.bankId);
      }
    }
  }
  return [...statuses].filter(([id, status]) => status === 'COMPLETED' && debitBank.get(id) !== undefined && debitBank.get(id) !== creditBank.get(id)).map(([id]) => id);
}

export async function readSettlementBank(settlementBank: { bankId: string; url: string }, signingKey: SigningKey): Promise<BankLedger> {
  return readBankLedger(new AccountServiceClient({ bankId: settlementBank.bankId, baseUrl: settlementBank.url, signingKey, requestTimeoutMs: 30_000 }));
}

function legsAtSettlement(settlement: BankLedger): Map<string, SettlementLegs> {
  const legs = new Map<string, SettlementLegs>();
  const of = (id: string): SettlementLegs => {
    const found = legs.get(id) ?? { reserved: false, released: false, credited: false };
    legs.set(id, found);
    return found;
  };
  for (const { account, entries } of settlement.accounts) {
    if (!account.accountId.startsWith('position.') && !account.accountId.startsWith('reserve.')) continue;
    for (const entry of entries) {
      if (entry.outcome !== 'APPLIED' || entry.amountMinor === 0n) continue;
      const reserved = entry.kind === 'debit' ? legOf(entry.operationId, ':debit') : undefined;
      const released = entry.kind === 'refund' ? legOf(entry.operationId, ':refund') : undefined;
      const credited = entry.kind === 'credit' ? legOf(entry.operationId, ':credit') : undefined;
      if (reserved) of(reserved).reserved = true;
      if (released) of(released).released = true;
      if (credited) of(credited).credited = true;
    }
  }
  return legs;
}

/** The violations of the settlement rules (empty when they hold). */
export function settlementViolations(settlement: BankLedger, statuses: ReadonlyMap<string, string | undefined>, mustSettle: readonly string[]): string[] {
  const failures: string[] = [];
  const legs = legsAtSettlement(settlement);
  for (const [id, found] of legs) {
    const status = statuses.get(id);
    if (status === undefined) failures.push(`${id}: the settlement bank moved money for a transfer the workload never created`);
    else if (status === 'COMPLETED' && (!found.reserved || !found.credited || found.released)) failures.push(`${id} COMPLETED: reserved ${found.reserved}, credited ${found.credited}, released ${found.released}`);
    else if (status !== 'COMPLETED' && (found.credited || (found.reserved && !found.released))) failures.push(`${id} ${status}: reserved ${found.reserved}, credited ${found.credited}, released ${found.released}`);
  }
  for (const id of mustSettle) if (!legs.get(id)?.credited) failures.push(`${id} COMPLETED between two banks without its settlement legs`);
  const sum = (prefix: string, value: (balance: bigint, deposits: bigint) => bigint): bigint =>
    settlement.accounts.filter(({ account }) => account.accountId.startsWith(prefix)).reduce((total, { account, entries }) => {
      const deposits = entries.filter((entry) => entry.kind === 'deposit' && entry.outcome === 'APPLIED').reduce((paid, entry) => paid + entry.amountMinor, 0n);
      return total + value(account.balanceMinor, deposits);
    }, 0n);
  const positions = sum('position.', (balance) => balance);
  if (positions !== 0n) failures.push(`the positions sum to ${positions}, not 0, with every transfer ended`);
  const reserveDrift = sum('reserve.', (balance, deposits) => balance - deposits);
  if (reserveDrift !== 0n) failures.push(`the reserves hold ${reserveDrift} more than was paid into them, with no window settled`);
  return failures;
}
