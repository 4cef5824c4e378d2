import { CancellationScope, isCancellation, proxyActivities, proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { AuthorityActivities } from '../activities/authority-activities';
import type { TransferInput, TransferState } from '../lib/contracts/transfer-contract';
import { createCompensations, missingAccountSettles, type Compensations } from './transfer-compensation';
import { transferEvents, type TransferEvents } from './transfer-events';
import { createTransferJournal, legFailure, type LegFailure, type TransferJournal } from './transfer-journal';
import { awaitApproval, registerOperatorHandlers, type EndBeforeDebit, type OperatorRequests } from './transfer-operators';
import { createLegRunner, localFirst, type LegRunner } from './transfer-legs';
import { openPatchGate, transferPatches, type PatchGate } from './transfer-patches';
import { settlementLegsOf, type SettlementLegs } from './transfer-settlement';
import { authorityCheckLocalOptions, authorityCheckOptions, creditGiveUpAfterMsDefault, debitGiveUpAfterMsDefault } from './transfer-policies';
import { validateTransfer } from './transfer-validation';

/**
 * The interbank transfer saga: (approval) → debit at the source → (reservation at the settlement
 * bank) → credit at the target → (settlement credit to the target's bank). When the credit does
 * not happen after a debit, the credit's slot is voided at the target first (a lost answer may
 * hide an applied credit), and only then are the reservation released and the source refunded.
 * Changes to this code go through patched() (convention and ids in transfer-patches.ts): replay
 * tests hold every recorded path.
 */
export async function transferWorkflow(input: TransferInput): Promise<TransferState> {
  // The first command of every run recorded since local-ledger-legs, before anything is scheduled.
  const gate = openPatchGate();
  const events = transferEvents(input, gate);
  const state = await runTransfer(input, events, gate);
  // Deliveries run on in abandoned children; only the recording of the events is waited for.
  await events.drained();
  return state;
}

/** What each step of the saga works with. */
interface Saga {
  input: TransferInput;
  journal: TransferJournal;
  requests: OperatorRequests;
  compensations: Compensations;
  gate: PatchGate;
  legs: LegRunner;
  /** Set once the debit is done, for a transfer that settles between its banks. */
  settlement?: SettlementLegs;
}

async function runTransfer(input: TransferInput, events: TransferEvents, gate: PatchGate): Promise<TransferState> {
  const journal = createTransferJournal(input, events, gate);
  const requests: OperatorRequests = { creditSucceeded: false };
  registerOperatorHandlers(journal, requests, gate);

  if (gate.has(transferPatches.authorisedInput) && !(await signedByTheApi(input, gate))) return journal.refuseUnrecorded('TRANSFER_NOT_AUTHORISED');
  const invalid = validateTransfer(input);
  if (invalid) return journal.finish('REJECTED', invalid);

  // Proxies and closures only: making them schedules nothing.
  const saga: Saga = { input, journal, requests, compensations: createCompensations(input, journal, gate), gate, legs: createLegRunner(gate, journal) };
  const endBeforeDebit: EndBeforeDebit = gate.localDebit ? (status, code) => closeSlots(saga, { status, code, compensating: false }) : journal.finish;
  // A repair run finishes what an earlier run left: never asks for an approval again.
  const repairing = input.repair === true && gate.has(transferPatches.repairRun);
  if (!repairing && BigInt(input.amountMinor) >= BigInt(input.policy.approvalThresholdMinor)) {
    const ended = await awaitApproval(input, journal, requests, gate, endBeforeDebit);
    if (ended) return ended;
    // Here, not in awaitApproval: the status change queues its record write on a promise chain,
    // and the debit must be scheduled in the same synchronous run as in the recorded histories,
    // before that chain's next step schedules the write (commands take their ids in that order).
    journal.setStatus('PENDING');
  }
  if (requests.cancelRequestedBy) return endBeforeDebit('CANCELLED', 'CANCELLED_BY_OPERATOR');
  if (repairing) return repairFromLedgers(saga);
  const undone = await debitSource(saga);
  if (undone) return undone;
  journal.setStatus('DEBITED');
  // No await unless the transfer settles: the credit is scheduled in the same synchronous run as in the recorded histories.
  saga.settlement = settlementLegsOf(input, saga);
  if (saga.settlement) {
    const unreserved = await reserveSettlement(saga, saga.settlement);
    if (unreserved) return unreserved;
  }
  return creditTarget(saga);
}

/** The reservation against the sending bank; the ended (refunded) transfer when there is none. */
async function reserveSettlement(saga: Saga, settlement: SettlementLegs): Promise<TransferState | undefined> {
  const failure = await settlement.reserve();
  if (!failure) return undefined;
  // Unknown, it may have been reserved, and credited, by a lost workflow task: reserve() left the release to this.
  if (saga.gate.localDebit && !failure.refusal) return closeSlots(saga, { status: 'REJECTED', code: failure.code, compensating: true });
  saga.journal.setStatus('COMPENSATING', failure.code);
  await saga.compensations.refundSource();
  return saga.journal.finish('REFUNDED', failure.code);
}

/**
 * The customer's credit is applied: the receiving bank is credited at the settlement bank before
 * the transfer is COMPLETED. Synchronous when the transfer does not settle, so that it finishes in
 * the same run as in the recorded histories.
 */
function completed({ journal, requests, settlement }: Saga): TransferState | Promise<TransferState> {
  requests.creditSucceeded = true;
  if (!settlement) return journal.finish('COMPLETED');
  return settlement.credit().then(() => journal.finish('COMPLETED'));
}

const authority = proxyActivities<AuthorityActivities>(authorityCheckOptions);
const localAuthority = proxyLocalActivities<AuthorityActivities>(authorityCheckLocalOptions);

/** A workflow started around the API (any Temporal client can start one) carries no valid signature: it moves nothing. */
async function signedByTheApi(input: TransferInput, gate: PatchGate): Promise<boolean> {
  const request = { input, workflowId: workflowInfo().workflowId };
  const check = gate.localLegs ? () => localFirst('authority check', () => localAuthority.verifyTransferInput(request), () => authority.verifyTransferInput(request)) : () => authority.verifyTransferInput(request);
  return (await check()).valid;
}

const sourceOf = (input: TransferInput) => ({ bankId: input.source.bankId, accountId: input.source.accountId, transferId: input.transferId });
const targetOf = (input: TransferInput) => ({ bankId: input.target.bankId, accountId: input.target.accountId, transferId: input.transferId });
/**
 * A transfer that settles (its record fixed a settlement policy, and it is between two banks) has
 * its customer legs cleared: each bank books the counterpart on its clearing account. Only an
 * activity's input changes, which replay does not compare, and no transfer recorded before
 * settlement has a policy.
 */
const legOf = (input: TransferInput) => ({
  amountMinor: input.amountMinor,
  currency: input.currency,
  ...(input.policy.settlement !== undefined && input.source.bankId !== input.target.bankId ? { clearing: true } : {}),
});

/** The debit; the ended transfer when it was refused or its outcome unknown (then refunded or voided), else undefined. */
async function debitSource(saga: Saga): Promise<TransferState | undefined> {
  const { input, journal, compensations, gate, legs } = saga;
  const { beginStep, endStep, finish } = journal;
  const debitStep = beginStep('debit');
  const runDebit = gate.localDebit ? legs.localFirst : legs.ordinary;
  try {
    const debited = await runDebit(input.policy.debitGiveUpAfterMs ?? debitGiveUpAfterMsDefault, (activities) => activities.debit({ ...sourceOf(input), ...legOf(input) }));
    endStep(debitStep, 'SUCCEEDED', { attempts: debited.attempt });
    return undefined;
  } catch (error) {
    // A cancel of the workflow abandons the debit call, whose outcome is then unknown like a bank's silence.
    const cancelled = isCancellation(error) && gate.has(transferPatches.workflowCancelIsOperatorCancel);
    const failure: LegFailure = cancelled ? { code: 'CANCELLED_BY_OPERATOR', message: 'the workflow was cancelled while the debit was in flight', refusal: false } : legFailure(error);
    endStep(debitStep, 'FAILED', { failure });
    if (failure.refusal) return finish('REJECTED', failure.code);
    // A refusal is the bank's decision, the same on every attempt; an unknown outcome may hide a debit and a credit.
    if (gate.localDebit) return closeSlots(saga, { status: cancelled ? 'CANCELLED' : 'REJECTED', code: failure.code, compensating: true, codeWithoutSource: cancelled ? failure.code : 'ACCOUNT_NOT_FOUND' });
    // The debit's outcome is unknown: the refund reverses it if it happened, or voids it so it never can.
    journal.setStatus('COMPENSATING', failure.code);
    const refunded = await compensations.refundSource((refusal) => missingAccountSettles(refusal) && gate.has(transferPatches.missingSourceSettlesRefund));
    if (!refunded) return finish(cancelled ? 'CANCELLED' : 'REJECTED', cancelled ? failure.code : 'ACCOUNT_NOT_FOUND');
    const nothingMoved = refunded.entry.kind === 'void' || (refunded.entry.outcome === 'NOTHING_TO_REFUND' && gate.has(transferPatches.nothingToRefundIsRejected));
    if (!nothingMoved) return finish('REFUNDED', failure.code);
    return finish(cancelled ? 'CANCELLED' : 'REJECTED', failure.code);
  }
}

/** The credit, unless an operator cancelled while the debit ran; when it does not happen, the debit is undone. */
async function creditTarget(saga: Saga): Promise<TransferState> {
  const { input, journal, requests, legs } = saga;
  if (requests.cancelRequestedBy) return undoDebit(saga, { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled after the debit', refusal: false });
  const creditStep = journal.beginStep('credit');
  let creditFailure: LegFailure | undefined;
  try {
    const credited = await CancellationScope.cancellable(async () => {
      requests.creditScope = CancellationScope.current();
      return legs.localFirst(input.policy.creditGiveUpAfterMs ?? creditGiveUpAfterMsDefault, (activities) => activities.credit({ ...targetOf(input), ...legOf(input) }));
    });
    requests.creditSucceeded = true;
    journal.endStep(creditStep, 'SUCCEEDED', { attempts: credited.attempt });
  } catch (error) {
    creditFailure = isCancellation(error) ? { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled while the credit was in flight', refusal: false } : legFailure(error);
    journal.endStep(creditStep, 'FAILED', { failure: creditFailure });
  } finally {
    requests.creditScope = undefined;
  }
  return creditFailure ? undoDebit(saga, creditFailure) : completed(saga);
}

/**
 * Never refund blind: a credit whose answer was lost may have been applied, so the credit's slot is
 * voided first (a target account that does not exist holds no credit: nothing to void).
 */
async function undoDebit(saga: Saga, creditFailure: LegFailure): Promise<TransferState> {
  const { input, journal, compensations, settlement } = saga;
  const creditSlot = await compensations.untilDone('credit-void', (activities) => activities.voidCredit(targetOf(input)), missingAccountSettles);
  journal.setAttention(false);
  if (creditSlot?.entry.kind === 'credit' && creditSlot.entry.outcome === 'APPLIED') return completed(saga);
  const reason = creditFailure.refusal ? creditFailure.code : creditFailure.code === 'CANCELLED_BY_OPERATOR' ? 'CANCELLED_BY_OPERATOR' : 'CREDIT_FAILED';
  journal.setStatus('COMPENSATING', reason);
  if (settlement) await settlement.release();
  await compensations.refundSource();
  return journal.finish('REFUNDED', reason);
}

/** How a transfer whose credit does not hold its slot ends: `status` when nothing moved, REFUNDED when the refund reversed a debit. */
interface SlotsEnding {
  status: 'CANCELLED' | 'REJECTED';
  code: string;
  /** COMPENSATING is shown while the reservation is released and the source refunded. */
  compensating: boolean;
  /** The code when the source account does not exist (default: `code`). */
  codeWithoutSource?: string;
}

/**
 * Ends a transfer from the ledgers' facts, whatever this run knows: the credit's slot is voided
 * unless the credit holds it (then the transfer completed), the reservation is released, and the
 * source is refunded, which voids the debit's slot if the debit never happened. A local debit acts
 * before the workflow task that decided it is recorded: a lost task (a killed worker) may have
 * debited and credited, and its retry, meeting a cancel, an approval's timeout or a decision the
 * lost task never recorded, ends the transfer otherwise. Every ending before a recorded credit of a
 * run that takes local-debit comes here, so that such money is found; a cancel before the debit
 * leaves both slots voided, and a late debit or credit can never land.
 */
async function closeSlots(saga: Saga, ending: SlotsEnding): Promise<TransferState> {
  const { input, journal, compensations } = saga;
  const creditSlot = await compensations.untilDone('credit-void', (activities) => activities.voidCredit(targetOf(input)), missingAccountSettles);
  // A customer credit follows a reservation, so a transfer that settles and was credited holds one: it completes.
  saga.settlement = settlementLegsOf(input, saga);
  if (creditSlot?.entry.kind === 'credit' && creditSlot.entry.outcome === 'APPLIED') {
    journal.setAttention(false);
    return completed(saga);
  }
  if (ending.compensating) journal.setStatus('COMPENSATING', ending.code);
  if (saga.settlement) await saga.settlement.release();
  const refunded = await compensations.refundSource(missingAccountSettles);
  if (!refunded) return journal.finish(ending.status, ending.codeWithoutSource ?? ending.code);
  const nothingMoved = refunded.entry.kind === 'void' || refunded.entry.outcome === 'NOTHING_TO_REFUND';
  return journal.finish(nothingMoved ? ending.status : 'REFUNDED', ending.code);
}

/**
 * A repair run: an earlier run stopped (terminated, or deleted) with money possibly in flight. The
 * ledgers know what happened (closeSlots); a repair that moved nothing ends CANCELLED.
 */
function repairFromLedgers(saga: Saga): Promise<TransferState> {
  return closeSlots(saga, { status: 'CANCELLED', code: 'WORKFLOW_TERMINATED', compensating: true });
}
