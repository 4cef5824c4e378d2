import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { AccountActivities, LegResult } from '../activities/account-activities';
import { isBusinessRefusal } from '../lib/error-codes';
import { eventTypeOfStatus } from '../lib/event-contract';
import { searchAttributes } from '../lib/search-attributes';
import type { OperatorDecision, TransferInput, TransferReason, TransferState, TransferStatus, TransferStep, TransferStepName } from '../lib/transfer-contract';
import { transferEvents, type TransferEvents } from './transfer-events';
import { approveUpdate, cancelUpdate, rejectUpdate, transferStateQuery } from './transfer-definitions';
import { transferPatches } from './transfer-patches';
import {
  compensationOptions,
  compensationRefusalPauseMaxMs,
  compensationRoundPauseMs,
  creditGiveUpAfterMsDefault,
  debitGiveUpAfterMsDefault,
  legOptions,
  persistentCompensationOptions,
} from './transfer-policies';
import { validateTransfer } from './transfer-validation';

/** What an activity failure tells the saga: a ledger's refusal code, or that the bank never answered. */
interface LegFailure {
  code: string;
  message: string;
  refusal: boolean;
}

/** Who decided, in the state, when the workflow itself was cancelled (the workflow cannot see by whom). */
const workflowCancelOperator = 'workflow-cancel-request';

function legFailure(error: unknown): LegFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type && isBusinessRefusal(cause.type)) return { code: cause.type, message: cause.message, refusal: true };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code: cause instanceof ApplicationFailure && cause.type ? cause.type : 'BANK_UNAVAILABLE', message, refusal: false };
}

/**
 * The interbank transfer saga: (approval) → debit at the source → credit at the target.
 * When the credit does not happen after a debit, the credit's slot is voided at the target
 * first (a lost answer may hide an applied credit), and only then is the source refunded.
 * Changes to this code go through patched() (convention and ids in transfer-patches.ts): replay
 * tests hold every recorded path.
 */
export async function transferWorkflow(input: TransferInput): Promise<TransferState> {
  const events = transferEvents(input);
  const state = await runTransfer(input, events);
  // Deliveries run on in abandoned children; only the recording of the events is waited for.
  await events.drained();
  return state;
}

async function runTransfer(input: TransferInput, events: TransferEvents): Promise<TransferState> {
  const now = (): string => new Date().toISOString();
  const createdAt = input.createdAt ?? workflowInfo().startTime.toISOString();
  const state: TransferState = {
    transferId: input.transferId,
    status: 'PENDING',
    source: input.source,
    target: input.target,
    amountMinor: input.amountMinor,
    currency: input.currency,
    ...(input.reference === undefined ? {} : { reference: input.reference }),
    requestedBy: input.requestedBy,
    needsAttention: false,
    createdAt,
    updatedAt: createdAt,
    steps: [],
  };
  let approval: { approved: boolean; by: string } | undefined;
  let cancelRequestedBy: string | undefined;
  let creditScope: CancellationScope | undefined;
  let creditSucceeded = false;

  const setStatus = (status: TransferStatus, reason?: TransferReason): void => {
    state.status = status;
    if (reason !== undefined) state.reason = reason;
    state.updatedAt = now();
    upsertSearchAttributes([{ key: searchAttributes.transferStatus, value: status }]);
    events.changed(state, eventTypeOfStatus(status));
  };
  const setAttention = (needed: boolean): void => {
    if (state.needsAttention === needed) return;
    state.needsAttention = needed;
    state.updatedAt = now();
    upsertSearchAttributes([{ key: searchAttributes.needsAttention, value: needed }]);
    events.changed(state, needed ? 'transfer.needs_attention' : undefined);
  };
  const beginStep = (name: TransferStepName): TransferStep => {
    const step: TransferStep = { name, status: 'RUNNING', startedAt: now(), attempts: 0 };
    state.steps.push(step);
    state.updatedAt = step.startedAt;
    return step;
  };
  const endStep = (step: TransferStep, status: 'SUCCEEDED' | 'FAILED', detail: { attempts?: number; failure?: LegFailure; decidedBy?: string } = {}): void => {
    step.status = status;
    step.endedAt = now();
    if (detail.attempts !== undefined) step.attempts = detail.attempts;
    if (detail.failure) step.failure = { code: detail.failure.code, message: detail.failure.message };
    if (detail.decidedBy) step.decidedBy = detail.decidedBy;
    state.updatedAt = step.endedAt;
  };
  const finish = (status: TransferStatus, reason?: TransferReason): TransferState => {
    setStatus(status, reason);
    log.info('transfer ended', { transferId: input.transferId, status, reason });
    return state;
  };

  setHandler(transferStateQuery, () => state);
  const notAwaiting = (_decision: OperatorDecision): void => {
    if (state.status !== 'AWAITING_APPROVAL' || approval || cancelRequestedBy) {
      throw ApplicationFailure.create({ type: 'TRANSFER_NOT_AWAITING_APPROVAL', message: `transfer is ${state.status}, not awaiting approval`, nonRetryable: true });
    }
  };
  setHandler(
    approveUpdate,
    async (decision: OperatorDecision) => {
      approval = { approved: true, by: decision.operator };
      await condition(() => state.status !== 'AWAITING_APPROVAL');
      return state;
    },
    { validator: notAwaiting },
  );
  setHandler(
    rejectUpdate,
    async (decision: OperatorDecision) => {
      approval = { approved: false, by: decision.operator };
      await condition(() => state.status !== 'AWAITING_APPROVAL');
      return state;
    },
    { validator: notAwaiting },
  );
  setHandler(
    cancelUpdate,
    async (decision: OperatorDecision) => {
      cancelRequestedBy = decision.operator;
      creditScope?.cancel();
      // Answer once the cancel has taken effect: nothing moved, the undo has begun, or the credit won the race.
      await condition(() => ['CANCELLED', 'COMPENSATING', 'REFUNDED', 'COMPLETED', 'REJECTED'].includes(state.status));
      if (state.status === 'COMPLETED') throw ApplicationFailure.create({ type: 'TRANSFER_NOT_CANCELLABLE', message: 'the credit had already been applied', nonRetryable: true });
      return state;
    },
    {
      validator: (_decision: OperatorDecision) => {
        if (cancelRequestedBy || creditSucceeded || !['PENDING', 'AWAITING_APPROVAL', 'DEBITED'].includes(state.status)) {
          throw ApplicationFailure.create({ type: 'TRANSFER_NOT_CANCELLABLE', message: `transfer is ${state.status}${creditSucceeded ? ' and its credit succeeded' : ''}`, nonRetryable: true });
        }
      },
    },
  );

  const invalid = validateTransfer(input);
  if (invalid) return finish('REJECTED', invalid);

  // A repair run finishes what an earlier run left: never asks for an approval again.
  const repairing = input.repair === true && patched(transferPatches.repairRun);
  if (!repairing && BigInt(input.amountMinor) >= BigInt(input.policy.approvalThresholdMinor)) {
    setStatus('AWAITING_APPROVAL');
    const step = beginStep('approval');
    let decided: boolean;
    try {
      decided = await condition(() => approval !== undefined || cancelRequestedBy !== undefined, input.policy.approvalTimeoutMs);
    } catch (error) {
      // Cancelling the workflow (Web UI, CLI) while it waits is an operator's cancel: nothing has moved.
      if (!isCancellation(error) || !patched(transferPatches.workflowCancelIsOperatorCancel)) throw error;
      cancelRequestedBy = workflowCancelOperator;
      decided = false;
    }
    if (cancelRequestedBy) {
      endStep(step, 'FAILED', { decidedBy: cancelRequestedBy, failure: { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled while awaiting approval', refusal: true } });
      return finish('CANCELLED', 'CANCELLED_BY_OPERATOR');
    }
    if (!decided || !approval) {
      endStep(step, 'FAILED', { failure: { code: 'APPROVAL_TIMED_OUT', message: 'no decision within the approval timeout', refusal: true } });
      return finish('REJECTED', 'APPROVAL_TIMED_OUT');
    }
    if (!approval.approved) {
      endStep(step, 'FAILED', { decidedBy: approval.by, failure: { code: 'APPROVAL_REJECTED', message: 'rejected by an operator', refusal: true } });
      return finish('REJECTED', 'APPROVAL_REJECTED');
    }
    endStep(step, 'SUCCEEDED', { decidedBy: approval.by });
    setStatus('PENDING');
  }
  if (cancelRequestedBy) return finish('CANCELLED', 'CANCELLED_BY_OPERATOR');

  const source = { bankId: input.source.bankId, accountId: input.source.accountId, transferId: input.transferId };
  const target = { bankId: input.target.bankId, accountId: input.target.accountId, transferId: input.transferId };
  const leg = { amountMinor: input.amountMinor, currency: input.currency };
  const ledger = (giveUpAfterMs: number) => proxyActivities<AccountActivities>(legOptions(giveUpAfterMs));
  const compensation = proxyActivities<AccountActivities>(compensationOptions(input.policy.refundAttentionAfterAttempts));

  const persistentCompensation = proxyActivities<AccountActivities>(persistentCompensationOptions(input.policy.compensationRetryMaximumIntervalMs));
  type Compensate = (activities: AccountActivities) => Promise<LegResult>;

  /** The first round of a compensation: `refundAttentionAfterAttempts` attempts; a refusal that `settles` accepts ends it. */
  const firstRound = async (step: TransferStep, run: Compensate, settles: (failure: LegFailure) => boolean): Promise<{ result: LegResult | undefined } | LegFailure> => {
    try {
      const result = await CancellationScope.nonCancellable(() => run(compensation));
      endStep(step, 'SUCCEEDED', { attempts: result.attempt });
      return { result };
    } catch (error) {
      const failure = legFailure(error);
      if (!failure.refusal || !settles(failure)) return failure;
      endStep(step, 'SUCCEEDED', { attempts: 1, failure });
      return { result: undefined };
    }
  };

  /**
   * Runs a compensation until it answers, flagging the transfer for operators once its first round
   * failed. After that round the activity retries by itself, with no history per attempt, so a bank
   * that stays down for weeks adds nothing to the workflow's history; only a refusal the ledger keeps
   * giving (which no retry can change) comes back, at pauses that double up to an hour.
   */
  const untilDone = async (name: TransferStepName, run: Compensate, settles: (failure: LegFailure) => boolean = () => false): Promise<LegResult | undefined> => {
    if (!patched(transferPatches.compensationRetriesInActivity)) return untilDoneInRounds(name, () => run(compensation), settles);
    const step = beginStep(name);
    const first = await firstRound(step, run, settles);
    if (!('code' in first)) return first.result;
    const attemptsBefore = input.policy.refundAttentionAfterAttempts;
    step.attempts = attemptsBefore;
    step.failure = { code: first.code, message: first.message };
    setAttention(true);
    log.warn('compensation keeps failing', { transferId: input.transferId, step: name, attempts: step.attempts, code: first.code });
    for (let pauseMs = compensationRoundPauseMs; ; pauseMs = Math.min(pauseMs * 2, compensationRefusalPauseMaxMs)) {
      try {
        const result = await CancellationScope.nonCancellable(() => run(persistentCompensation));
        endStep(step, 'SUCCEEDED', { attempts: step.attempts + result.attempt });
        return result;
      } catch (error) {
        const failure = legFailure(error);
        step.attempts += 1;
        if (failure.refusal && settles(failure)) {
          endStep(step, 'SUCCEEDED', { attempts: step.attempts, failure });
          return undefined;
        }
        step.failure = { code: failure.code, message: failure.message };
        await CancellationScope.nonCancellable(() => sleep(pauseMs));
      }
    }
  };

  /** How compensations ran before compensation-retries-in-activity: rounds of attempts, each failed round a pause in history. */
  const untilDoneInRounds = async (name: TransferStepName, run: () => Promise<LegResult>, settles: (failure: LegFailure) => boolean): Promise<LegResult | undefined> => {
    const step = beginStep(name);
    for (let failedRounds = 0; ; failedRounds += 1) {
      try {
        const result = await CancellationScope.nonCancellable(run);
        endStep(step, 'SUCCEEDED', { attempts: failedRounds * input.policy.refundAttentionAfterAttempts + result.attempt });
        return result;
      } catch (error) {
        const failure = legFailure(error);
        if (failure.refusal && settles(failure)) {
          endStep(step, 'SUCCEEDED', { attempts: failedRounds * input.policy.refundAttentionAfterAttempts + 1, failure });
          return undefined;
        }
        step.attempts = (failedRounds + 1) * input.policy.refundAttentionAfterAttempts;
        step.failure = { code: failure.code, message: failure.message };
        setAttention(true);
        log.warn('compensation keeps failing', { transferId: input.transferId, step: name, attempts: step.attempts, code: failure.code });
        await CancellationScope.nonCancellable(() => sleep(compensationRoundPauseMs));
      }
    }
  };
  /**
   * The source's refund, registered before the debit: reverses it, or voids its slot when it
   * never happened. Undefined only when `settles` accepted a refusal.
   */
  const refundSource = async (settles?: (failure: LegFailure) => boolean): Promise<LegResult | undefined> => {
    const result = await untilDone('refund', (activities) => activities.refund(source), settles);
    setAttention(false);
    return result;
  };
  const missingAccountSettles = (failure: LegFailure): boolean => failure.code === 'ACCOUNT_NOT_FOUND';

  /**
   * A repair run: an earlier run stopped (terminated, or deleted) with money possibly in flight. The
   * ledgers know what happened: the credit's slot is voided unless the credit holds it (then the
   * transfer completed), and the source is refunded, which voids the debit if it never happened.
   */
  const repairFromLedgers = async (): Promise<TransferState> => {
    const creditSlot = await untilDone('credit-void', (activities) => activities.voidCredit(target), missingAccountSettles);
    if (creditSlot?.entry.kind === 'credit' && creditSlot.entry.outcome === 'APPLIED') {
      creditSucceeded = true;
      setAttention(false);
      return finish('COMPLETED');
    }
    setStatus('COMPENSATING', 'WORKFLOW_TERMINATED');
    const refunded = await refundSource(missingAccountSettles);
    const nothingMoved = !refunded || refunded.entry.kind === 'void' || refunded.entry.outcome === 'NOTHING_TO_REFUND';
    return finish(nothingMoved ? 'CANCELLED' : 'REFUNDED', 'WORKFLOW_TERMINATED');
  };

  if (repairing) return repairFromLedgers();

  // Debit.
  const debitStep = beginStep('debit');
  try {
    const debited = await ledger(input.policy.debitGiveUpAfterMs ?? debitGiveUpAfterMsDefault).debit({ ...source, ...leg });
    endStep(debitStep, 'SUCCEEDED', { attempts: debited.attempt });
  } catch (error) {
    // A cancel of the workflow abandons the debit call, whose outcome is then unknown like a bank's silence.
    const cancelled = isCancellation(error) && patched(transferPatches.workflowCancelIsOperatorCancel);
    const failure: LegFailure = cancelled ? { code: 'CANCELLED_BY_OPERATOR', message: 'the workflow was cancelled while the debit was in flight', refusal: false } : legFailure(error);
    endStep(debitStep, 'FAILED', { failure });
    if (failure.refusal) return finish('REJECTED', failure.code);
    // The debit's outcome is unknown: the refund reverses it if it happened, or voids it so it never can.
    setStatus('COMPENSATING', failure.code);
    // A source account that does not exist holds no debit (the ledger refuses before deciding anything).
    const refunded = await refundSource((refusal) => refusal.code === 'ACCOUNT_NOT_FOUND' && patched(transferPatches.missingSourceSettlesRefund));
    if (!refunded) return finish(cancelled ? 'CANCELLED' : 'REJECTED', cancelled ? failure.code : 'ACCOUNT_NOT_FOUND');
    const nothingMoved = refunded.entry.kind === 'void' || (refunded.entry.outcome === 'NOTHING_TO_REFUND' && patched(transferPatches.nothingToRefundIsRejected));
    if (!nothingMoved) return finish('REFUNDED', failure.code);
    return finish(cancelled ? 'CANCELLED' : 'REJECTED', failure.code);
  }
  setStatus('DEBITED');

  // Credit, unless an operator cancelled while the debit ran.
  let creditFailure: LegFailure | undefined;
  if (cancelRequestedBy) {
    creditFailure = { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled after the debit', refusal: false };
  } else {
    const creditStep = beginStep('credit');
    try {
      const credited = await CancellationScope.cancellable(async () => {
        creditScope = CancellationScope.current();
        return ledger(input.policy.creditGiveUpAfterMs ?? creditGiveUpAfterMsDefault).credit({ ...target, ...leg });
      });
      creditSucceeded = true;
      endStep(creditStep, 'SUCCEEDED', { attempts: credited.attempt });
      return finish('COMPLETED');
    } catch (error) {
      creditFailure = isCancellation(error)
        ? { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled while the credit was in flight', refusal: false }
        : legFailure(error);
      endStep(creditStep, 'FAILED', { failure: creditFailure });
    } finally {
      creditScope = undefined;
    }
  }

  // Never refund blind: a credit whose answer was lost may have been applied. A target account
  // that does not exist holds no credit (the ledger refuses before deciding anything), so there
  // is nothing to void.
  const creditSlot = await untilDone('credit-void', (activities) => activities.voidCredit(target), (failure) => failure.code === 'ACCOUNT_NOT_FOUND');
  setAttention(false);
  if (creditSlot?.entry.kind === 'credit' && creditSlot.entry.outcome === 'APPLIED') {
    creditSucceeded = true;
    return finish('COMPLETED');
  }
  const reason = creditFailure.refusal ? creditFailure.code : creditFailure.code === 'CANCELLED_BY_OPERATOR' ? 'CANCELLED_BY_OPERATOR' : 'CREDIT_FAILED';
  setStatus('COMPENSATING', reason);
  await refundSource();
  return finish('REFUNDED', reason);
}
