import { formatMinor } from '../contracts/money';
import { checkAccount, initialMark, type AccountLedger, type AccountMark } from './accounts';
import { discrepanciesListedMax, newestOf, type DatedDiscrepancy, type Discrepancy, type DiscrepancyKind } from './discrepancy';
import type { RecordedView } from './record';
import { judgeReopened, type ReopenedMark, type ReopenedView } from './reopened';
import { addEntry, copyLegs, findingsInto, judgeTransfer, transferIdOf, type LegRecord, type TransferLegs } from './transfers';
import { isClearingAccountId } from '../contracts/account-service-contract';
import { addClearingEntry, addSettlementEntry, judgeOtherSides } from './clearing';
import { isFinalView } from './record';
import { addToWindow, clearingBalances, clearingMirror, settlementTotals, windowNets, windowRows, type ClearingMirrorRow, type SettlementTotal, type WindowNet, type WindowRow } from './settlement-figures';

/**
 * Reconciliation across banks, as a pure function of what the ledgers hold, of what the transfer
 * record says of each transfer, and of where the previous run stopped. A run reads each chain
 * from the previous run's mark (or from its start), judges the transfers that have ended, and
 * carries the rest (in flight) to the next run in its state. Transfers the record reopened after
 * they had ended (a reset) are judged again from their history, without new entries. The
 * activity reads the inputs and keeps the state; the chaos checker reuses the same rules. Amounts
 * in the report are decimal strings of minor units.
 *
 * The settlement bank is read in the same run, with the same marks, but judged apart: its
 * accounts hold the banks' money, not customers', and so do the banks' own clearing accounts;
 * neither counts in the conservation of customer money nor gives customer legs. Their entries
 * are each transfer's other sides (lib/reconciliation/clearing.ts) and the clearing mirror and
 * window positions (lib/reconciliation/settlement-figures.ts).
 */

export { discrepanciesListedMax, transferIdOf };
export type { AccountLedger, AccountMark, ClearingMirrorRow, DatedDiscrepancy, Discrepancy, DiscrepancyKind, LegRecord, RecordedView, ReopenedMark, ReopenedView, SettlementTotal, TransferLegs, WindowNet, WindowRow };

export interface BankLedger {
  bankId: string;
  accounts: readonly AccountLedger[];
}

export interface CurrencyConservation {
  currency: string;
  /** Every applied deposit, across banks. */
  depositsMinor: string;
  /** Every account's balance, across banks. */
  balancesMinor: string;
  /**
   * Money between banks at the moment of reading: debits less credits and refunds seen of the
   * transfers in flight (negative while a credit was read before its debit).
   */
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

/** One bank pair's net so far, signed: positive when `firstBank` (alphabetically first) owes `secondBank`. */
export interface SettlementNet {
  firstBank: string;
  secondBank: string;
  currency: string;
  amountMinor: bigint;
  transfers: number;
}

/**
 * Everything a run hands to the next (the cut): each chain's mark, the deposits so far, the legs
 * of the transfers not judged yet, the tallies of those judged, and the findings so far.
 */
export interface ReconciliationState {
  takenAt: string;
  accounts: AccountMark[];
  depositsMinor: Array<{ currency: string; amountMinor: bigint }>;
  pending: TransferLegs[];
  judged: { transfers: number; completed: number; reversed: number };
  settlement: SettlementNet[];
  /** Findings about entries and judged transfers, newest first, at most discrepanciesListedMax. */
  discrepancies: DatedDiscrepancy[];
  /** All of those findings, listed or not. */
  discrepancyCount: number;
  /**
   * The reopened transfers this run judged (see lib/reconciliation/reopened.ts): as many as the
   * record's reopened set, a small one. Absent in cuts written before they were judged.
   */
  reopened?: ReopenedMark[];
  /** Per bank and currency, its transfer legs at the settlement bank so far. Absent in cuts written before the settlement bank was read. */
  clearing?: SettlementTotal[];
  /** Per settlement window and currency, the position legs of its ended transfers. Absent in cuts written before the settlement bank was read. */
  windows?: WindowNet[];
}

export interface ReadSummary {
  /** The cut this run continued from; null when it read every chain from its start. */
  fromCut: number | null;
  /** Why every chain was read from its start (no cut yet, or one that cannot be continued); null when continued. */
  fullReadReason: string | null;
  /** Accounts this run read entries of. */
  accountsRead: number;
  /** Entries this run read: those after the cut. */
  entriesRead: number;
}

export interface ReconciliationReport {
  reconciledAt: string;
  banks: string[];
  accounts: number;
  /** Entries in every chain, read by this run or an earlier one. */
  entries: number;
  read: ReadSummary;
  /** `seen` counts judged and in-flight transfers; completed and reversed follow what the money did. */
  transfers: { seen: number; completed: number; reversed: number; inFlight: number };
  conservation: CurrencyConservation[];
  settlement: SettlementPosition[];
  /** The settlement bank read with the banks; null when none was. */
  settlementBank: string | null;
  /** Per bank and currency: its clearing account against its legs at the settlement bank. */
  clearing: ClearingMirrorRow[];
  /** Per settlement window and currency (deferred-net): the position legs of its transfers. */
  windows: WindowRow[];
  /** At most `discrepanciesListedMax` of them, newest first; `discrepancyCount` counts all. */
  discrepancies: Discrepancy[];
  discrepancyCount: number;
  /** How many of `discrepancyCount` the list leaves out. */
  discrepanciesLeftOut: number;
}

export interface ReconciliationInput {
  /** Every account, as listed when read, with its entries after its mark in `since` (all of them without one). */
  banks: readonly BankLedger[];
  /** The settlement bank's accounts, read like the banks' (same marks): judged apart, never as a participant. */
  settlementBank?: BankLedger;
  /** The previous run's cut; without it the chains in `banks` are whole. */
  since?: { cut: number; state: ReconciliationState };
  /** The record's word on each transfer, taken before the entries naming it were read. */
  recordOf: (transferId: string) => RecordedView;
  reconciledAt: string;
  /** Said in the report when a cut existed but the chains had to be read whole. */
  fullReadReason?: string;
  /** The record's reopened set, and the transfers the cut's reopened marks name, each with its history as read. */
  reopened?: readonly ReopenedView[];
}

export interface Reconciliation {
  report: ReconciliationReport;
  /** The next run's cut. */
  state: ReconciliationState;
  /** Transfers to take out of the record's reopened set once `state` is stored (not before: a run that stops first judges them again). */
  forget: string[];
}

const markKey = (bankId: string, accountId: string): string => `${bankId}/${accountId}`;

function addTo(totals: Map<string, bigint>, currency: string, amountMinor: bigint): void {
  totals.set(currency, (totals.get(currency) ?? 0n) + amountMinor);
}

interface ChainsRead {
  marks: AccountMark[];
  depositsMinor: Map<string, bigint>;
  balancesMinor: Map<string, bigint>;
  found: DatedDiscrepancy[];
  foundNow: DatedDiscrepancy[];
  accounts: number;
  entries: number;
  accountsRead: number;
  entriesRead: number;
}

/**
 * Every chain's own rules, for the banks' and the settlement bank's alike; only customer accounts
 * (neither a bank's clearing account nor any of the settlement bank's) count in conservation.
 */
function readChains(banks: readonly BankLedger[], settlementBank: BankLedger | undefined, since: ReconciliationState | undefined, reconciledAt: string): ChainsRead {
  const previous = new Map((since?.accounts ?? []).map((mark) => [markKey(mark.bankId, mark.accountId), mark]));
  const read: ChainsRead = { marks: [], depositsMinor: new Map(), balancesMinor: new Map(), found: [], foundNow: [], accounts: 0, entries: 0, accountsRead: 0, entriesRead: 0 };
  for (const { currency, amountMinor } of since?.depositsMinor ?? []) addTo(read.depositsMinor, currency, amountMinor);
  for (const bank of settlementBank ? [...banks, settlementBank] : banks) {
    for (const ledger of bank.accounts) {
      const { account } = ledger;
      const check = checkAccount(bank.bankId, ledger, previous.get(markKey(bank.bankId, account.accountId)) ?? initialMark(bank.bankId, account), reconciledAt);
      read.marks.push(check.mark);
      if (bank !== settlementBank && !isClearingAccountId(account.accountId)) {
        addTo(read.depositsMinor, account.currency, check.depositsMinor);
        addTo(read.balancesMinor, account.currency, account.balanceMinor);
      }
      read.found.push(...check.found);
      read.foundNow.push(...check.foundNow);
      read.accounts += 1;
      read.entries += account.sequence + 1;
      read.entriesRead += ledger.entries.length;
      if (ledger.entries.length > 0) read.accountsRead += 1;
    }
  }
  return read;
}

function addSettlement(nets: Map<string, SettlementNet>, debit: LegRecord, credit: LegRecord): void {
  if (debit.bankId === credit.bankId) return;
  // One signed figure per unordered pair, oriented from the alphabetically first bank.
  const [firstBank, secondBank] = [debit.bankId, credit.bankId].sort() as [string, string];
  const key = `${firstBank}|${secondBank}|${debit.currency}`;
  const net = nets.get(key) ?? { firstBank, secondBank, currency: debit.currency, amountMinor: 0n, transfers: 0 };
  nets.set(key, { ...net, amountMinor: net.amountMinor + (debit.bankId === firstBank ? debit.amountMinor : -debit.amountMinor), transfers: net.transfers + 1 });
}

function settlementPositions(nets: Iterable<SettlementNet>): SettlementPosition[] {
  return [...nets]
    .filter((net) => net.amountMinor !== 0n)
    .map((net) =>
      net.amountMinor > 0n
        ? { debtorBank: net.firstBank, creditorBank: net.secondBank, currency: net.currency, netMinor: formatMinor(net.amountMinor), transfers: net.transfers }
        : { debtorBank: net.secondBank, creditorBank: net.firstBank, currency: net.currency, netMinor: formatMinor(-net.amountMinor), transfers: net.transfers },
    )
    .sort((a, b) => `${a.debtorBank}|${a.creditorBank}|${a.currency}`.localeCompare(`${b.debtorBank}|${b.creditorBank}|${b.currency}`));
}

interface TransfersJudged {
  pending: TransferLegs[];
  judged: ReconciliationState['judged'];
  settlement: Map<string, SettlementNet>;
  windows: Map<string, WindowNet>;
  found: DatedDiscrepancy[];
  /** Of the transfers judged by their legs, those the reopened set names: final or not, and whether APPROVAL_REPEATED was reported. */
  reopened: Map<string, { final: boolean; approvalRepeatedReported: boolean }>;
}

/** Legs of the transfers carried in flight, with the entries read by this run added: customer legs, clearing entries and settlement legs. */
export function legsSeen(banks: readonly BankLedger[], pending: readonly TransferLegs[], settlementBank?: BankLedger): Map<string, TransferLegs> {
  const legs = new Map(pending.map((carried) => [carried.transferId, copyLegs(carried)]));
  for (const bank of banks) {
    for (const { account, entries } of bank.accounts) {
      for (const entry of entries) {
        addEntry(legs, bank.bankId, account, entry);
        addClearingEntry(legs, bank.bankId, account, entry);
      }
    }
  }
  if (settlementBank) for (const { account, entries } of settlementBank.accounts) for (const entry of entries) addSettlementEntry(legs, settlementBank.bankId, account, entry);
  return legs;
}

/** Transfers the cut already reported APPROVAL_REPEATED of: a finding it lists, or a reopened mark. */
function approvalsReported(since: ReconciliationState | undefined): Set<string> {
  const reported = new Set((since?.reopened ?? []).filter((mark) => mark.approvalRepeatedReported).map((mark) => mark.transferId));
  for (const { discrepancy } of since?.discrepancies ?? []) if (discrepancy.kind === 'APPROVAL_REPEATED' && discrepancy.transferId !== undefined) reported.add(discrepancy.transferId);
  return reported;
}

/** Judges one transfer by its customer legs, then (ended in the record) by its other sides. */
function judgeWithOtherSides(legs: TransferLegs, view: RecordedView, settlementRead: boolean): ReturnType<typeof judgeTransfer> {
  const judgement = judgeTransfer(legs, view);
  if (judgement.outcome !== 'in-flight' && isFinalView(view)) judgeOtherSides(legs, judgement.outcome, settlementRead, findingsInto(judgement.found, legs));
  return judgement;
}

function judgeTransfers(since: ReconciliationState | undefined, input: Pick<ReconciliationInput, 'banks' | 'settlementBank' | 'recordOf' | 'reopened'>): TransfersJudged {
  const result: TransfersJudged = { pending: [], judged: { ...(since?.judged ?? { transfers: 0, completed: 0, reversed: 0 }) }, settlement: new Map(), windows: windowNets(since?.windows), found: [], reopened: new Map() };
  for (const net of since?.settlement ?? []) result.settlement.set(`${net.firstBank}|${net.secondBank}|${net.currency}`, net);
  const reported = approvalsReported(since);
  const reopened = new Set((input.reopened ?? []).map((view) => view.transferId));
  for (const seen of legsSeen(input.banks, since?.pending ?? [], input.settlementBank).values()) {
    // A transfer judged before and named by entries again (a reset that wrote a new leg) keeps what the cut reported of it.
    const legs = { ...seen, approvalRepeatedReported: seen.approvalRepeatedReported || reported.has(seen.transferId) };
    const judgement = judgeWithOtherSides(legs, input.recordOf(legs.transferId), input.settlementBank !== undefined);
    result.found.push(...judgement.found);
    if (reopened.has(legs.transferId)) result.reopened.set(legs.transferId, { final: judgement.outcome !== 'in-flight', approvalRepeatedReported: judgement.approvalRepeatedReported });
    if (judgement.outcome === 'in-flight') {
      result.pending.push({ ...legs, approvalRepeatedReported: judgement.approvalRepeatedReported });
      continue;
    }
    result.judged.transfers += 1;
    addToWindow(result.windows, legs);
    const [debit] = legs.debits;
    const [credit] = legs.credits;
    if (judgement.outcome === 'completed' && debit && credit) {
      result.judged.completed += 1;
      addSettlement(result.settlement, debit, credit);
    }
    if (judgement.outcome === 'reversed') result.judged.reversed += 1;
  }
  result.pending.sort((a, b) => a.transferId.localeCompare(b.transferId));
  return result;
}

interface ReopenedJudged {
  found: DatedDiscrepancy[];
  marks: ReopenedMark[];
  forget: string[];
}

/**
 * The reopened transfers: those whose legs this run holds were judged with them above; the
 * others are judged again from their history (lib/reconciliation/reopened.ts).
 */
function judgeReopenedTransfers(views: readonly ReopenedView[], since: ReconciliationState | undefined, byLegs: TransfersJudged['reopened']): ReopenedJudged {
  const result: ReopenedJudged = { found: [], marks: [], forget: [] };
  const previous = new Map((since?.reopened ?? []).map((mark) => [mark.transferId, mark]));
  const reported = approvalsReported(since);
  for (const view of views) {
    const judgedByLegs = byLegs.get(view.transferId);
    const judgement = judgedByLegs
      ? { found: [], mark: { transferId: view.transferId, entries: view.kind === 'recorded' ? view.entries : 0, ...judgedByLegs }, forget: judgedByLegs.final && view.inSet }
      : judgeReopened(view, previous.get(view.transferId), reported.has(view.transferId));
    result.found.push(...judgement.found);
    if (judgement.mark) result.marks.push(judgement.mark);
    if (judgement.forget) result.forget.push(view.transferId);
  }
  result.marks.sort((a, b) => a.transferId.localeCompare(b.transferId));
  return result;
}

function conservation(chains: ChainsRead, pending: readonly TransferLegs[], reconciledAt: string): { rows: CurrencyConservation[]; found: DatedDiscrepancy[] } {
  const inFlight = new Map<string, bigint>();
  for (const legs of pending) {
    for (const debit of legs.debits) addTo(inFlight, debit.currency, debit.amountMinor);
    for (const leg of [...legs.credits, ...legs.refunds]) addTo(inFlight, leg.currency, -leg.amountMinor);
  }
  const currencies = [...new Set([...chains.depositsMinor.keys(), ...chains.balancesMinor.keys(), ...inFlight.keys()])].sort();
  const found: DatedDiscrepancy[] = [];
  const rows = currencies.map((currency) => {
    const deposits = chains.depositsMinor.get(currency) ?? 0n;
    const balances = chains.balancesMinor.get(currency) ?? 0n;
    const moving = inFlight.get(currency) ?? 0n;
    const holds = balances + moving === deposits;
    if (!holds) {
      found.push({ at: reconciledAt, discrepancy: { kind: 'CONSERVATION', detail: `${currency}: deposits ${formatMinor(deposits)}, balances ${formatMinor(balances)} + in flight ${formatMinor(moving)}` } });
    }
    return { currency, depositsMinor: formatMinor(deposits), balancesMinor: formatMinor(balances), inFlightMinor: formatMinor(moving), holds };
  });
  return { rows, found };
}

/** Reconciles every bank's ledger from the previous run's cut (or from the start) and gives the next cut. */
export function reconcile(input: ReconciliationInput): Reconciliation {
  const since = input.since?.state;
  const chains = readChains(input.banks, input.settlementBank, since, input.reconciledAt);
  const transfers = judgeTransfers(since, input);
  const reopened = judgeReopenedTransfers(input.reopened ?? [], since, transfers.reopened);
  const conserved = conservation(chains, transfers.pending, input.reconciledAt);
  const totals = settlementTotals(since?.clearing, input.settlementBank?.accounts ?? []);
  // Without the settlement bank there is nothing for the clearing accounts to mirror.
  const mirror = input.settlementBank ? clearingMirror(clearingBalances(input.banks), totals, transfers.pending, input.reconciledAt) : { rows: [], found: [] };
  const windows = windowRows(transfers.windows, transfers.pending, input.reconciledAt);
  const foundNow = [...conserved.found, ...chains.foundNow, ...mirror.found, ...windows.found];
  const carriedFound = [...chains.found, ...transfers.found, ...reopened.found];
  const state: ReconciliationState = {
    takenAt: input.reconciledAt,
    accounts: chains.marks,
    depositsMinor: [...chains.depositsMinor].map(([currency, amountMinor]) => ({ currency, amountMinor })),
    pending: transfers.pending,
    judged: transfers.judged,
    settlement: [...transfers.settlement.values()],
    discrepancies: newestOf([since?.discrepancies ?? [], carriedFound]),
    discrepancyCount: (since?.discrepancyCount ?? 0) + carriedFound.length,
    reopened: reopened.marks,
    clearing: [...totals.values()],
    windows: [...transfers.windows.values()],
  };
  const listed = newestOf([foundNow, state.discrepancies]);
  const discrepancyCount = state.discrepancyCount + foundNow.length;
  const report: ReconciliationReport = {
    reconciledAt: input.reconciledAt,
    banks: input.banks.map((bank) => bank.bankId),
    accounts: chains.accounts,
    entries: chains.entries,
    read: { fromCut: input.since?.cut ?? null, fullReadReason: input.since ? null : (input.fullReadReason ?? 'no earlier cut'), accountsRead: chains.accountsRead, entriesRead: chains.entriesRead },
    transfers: { seen: transfers.judged.transfers + transfers.pending.length, completed: transfers.judged.completed, reversed: transfers.judged.reversed, inFlight: transfers.pending.length },
    conservation: conserved.rows,
    settlement: settlementPositions(transfers.settlement.values()),
    settlementBank: input.settlementBank?.bankId ?? null,
    clearing: mirror.rows,
    windows: windows.rows,
    discrepancies: listed.map((dated) => dated.discrepancy),
    discrepancyCount,
    discrepanciesLeftOut: discrepancyCount - listed.length,
  };
  return { report, state, forget: reopened.forget };
}
