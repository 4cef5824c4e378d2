import { isClearingAccountId } from '../contracts/account-service-contract';
import { formatMinor } from '../contracts/money';
import { isSettlementBankOwnMove, settlementAccountOf } from '../contracts/settlement';
import type { ChainAccount, ChainEntry } from './accounts';
import { recordOf, slotOf, transferIdOf, type Finding, type LegRecord, type LegSlot, type LegsOutcome, type SettlementLeg, type TransferLegs } from './transfers';

/**
 * The rules for a transfer's other sides, once it has ended: its counterparts on the banks'
 * clearing accounts (double entry at each bank) and its legs at the settlement bank, each against
 * its customer legs. Pure functions.
 *
 * A counterpart is booked before its leg's request is answered, and every settlement leg before
 * the saga's final status, so a transfer final in the record has all of them: anything missing
 * or extra is a finding, never a race of the reading (the reader reads such chains again first).
 */

/** The signed amount a customer leg's counterpart books: a debit raises what the bank owes the scheme, a credit and a refund lower it. */
function counterpartAmount(slot: LegSlot, leg: LegRecord): bigint {
  return slot === 'debit' ? leg.amountMinor : -leg.amountMinor;
}

const signed = (amount: bigint): string => (amount > 0n ? `+${formatMinor(amount)}` : formatMinor(amount));

/** The customer legs by slot, as the record of a transfer holds them. */
function customerLegs(legs: TransferLegs): Array<[LegSlot, LegRecord]> {
  return [...legs.debits.map((leg): [LegSlot, LegRecord] => ['debit', leg]), ...legs.credits.map((leg): [LegSlot, LegRecord] => ['credit', leg]), ...legs.refunds.map((leg): [LegSlot, LegRecord] => ['refund', leg])];
}

/** Adds a clearing entry (kind `clearing` on a `clearing.<currency>` account) to the transfer it names; other entries are ignored. */
export function addClearingEntry(legs: Map<string, TransferLegs>, bankId: string, account: ChainAccount, entry: ChainEntry): void {
  if (entry.kind !== 'clearing' || !isClearingAccountId(account.accountId)) return;
  const slot = slotOf(entry.operationId);
  const separator = entry.operationId.lastIndexOf(':');
  if (slot === undefined || separator <= 0) return;
  const record = recordOf(legs, entry.operationId.slice(0, separator), entry);
  if (entry.outcome !== 'APPLIED' || entry.amountMinor === 0n) return;
  record.clearing = [...(record.clearing ?? []), { bankId, accountId: account.accountId, currency: account.currency, slot, amountMinor: entry.amountMinor }];
}

/** The transfer a settlement bank's entry is a leg of: a debit, credit, refund or void under `<transferId>:…`, not a funds-out nor a window's own move. */
export function settlementTransferIdOf(entry: ChainEntry): string | undefined {
  const transferId = transferIdOf(entry);
  return transferId === undefined || isSettlementBankOwnMove(transferId) ? undefined : transferId;
}

/** Adds a settlement bank's entry to the transfer it is a leg of; deposits, funds-out, markers, `settle` and cap changes are ignored. */
export function addSettlementEntry(legs: Map<string, TransferLegs>, bankId: string, account: ChainAccount, entry: ChainEntry): void {
  const transferId = settlementTransferIdOf(entry);
  const slot = slotOf(entry.operationId);
  if (transferId === undefined || slot === undefined) return;
  const record = recordOf(legs, transferId, entry);
  // A refused reservation and a voided slot move nothing: they are evidence, not legs.
  if (entry.outcome !== 'APPLIED' || entry.amountMinor === 0n) return;
  const leg: SettlementLeg = { bankId, accountId: account.accountId, currency: account.currency, slot, amountMinor: entry.amountMinor, ...(entry.windowId === undefined ? {} : { windowId: entry.windowId }) };
  record.settlement = [...(record.settlement ?? []), leg];
}

const counterpartKey = (bankId: string, accountId: string, slot: LegSlot): string => `${bankId}|${accountId}|${slot}`;

/** Every cleared customer leg has its counterpart (same bank and slot, opposite amount) and every counterpart its leg. */
function judgeCounterparts(legs: TransferLegs, at: Finding): void {
  const expected = new Map<string, { slot: LegSlot; leg: LegRecord; clearingAccountId: string; amountMinor: bigint }>();
  for (const [slot, leg] of customerLegs(legs)) {
    const { clearingAccountId } = leg;
    if (clearingAccountId !== undefined) expected.set(counterpartKey(leg.bankId, clearingAccountId, slot), { slot, leg, clearingAccountId, amountMinor: counterpartAmount(slot, leg) });
  }
  const booked = new Map((legs.clearing ?? []).map((entry) => [counterpartKey(entry.bankId, entry.accountId, entry.slot), entry]));
  for (const [key, { slot, leg, clearingAccountId, amountMinor }] of expected) {
    const counterpart = booked.get(key);
    const clearing = { bankId: leg.bankId, accountId: clearingAccountId };
    if (!counterpart) at('CLEARING_MISMATCH', `the ${slot} of ${formatMinor(leg.amountMinor)} ${leg.currency} on ${leg.accountId} has no counterpart on ${clearing.accountId}`, clearing);
    else if (counterpart.amountMinor !== amountMinor || counterpart.currency !== leg.currency) {
      at('CLEARING_MISMATCH', `the ${slot} of ${formatMinor(leg.amountMinor)} ${leg.currency} on ${leg.accountId} has a counterpart of ${signed(counterpart.amountMinor)} ${counterpart.currency}, not ${signed(amountMinor)}`, clearing);
    }
  }
  for (const [key, entry] of booked) {
    if (!expected.has(key)) at('CLEARING_MISMATCH', `a clearing entry of ${signed(entry.amountMinor)} ${entry.currency} in the ${entry.slot} slot, and no cleared customer ${entry.slot} at ${entry.bankId}`, entry);
  }
}

/** The saga clears all of a transfer's customer legs or none: a debit cleared and its credit or refund not (or the reverse) is a finding. */
function judgeClearedTogether(legs: TransferLegs, at: Finding): void {
  const [debit] = legs.debits;
  const other = legs.credits[0] ?? legs.refunds[0];
  if (!debit || !other) return;
  if ((debit.clearingAccountId === undefined) !== (other.clearingAccountId === undefined)) {
    const [cleared, uncleared] = debit.clearingAccountId === undefined ? ['its credit or refund', 'its debit'] : ['its debit', 'its credit or refund'];
    at('CLEARING_MISMATCH', `${cleared} is cleared, ${uncleared} is not`, debit.clearingAccountId === undefined ? debit : other);
  }
}

const describeLegs = (legs: readonly SettlementLeg[]): string => (legs.length === 0 ? 'none' : legs.map((leg) => `${leg.slot} ${signed(leg.amountMinor)} on ${leg.accountId}`).join(', '));

/** Completed and cleared: the sender's account at the settlement bank moved −amount, the receiver's (same kind) +amount, nothing else. */
function settledWhole(legs: TransferLegs, settlement: readonly SettlementLeg[]): boolean {
  const [debit] = legs.debits;
  const [credit] = legs.credits;
  const reserved = settlement.find((leg) => leg.slot === 'debit');
  const paid = settlement.find((leg) => leg.slot === 'credit');
  if (!debit || !credit || !reserved || !paid || settlement.length !== 2) return false;
  const from = settlementAccountOf(reserved.accountId);
  const to = settlementAccountOf(paid.accountId);
  return from?.bankId === debit.bankId && to?.bankId === credit.bankId && from.kind === to.kind && reserved.amountMinor === -debit.amountMinor && paid.amountMinor === debit.amountMinor && reserved.currency === debit.currency && paid.currency === debit.currency;
}

/** Not completed: nothing kept moved at the settlement bank (a reservation released, or refused, or none), and no credit. */
function settledNothing(settlement: readonly SettlementLeg[]): boolean {
  const nets = new Map<string, bigint>();
  for (const leg of settlement) nets.set(leg.accountId, (nets.get(leg.accountId) ?? 0n) + leg.amountMinor);
  return !settlement.some((leg) => leg.slot === 'credit') && [...nets.values()].every((net) => net === 0n);
}

/** The settlement bank's legs against what the customer legs did (`outcome`); a transfer whose customer legs are broken is judged by those alone. */
function judgeSettlementLegs(legs: TransferLegs, outcome: LegsOutcome, at: Finding): void {
  if (outcome === 'broken') return;
  const settlement = legs.settlement ?? [];
  const where = settlement[0];
  if (legs.debits[0]?.clearingAccountId === undefined) {
    if (where) at('SETTLEMENT_MISMATCH', `settlement legs (${describeLegs(settlement)}) for a transfer with no cleared customer legs`, where);
    return;
  }
  if (outcome === 'completed') {
    if (!where) at('SETTLEMENT_MISMATCH', 'a cleared transfer completed with no settlement legs');
    else if (!settledWhole(legs, settlement)) at('SETTLEMENT_MISMATCH', `completed from ${legs.debits[0].bankId} to ${legs.credits[0]?.bankId ?? '?'} for ${formatMinor(legs.debits[0].amountMinor)}, the settlement bank holds ${describeLegs(settlement)}`, where);
    return;
  }
  if (where && !settledNothing(settlement)) at('SETTLEMENT_MISMATCH', `no money kept moved between the customers, the settlement bank holds ${describeLegs(settlement)}`, where);
}

/**
 * Judges an ended transfer's counterparts and, when the settlement bank was read (`settlementRead`),
 * its settlement legs; `outcome` is what its customer legs did.
 */
export function judgeOtherSides(legs: TransferLegs, outcome: LegsOutcome, settlementRead: boolean, at: Finding): void {
  judgeCounterparts(legs, at);
  judgeClearedTogether(legs, at);
  if (settlementRead) judgeSettlementLegs(legs, outcome, at);
}

/** True when judging the transfer's counterparts and settlement legs would find nothing (the reader reads their chains again otherwise). */
export function otherSidesAgree(legs: TransferLegs, outcome: LegsOutcome, settlementRead: boolean): boolean {
  let agree = true;
  judgeOtherSides(legs, outcome, settlementRead, () => {
    agree = false;
  });
  return agree;
}
