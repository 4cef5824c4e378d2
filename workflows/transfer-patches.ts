import { patched } from '@temporalio/workflow';

/**
 * Patch ids of the transfer workflow, one per change made to it after transfers ran.
 *
 * The convention: a change that alters what a recorded history would do (its commands, their
 * order, or the status a branch ends in) calls `patched(id)` where the new behaviour begins, so
 * that transfers recorded before the change replay the old branch and new ones take the new
 * one. Call it only on the branch that changes, so untouched paths record no marker. Ids are
 * kebab-case, say what changed, and are never reused. Record a history of the old branch before
 * changing the code (test/replay/histories/pre-patch-*.json; it cannot be recorded afterwards).
 * Once no open transfer and no kept history predates a patch, replace `patched(id)` by
 * `deprecatePatch(id)`; after another such period remove it and the old branch.
 *
 * Never call `patched()` right after awaiting a local activity: its answer may reach the workflow
 * in a later workflow task when it runs than on replay, and a patch is looked up among the markers
 * of the task it is called in (the chaos suite found a transfer stuck on exactly this). Runs that
 * take local-ledger-legs ask patched() for the older ids never (PatchGate answers them). A change
 * made after local-ledger-legs calls patched(id) itself, as before, and never right after a local
 * activity: the gate answers true without a marker only for the ids it was written for.
 */
export const transferPatches = {
  /** A cancel of the workflow itself (Web UI, CLI) counts as an operator's cancel instead of failing the run. */
  workflowCancelIsOperatorCancel: 'workflow-cancel-is-operator-cancel',
  /** A debit whose outcome was unknown and turned out refused moved nothing: REJECTED, not REFUNDED. */
  nothingToRefundIsRejected: 'nothing-to-refund-is-rejected',
  /** A source account that does not exist holds no debit: its refund's ACCOUNT_NOT_FOUND settles it. */
  missingSourceSettlesRefund: 'missing-source-settles-refund',
  /** Status changes a client cares about are recorded as events and delivered to its webhooks (transfers started with a webhook policy). */
  transferEvents: 'transfer-events',
  /** Every change the saga decides is written to the transfer's record, with its event, by one activity. */
  transferRecord: 'transfer-record',
  /** A compensation that keeps failing retries inside one activity (no history per attempt) after its first round. */
  compensationRetriesInActivity: 'compensation-retries-in-activity',
  /** An operator's repair run finishes a stopped transfer from the ledgers' facts. */
  repairRun: 'repair-run',
  /** The saga acts only on an input the transfer API signed; any other ends REJECTED with nothing moved or recorded. */
  authorisedInput: 'authorised-input',
  /** An approve, reject or cancel update acts only when the transfer API signed it. */
  authorisedDecisions: 'authorised-decisions',
  /** A transfer between two banks whose record fixed a settlement policy reserves, credits or releases its amount at the settlement bank. */
  settlementLegs: 'settlement-legs',
  /**
   * The ledger legs run as local activities first, an ordinary activity taking over when the bank
   * does not answer in time; the transient DEBITED status is shown to visibility only when its credit
   * is not quick. A run that takes this patch takes every one above it without their markers (see
   * PatchGate), so no patched() call follows a local activity.
   */
  localLedgerLegs: 'local-ledger-legs',
  /**
   * The debit runs in the worker first too, and every ending before a recorded credit closes the
   * credit's slot first (a lost workflow task may have debited and credited before the saga decided
   * otherwise). Asked by the gate right after local-ledger-legs, before anything is scheduled.
   */
  localDebit: 'local-debit',
} as const;

/** The changes a run that takes local-ledger-legs has without markers: every one before it. */
export type TransferPatchId = Exclude<(typeof transferPatches)[keyof typeof transferPatches], typeof transferPatches.localLedgerLegs | typeof transferPatches.localDebit>;

/**
 * The saga's patch checks. A run recorded since local-ledger-legs has every earlier change, so it
 * asks patched() for local-ledger-legs and local-debit, as its first commands, and never again:
 * every earlier id is simply true, and no marker is recorded for it. A run recorded before asks
 * patched(id) at each change, as it did.
 */
export interface PatchGate {
  /** The run takes local-ledger-legs (its legs run locally first). */
  readonly localLegs: boolean;
  /** The run takes local-debit (the debit runs locally first too; see closeSlots in transfer-workflow.ts). */
  readonly localDebit: boolean;
  /** patched(id), answered without a marker for a run that takes local-ledger-legs. */
  has: (id: TransferPatchId) => boolean;
}

export function openPatchGate(): PatchGate {
  const localLegs = patched(transferPatches.localLedgerLegs);
  // Asked only by runs that take local-ledger-legs, and as their second command: never after a local activity.
  const localDebit = localLegs && patched(transferPatches.localDebit);
  return { localLegs, localDebit, has: (id) => localLegs || patched(id) };
}
