import type { AccountView, LedgerEntryView } from './account-service-contract';
import { formatMinor } from './money';

/**
 * Reconciliation across banks, as a pure function of what the ledgers hold and of what
 * Temporal knows about each transfer. The activity reads the inputs; the chaos checker
 * reuses the same rules. Amounts in the report are decimal strings of minor units.
 */

/** One account and its whole chain, oldest entry first. */
export interface AccountLedger {
  account: AccountView;
  entries: readonly LedgerEntryView[];
}

export interface BankLedger {
  bankId: string;
  accounts: readonly AccountLedger[];
}

/**
 * What Temporal says of a transfer: CLOSED (its workflow ended before the ledgers were read),
 * RUNNING (or ended while they were read: still in flight for this report), UNKNOWN (no workflow).
 */
export type TransferPresence = 'CLOSED' | 'RUNNING' | 'UNKNOWN';

export type DiscrepancyKind =
  | 'DEBIT_WITHOUT_CREDIT_OR_REFUND'
  | 'CREDIT_WITHOUT_DEBIT'
  | 'REFUND_WITHOUT_DEBIT'
  | 'CREDIT_AND_REFUND'
  | 'AMOUNT_MISMATCH'
  | 'DUPLICATE_LEG'
  | 'UNKNOWN_TRANSFER'
  | 'DUPLICATE_OPERATION'
  | 'CHAIN_BROKEN'
  | 'BALANCE_MISMATCH'
  | 'BELOW_LIMIT'
  | 'CONSERVATION';

export interface Discrepancy {
  kind: DiscrepancyKind;
  detail: string;
  transferId?: string;
  bankId?: string;
  accountId?: string;
}

export interface CurrencyConservation {
  currency: string;
  /** Every applied deposit, across banks. */
  depositsMinor: string;
  /** Every account's balance, across banks. */
  balancesMinor: string;
  /** Debits of transfers still in flight: money between banks at the moment of reading. */
  inFlightMinor: string;
  holds: boolean;
}

/** What `debtorBank` owes `creditorBank` net, from completed transfers (always positive). */
export interface SettlementPosition {
  debtorBank: string;
  creditorBank: string;
  currency: string;
  netMinor: string;
  transfers: number;
}

export interface ReconciliationReport {
  reconciledAt: string;
  banks: string[];
  accounts: number;
  entries: number;
  transfers: { seen: number; completed: number; reversed: number; inFlight: number };
  conservation: CurrencyConservation[];
  settlement: SettlementPosition[];
  /** At most `discrepanciesListedMax` of them; `discrepancyCount` counts all. */
  discrepancies: Discrepancy[];
  discrepancyCount: number;
}

export const discrepanciesListedMax = 500;

interface LegRecord {
  bankId: string;
  accountId: string;
  currency: string;
  /** Unsigned amount the entry moved. */
  amountMinor: bigint;
}

interface TransferLegs {
  debits: LegRecord[];
  credits: LegRecord[];
  refunds: LegRecord[];
  /** Any entry naming the transfer, moving money or not. */
  entries: number;
}

const transferLegKinds = new Set(['debit', 'credit', 'refund', 'void']);

/** `<transferId>:debit|credit|refund` → transferId; undefined for deposits and status changes. */
export function transferIdOf(entry: LedgerEntryView): string | undefined {
  if (!transferLegKinds.has(entry.kind)) return undefined;
  const separator = entry.operationId.lastIndexOf(':');
  return separator > 0 ? entry.operationId.slice(0, separator) : undefined;
}

function absolute(value: bigint): bigint {
  return value < 0n ? -value : value;
}

/** Every transfer id the ledgers mention, so that the caller can ask Temporal about each. */
export function transferIdsIn(banks: readonly BankLedger[]): Set<string> {
  const ids = new Set<string>();
  for (const bank of banks) {
    for (const { entries } of bank.accounts) {
      for (const entry of entries) {
        const transferId = transferIdOf(entry);
        if (transferId !== undefined) ids.add(transferId);
      }
    }
  }
  return ids;
}

/** Per-account rules: an unbroken chain, each balance the running sum, never below the limit, no operation twice. */
function checkAccount(bankId: string, ledger: AccountLedger, found: Discrepancy[]): void {
  const { account, entries } = ledger;
  const where = { bankId, accountId: account.accountId };
  const limit = -BigInt(account.overdraftLimitMinor);
  const operations = new Set<string>();
  let running = 0n;
  entries.forEach((entry, index) => {
    if (entry.sequence !== index) found.push({ kind: 'CHAIN_BROKEN', ...where, detail: `entry ${index} has sequence ${entry.sequence}` });
    if (operations.has(entry.operationId)) found.push({ kind: 'DUPLICATE_OPERATION', ...where, detail: `operation ${entry.operationId} decided twice` });
    operations.add(entry.operationId);
    running += BigInt(entry.amountMinor);
    if (BigInt(entry.balanceAfterMinor) !== running) {
      found.push({ kind: 'BALANCE_MISMATCH', ...where, detail: `entry ${entry.sequence} says ${entry.balanceAfterMinor}, its chain sums to ${formatMinor(running)}` });
    }
    // A refund or credit may land on an account already below its limit; only a debit may not take it there.
    if (entry.kind === 'debit' && entry.outcome === 'APPLIED' && BigInt(entry.balanceAfterMinor) < limit) {
      found.push({ kind: 'BELOW_LIMIT', ...where, detail: `entry ${entry.sequence} left ${entry.balanceAfterMinor}, below the limit ${formatMinor(limit)}` });
    }
  });
  if (BigInt(account.balanceMinor) !== running) {
    found.push({ kind: 'BALANCE_MISMATCH', ...where, detail: `balance ${account.balanceMinor}, entries sum to ${formatMinor(running)}` });
  }
}

function collectLegs(banks: readonly BankLedger[]): Map<string, TransferLegs> {
  const legs = new Map<string, TransferLegs>();
  for (const bank of banks) {
    for (const { account, entries } of bank.accounts) {
      for (const entry of entries) {
        const transferId = transferIdOf(entry);
        if (transferId === undefined) continue;
        const record = legs.get(transferId) ?? { debits: [], credits: [], refunds: [], entries: 0 };
        record.entries += 1;
        if (entry.outcome === 'APPLIED' && entry.kind !== 'void') {
          const leg = { bankId: bank.bankId, accountId: account.accountId, currency: account.currency, amountMinor: absolute(BigInt(entry.amountMinor)) };
          if (entry.kind === 'debit') record.debits.push(leg);
          if (entry.kind === 'credit') record.credits.push(leg);
          if (entry.kind === 'refund') record.refunds.push(leg);
        }
        legs.set(transferId, record);
      }
    }
  }
  return legs;
}

type TransferOutcome = 'completed' | 'reversed' | 'in-flight' | 'nothing-moved' | 'broken';

/** The rules for one transfer's legs; pushes what breaks them and says what the money did. */
function checkTransfer(transferId: string, legs: TransferLegs, presence: TransferPresence, found: Discrepancy[]): TransferOutcome {
  const at = (kind: DiscrepancyKind, detail: string, leg?: LegRecord): void => {
    found.push({ kind, transferId, detail, ...(leg ? { bankId: leg.bankId, accountId: leg.accountId } : {}) });
  };
  if (presence === 'UNKNOWN') {
    at('UNKNOWN_TRANSFER', `${legs.entries} ledger entries name a transfer Temporal does not know`, legs.debits[0] ?? legs.credits[0] ?? legs.refunds[0]);
    return 'broken';
  }
  const { debits, credits, refunds } = legs;
  if (debits.length > 1 || credits.length > 1 || refunds.length > 1) {
    at('DUPLICATE_LEG', `${debits.length} debits, ${credits.length} credits, ${refunds.length} refunds applied`);
    return 'broken';
  }
  const [debit] = debits;
  const [credit] = credits;
  const [refund] = refunds;
  if (!debit) {
    if (credit) at('CREDIT_WITHOUT_DEBIT', `credit of ${formatMinor(credit.amountMinor)} with no applied debit`, credit);
    if (refund) at('REFUND_WITHOUT_DEBIT', `refund of ${formatMinor(refund.amountMinor)} with no applied debit`, refund);
    return credit || refund ? 'broken' : 'nothing-moved';
  }
  if (credit && refund) {
    at('CREDIT_AND_REFUND', `debit of ${formatMinor(debit.amountMinor)} both credited and refunded`, refund);
    return 'broken';
  }
  const other = credit ?? refund;
  if (other && (other.amountMinor !== debit.amountMinor || other.currency !== debit.currency)) {
    at('AMOUNT_MISMATCH', `debit ${formatMinor(debit.amountMinor)} ${debit.currency}, ${credit ? 'credit' : 'refund'} ${formatMinor(other.amountMinor)} ${other.currency}`, other);
    return 'broken';
  }
  if (credit) return 'completed';
  if (refund) return 'reversed';
  if (presence === 'RUNNING') return 'in-flight';
  at('DEBIT_WITHOUT_CREDIT_OR_REFUND', `debit of ${formatMinor(debit.amountMinor)} ${debit.currency}, the transfer ended without credit or refund`, debit);
  return 'broken';
}

function settlementPositions(completed: ReadonlyArray<{ debit: LegRecord; credit: LegRecord }>): SettlementPosition[] {
  const net = new Map<string, { debtorBank: string; creditorBank: string; currency: string; amountMinor: bigint; transfers: number }>();
  for (const { debit, credit } of completed) {
    if (debit.bankId === credit.bankId) continue;
    // One signed figure per unordered pair, oriented from the alphabetically first bank.
    const [first, second] = [debit.bankId, credit.bankId].sort() as [string, string];
    const key = `${first}|${second}|${debit.currency}`;
    const position = net.get(key) ?? { debtorBank: first, creditorBank: second, currency: debit.currency, amountMinor: 0n, transfers: 0 };
    position.amountMinor += debit.bankId === first ? debit.amountMinor : -debit.amountMinor;
    position.transfers += 1;
    net.set(key, position);
  }
  return [...net.values()]
    .filter((position) => position.amountMinor !== 0n)
    .map((position) =>
      position.amountMinor > 0n
        ? { debtorBank: position.debtorBank, creditorBank: position.creditorBank, currency: position.currency, netMinor: formatMinor(position.amountMinor), transfers: position.transfers }
        : { debtorBank: position.creditorBank, creditorBank: position.debtorBank, currency: position.currency, netMinor: formatMinor(-position.amountMinor), transfers: position.transfers },
    )
    .sort((a, b) => `${a.debtorBank}|${a.creditorBank}|${a.currency}`.localeCompare(`${b.debtorBank}|${b.creditorBank}|${b.currency}`));
}

function conservation(banks: readonly BankLedger[], inFlightDebits: readonly LegRecord[], found: Discrepancy[]): CurrencyConservation[] {
  const totals = new Map<string, { deposits: bigint; balances: bigint; inFlight: bigint }>();
  const of = (currency: string) => {
    const total = totals.get(currency) ?? { deposits: 0n, balances: 0n, inFlight: 0n };
    totals.set(currency, total);
    return total;
  };
  for (const bank of banks) {
    for (const { account, entries } of bank.accounts) {
      const total = of(account.currency);
      total.balances += BigInt(account.balanceMinor);
      for (const entry of entries) if (entry.kind === 'deposit' && entry.outcome === 'APPLIED') total.deposits += BigInt(entry.amountMinor);
    }
  }
  for (const debit of inFlightDebits) of(debit.currency).inFlight += debit.amountMinor;
  return [...totals.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, total]) => {
      const holds = total.balances + total.inFlight === total.deposits;
      if (!holds) {
        found.push({ kind: 'CONSERVATION', detail: `${currency}: deposits ${formatMinor(total.deposits)}, balances ${formatMinor(total.balances)} + in flight ${formatMinor(total.inFlight)}` });
      }
      return { currency, depositsMinor: formatMinor(total.deposits), balancesMinor: formatMinor(total.balances), inFlightMinor: formatMinor(total.inFlight), holds };
    });
}

/** Reconciles every bank's ledger; `presenceOf` says what Temporal knows of each transfer id. */
export function reconcile(banks: readonly BankLedger[], presenceOf: (transferId: string) => TransferPresence, reconciledAt: string): ReconciliationReport {
  const found: Discrepancy[] = [];
  let accounts = 0;
  let entries = 0;
  for (const bank of banks) {
    for (const ledger of bank.accounts) {
      accounts += 1;
      entries += ledger.entries.length;
      checkAccount(bank.bankId, ledger, found);
    }
  }
  const transfers = { seen: 0, completed: 0, reversed: 0, inFlight: 0 };
  const completed: Array<{ debit: LegRecord; credit: LegRecord }> = [];
  const inFlightDebits: LegRecord[] = [];
  for (const [transferId, legs] of collectLegs(banks)) {
    transfers.seen += 1;
    const outcome = checkTransfer(transferId, legs, presenceOf(transferId), found);
    const [debit] = legs.debits;
    const [credit] = legs.credits;
    if (outcome === 'completed' && debit && credit) {
      transfers.completed += 1;
      completed.push({ debit, credit });
    }
    if (outcome === 'reversed') transfers.reversed += 1;
    if (outcome === 'in-flight' && debit) {
      transfers.inFlight += 1;
      inFlightDebits.push(debit);
    }
  }
  const currencies = conservation(banks, inFlightDebits, found);
  return {
    reconciledAt,
    banks: banks.map((bank) => bank.bankId),
    accounts,
    entries,
    transfers,
    conservation: currencies,
    settlement: settlementPositions(completed),
    discrepancies: found.slice(0, discrepanciesListedMax),
    discrepancyCount: found.length,
  };
}
