import { ApplicationFailure, condition, isCancellation, proxyActivities, setHandler, type CancellationScope } from '@temporalio/workflow';
import type { AuthorityActivities } from '../activities/authority-activities';
import type { OperatorDecision, TransferInput, TransferState } from '../lib/contracts/transfer-contract';
import { approveUpdate, cancelUpdate, rejectUpdate, transferStateQuery } from '../lib/contracts/transfer-definitions';
import type { TransferJournal } from './transfer-journal';
import { transferPatches, type PatchGate } from './transfer-patches';
import { authorityCheckOptions } from './transfer-policies';

/** What operators asked of the saga so far, and what their cancel can still reach. */
export interface OperatorRequests {
  approval?: { approved: boolean; by: string };
  cancelRequestedBy?: string;
  /** The running credit's scope: a cancel cancels it. */
  creditScope?: CancellationScope;
  creditSucceeded: boolean;
}

/** Who decided, in the state, when the workflow itself was cancelled (the workflow cannot see by whom). */
const workflowCancelOperator = 'workflow-cancel-request';

const refuse = (type: string, message: string): ApplicationFailure => ApplicationFailure.create({ type, message, nonRetryable: true });

const authority = proxyActivities<AuthorityActivities>(authorityCheckOptions);

/**
 * Any Temporal client can send an update: only one the transfer API signed decides anything (the
 * API names the authenticated operator in it). Checked by an activity, so the validator runs
 * again afterwards: the transfer may have moved on meanwhile.
 */
async function assertSignedByTheApi(gate: PatchGate, transferId: string, action: 'approve' | 'reject' | 'cancel', decision: OperatorDecision, stillApplies: (decision: OperatorDecision) => void): Promise<void> {
  if (!gate.has(transferPatches.authorisedDecisions)) return;
  const verdict = await authority.verifyOperatorDecision({ transferId, action, decision });
  if (!verdict.valid) throw refuse('DECISION_NOT_AUTHORISED', `the ${action} did not come through the transfer API: ${verdict.reason}`);
  stillApplies(decision);
}

/** The state query and the approve, reject and cancel updates, each refused by its validator when it no longer applies. */
export function registerOperatorHandlers(journal: TransferJournal, requests: OperatorRequests, gate: PatchGate): void {
  const { state } = journal;
  setHandler(transferStateQuery, () => state);
  const notAwaiting = (_decision: OperatorDecision): void => {
    if (state.status !== 'AWAITING_APPROVAL' || requests.approval || requests.cancelRequestedBy) {
      throw refuse('TRANSFER_NOT_AWAITING_APPROVAL', `transfer is ${state.status}, not awaiting approval`);
    }
  };
  const decide = (approved: boolean) => async (decision: OperatorDecision) => {
    await assertSignedByTheApi(gate, state.transferId, approved ? 'approve' : 'reject', decision, notAwaiting);
    requests.approval = { approved, by: decision.operator };
    await condition(() => state.status !== 'AWAITING_APPROVAL');
    return state;
  };
  setHandler(approveUpdate, decide(true), { validator: notAwaiting });
  setHandler(rejectUpdate, decide(false), { validator: notAwaiting });
  const notCancellable = (_decision: OperatorDecision): void => {
    if (requests.cancelRequestedBy || requests.creditSucceeded || !['PENDING', 'AWAITING_APPROVAL', 'DEBITED'].includes(state.status)) {
      throw refuse('TRANSFER_NOT_CANCELLABLE', `transfer is ${state.status}${requests.creditSucceeded ? ' and its credit succeeded' : ''}`);
    }
  };
  setHandler(
    cancelUpdate,
    async (decision: OperatorDecision) => {
      await assertSignedByTheApi(gate, state.transferId, 'cancel', decision, notCancellable);
      requests.cancelRequestedBy = decision.operator;
      requests.creditScope?.cancel();
      // Answer once the cancel has taken effect: nothing moved, the undo has begun, or the credit won the race.
      await condition(() => ['CANCELLED', 'COMPENSATING', 'REFUNDED', 'COMPLETED', 'REJECTED'].includes(state.status));
      if (state.status === 'COMPLETED') throw refuse('TRANSFER_NOT_CANCELLABLE', 'the credit had already been applied');
      return state;
    },
    { validator: notCancellable },
  );
}

/**
 * Ends a transfer before its debit was recorded, in the status and code given when nothing moved:
 * the journal's finish, or (local-debit) the closing of both slots first.
 */
export type EndBeforeDebit = (status: 'CANCELLED' | 'REJECTED', code: string) => TransferState | Promise<TransferState>;

/**
 * Waits for an operator's approval; the ended transfer (through `end`) when it was refused, timed
 * out or cancelled, else undefined, and the caller sets PENDING again (see runTransfer for why the caller).
 */
export async function awaitApproval(input: TransferInput, journal: TransferJournal, requests: OperatorRequests, gate: PatchGate, end: EndBeforeDebit): Promise<TransferState | undefined> {
  const { beginStep, endStep } = journal;
  journal.setStatus('AWAITING_APPROVAL');
  const step = beginStep('approval');
  let decided: boolean;
  try {
    decided = await condition(() => requests.approval !== undefined || requests.cancelRequestedBy !== undefined, input.policy.approvalTimeoutMs);
  } catch (error) {
    // Cancelling the workflow (Web UI, CLI) while it waits is an operator's cancel: nothing has moved.
    if (!isCancellation(error) || !gate.has(transferPatches.workflowCancelIsOperatorCancel)) throw error;
    requests.cancelRequestedBy = workflowCancelOperator;
    decided = false;
  }
  const { approval, cancelRequestedBy } = requests;
  if (cancelRequestedBy) {
    endStep(step, 'FAILED', { decidedBy: cancelRequestedBy, failure: { code: 'CANCELLED_BY_OPERATOR', message: 'cancelled while awaiting approval', refusal: true } });
    return end('CANCELLED', 'CANCELLED_BY_OPERATOR');
  }
  if (!decided || !approval) {
    endStep(step, 'FAILED', { failure: { code: 'APPROVAL_TIMED_OUT', message: 'no decision within the approval timeout', refusal: true } });
    return end('REJECTED', 'APPROVAL_TIMED_OUT');
  }
  if (!approval.approved) {
    endStep(step, 'FAILED', { decidedBy: approval.by, failure: { code: 'APPROVAL_REJECTED', message: 'rejected by an operator', refusal: true } });
    return end('REJECTED', 'APPROVAL_REJECTED');
  }
  endStep(step, 'SUCCEEDED', { decidedBy: approval.by });
  return undefined;
}
