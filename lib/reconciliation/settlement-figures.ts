import { isClearingAccountId } from '../contracts/account-service-contract';
import { formatMinor } from '../contracts/money';
import { settlementAccountOf } from '../contracts/settlement';
import type { AccountLedger } from './accounts';
import { settlementTransferIdOf } from './clearing';
import type { DatedDiscrepancy } from './discrepancy';
import { slotOf, type TransferLegs } from './transfers';

/**
 * The figures reconciliation keeps over the banks' clearing accounts and the settlement bank's
 * positions, with the transfers in flight accounted for. Pure functions.
 *
 * - The clearing mirror, per bank and currency: a bank's clearing balance (what it owes the scheme)
 *   and the sum of its transfer legs at the settlement bank (what the scheme counts it as owing,
 *   negated) cancel out for every transfer that ended whole, so their sum is exactly what the
 *   transfers in flight account for: their clearing entries and settlement legs for that bank.
 *   Window settlement (`settle` entries, the reserve moves `settle.<windowId>`) and liquidity
 *   (deposits, funds-out) are no transfer legs and do not count: they move money between a
 *   bank's own settlement accounts or in from outside, never against its clearing account.
 * - Positions per window: a transfer's legs on position accounts belong to the window its
 *   reservation was decided in (the reservation entry's `windowId`), its credit or release too
 *   whatever window their own entries carry. Every transfer that ended whole nets to zero there,
 *   so a window with nothing in flight sums to zero.
 */

/** Per bank and currency (in the cut): the sum of the bank's transfer legs at the settlement bank, over every entry read so far. */
export interface SettlementTotal {
  bankId: string;
  currency: string;
  settlementMinor: bigint;
}

/** Per window and currency (in the cut): the position legs of the ended transfers attributed to it. */
export interface WindowNet {
  /** null for legs on chains without a window marker. */
  windowId: string | null;
  currency: string;
  netMinor: bigint;
  transfers: number;
}

export interface ClearingMirrorRow {
  bankId: string;
  currency: string;
  /** The bank's clearing account balance, as read. */
  clearingMinor: string;
  /** The sum of the bank's transfer legs at the settlement bank (all its accounts there). */
  settlementMinor: string;
  /** What the transfers in flight account for: their clearing entries and settlement legs for this bank. */
  inFlightMinor: string;
  holds: boolean;
}

export interface WindowRow {
  windowId: string | null;
  currency: string;
  /** The position legs attributed to the window: its ended transfers' and, so far, its in-flight ones'. */
  netMinor: string;
  /** Transfers attributed to it, ended or in flight. */
  transfers: number;
  inFlight: number;
}

const bankKey = (bankId: string, currency: string): string => `${bankId}|${currency}`;
const windowKey = (windowId: string | null, currency: string): string => `${windowId ?? ''}|${currency}`;

function add(totals: Map<string, bigint>, key: string, amountMinor: bigint): void {
  totals.set(key, (totals.get(key) ?? 0n) + amountMinor);
}

/** The cut's totals with the transfer legs among the settlement bank's entries read by this run added. */
export function settlementTotals(previous: readonly SettlementTotal[] | undefined, settlementAccounts: readonly AccountLedger[]): Map<string, SettlementTotal> {
  const totals = new Map((previous ?? []).map((total) => [bankKey(total.bankId, total.currency), { ...total }]));
  for (const { account, entries } of settlementAccounts) {
    const participant = settlementAccountOf(account.accountId);
    if (!participant) continue;
    for (const entry of entries) {
      if (entry.outcome !== 'APPLIED' || settlementTransferIdOf(entry) === undefined || slotOf(entry.operationId) === undefined) continue;
      const key = bankKey(participant.bankId, account.currency);
      const total = totals.get(key) ?? { bankId: participant.bankId, currency: account.currency, settlementMinor: 0n };
      totals.set(key, { ...total, settlementMinor: total.settlementMinor + entry.amountMinor });
    }
  }
  return totals;
}

/** Each participant bank's clearing balances, per currency, as listed (or read again). */
export function clearingBalances(banks: ReadonlyArray<{ bankId: string; accounts: readonly AccountLedger[] }>): Map<string, bigint> {
  const balances = new Map<string, bigint>();
  for (const bank of banks) {
    for (const { account } of bank.accounts) if (isClearingAccountId(account.accountId)) add(balances, bankKey(bank.bankId, account.currency), account.balanceMinor);
  }
  return balances;
}

/** What the transfers in flight account for, per bank and currency: their clearing entries and their settlement legs for that bank. */
function inFlightClearing(pending: readonly TransferLegs[]): Map<string, bigint> {
  const moving = new Map<string, bigint>();
  for (const legs of pending) {
    for (const entry of legs.clearing ?? []) add(moving, bankKey(entry.bankId, entry.currency), entry.amountMinor);
    for (const leg of legs.settlement ?? []) {
      const participant = settlementAccountOf(leg.accountId);
      if (participant) add(moving, bankKey(participant.bankId, leg.currency), leg.amountMinor);
    }
  }
  return moving;
}

/** The clearing mirror per bank and currency, and a CLEARING_MIRROR finding (about the present, made afresh each run) where it does not hold. */
export function clearingMirror(balances: ReadonlyMap<string, bigint>, totals: ReadonlyMap<string, SettlementTotal>, pending: readonly TransferLegs[], reconciledAt: string): { rows: ClearingMirrorRow[]; found: DatedDiscrepancy[] } {
  const moving = inFlightClearing(pending);
  const keys = [...new Set([...balances.keys(), ...totals.keys(), ...moving.keys()])].sort();
  const found: DatedDiscrepancy[] = [];
  const rows = keys.map((key): ClearingMirrorRow => {
    const [bankId = '', currency = ''] = key.split('|');
    const clearing = balances.get(key) ?? 0n;
    const settlement = totals.get(key)?.settlementMinor ?? 0n;
    const inFlight = moving.get(key) ?? 0n;
    const holds = clearing + settlement === inFlight;
    if (!holds) {
      const detail = `${currency}: clearing ${formatMinor(clearing)} + settlement legs ${formatMinor(settlement)} = ${formatMinor(clearing + settlement)}, the transfers in flight account for ${formatMinor(inFlight)}`;
      found.push({ at: reconciledAt, discrepancy: { kind: 'CLEARING_MIRROR', bankId, detail } });
    }
    return { bankId, currency, clearingMinor: formatMinor(clearing), settlementMinor: formatMinor(settlement), inFlightMinor: formatMinor(inFlight), holds };
  });
  return { rows, found };
}

/** The window and sum of a transfer's position legs: the reservation's window, else (no reservation seen) its first position leg's; undefined without position legs. */
export function windowShareOf(legs: TransferLegs): { windowId: string | null; currency: string; netMinor: bigint } | undefined {
  const positions = (legs.settlement ?? []).filter((leg) => settlementAccountOf(leg.accountId)?.kind === 'position');
  const [first] = positions;
  if (!first) return undefined;
  const reservation = positions.find((leg) => leg.slot === 'debit') ?? first;
  return { windowId: reservation.windowId ?? null, currency: reservation.currency, netMinor: positions.reduce((sum, leg) => sum + leg.amountMinor, 0n) };
}

/** Adds an ended transfer's position legs to its window's net. */
export function addToWindow(windows: Map<string, WindowNet>, legs: TransferLegs): void {
  const share = windowShareOf(legs);
  if (!share) return;
  const key = windowKey(share.windowId, share.currency);
  const net = windows.get(key) ?? { windowId: share.windowId, currency: share.currency, netMinor: 0n, transfers: 0 };
  windows.set(key, { ...net, netMinor: net.netMinor + share.netMinor, transfers: net.transfers + 1 });
}

export function windowNets(previous: readonly WindowNet[] | undefined): Map<string, WindowNet> {
  return new Map((previous ?? []).map((net) => [windowKey(net.windowId, net.currency), { ...net }]));
}

/** The windows with their in-flight transfers' legs so far, and POSITIONS_NOT_ZERO (about the present) for a window with nothing in flight that does not sum to zero. */
export function windowRows(judged: ReadonlyMap<string, WindowNet>, pending: readonly TransferLegs[], reconciledAt: string): { rows: WindowRow[]; found: DatedDiscrepancy[] } {
  const rows = new Map<string, WindowRow & { net: bigint }>();
  const rowOf = (windowId: string | null, currency: string) => rows.get(windowKey(windowId, currency)) ?? { windowId, currency, netMinor: '0', transfers: 0, inFlight: 0, net: 0n };
  for (const [key, net] of judged) rows.set(key, { ...rowOf(net.windowId, net.currency), transfers: net.transfers, net: net.netMinor });
  for (const legs of pending) {
    const share = windowShareOf(legs);
    if (!share) continue;
    const row = rowOf(share.windowId, share.currency);
    rows.set(windowKey(share.windowId, share.currency), { ...row, transfers: row.transfers + 1, inFlight: row.inFlight + 1, net: row.net + share.netMinor });
  }
  const found: DatedDiscrepancy[] = [];
  const sorted = [...rows.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, row]) => row);
  for (const row of sorted) {
    if (row.inFlight === 0 && row.net !== 0n) {
      found.push({ at: reconciledAt, discrepancy: { kind: 'POSITIONS_NOT_ZERO', detail: `window ${row.windowId ?? '(unmarked)'} ${row.currency}: its ${row.transfers} transfers ended, its positions sum to ${formatMinor(row.net)}` } });
    }
  }
  return { rows: sorted.map(({ net, ...row }) => ({ ...row, netMinor: formatMinor(net) })), found };
}
