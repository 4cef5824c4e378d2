import { ActivityFailure, ApplicationFailure, log, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { isBusinessRefusal } from '../lib/contracts/error-codes';
import { eventTypeOfStatus } from '../lib/contracts/event-contract';
import { searchAttributes } from '../lib/contracts/search-attributes';
import { initialTransferState, type TransferInput, type TransferReason, type TransferState, type TransferStatus, type TransferStep, type TransferStepName } from '../lib/contracts/transfer-contract';
import type { TransferEvents } from './transfer-events';
import type { PatchGate } from './transfer-patches';

/** What an activity failure tells the saga: a ledger's refusal code, or that the bank never answered. */
export interface LegFailure {
  code: string;
  message: string;
  refusal: boolean;
}

export function legFailure(error: unknown): LegFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure && cause.type && isBusinessRefusal(cause.type)) return { code: cause.type, message: cause.message, refusal: true };
  const message = cause instanceof Error ? cause.message : String(cause);
  return { code: cause instanceof ApplicationFailure && cause.type ? cause.type : 'BANK_UNAVAILABLE', message, refusal: false };
}

export interface StepDetail {
  attempts?: number;
  failure?: LegFailure;
  decidedBy?: string;
}

/**
 * Statuses a transfer passes through on its way, which operators look for only when it stays there:
 * a run that takes local-ledger-legs shows them to visibility only then (showStatus).
 */
const passingStatuses: ReadonlySet<TransferStatus> = new Set(['DEBITED']);

/**
 * The saga's state and the only ways it changes: a status or attention change is upserted as a
 * search attribute and written to the transfer's record (with its event); steps begin and end.
 */
export interface TransferJournal {
  readonly state: TransferState;
  setStatus: (status: TransferStatus, reason?: TransferReason) => void;
  setAttention: (needed: boolean) => void;
  /** Upserts the status the transfer holds when visibility does not show it yet (a passing status that stays). */
  showStatus: () => void;
  beginStep: (name: TransferStepName) => TransferStep;
  endStep: (step: TransferStep, status: 'SUCCEEDED' | 'FAILED', detail?: StepDetail) => void;
  /** The last status change; the saga returns the state it gives. */
  finish: (status: TransferStatus, reason?: TransferReason) => TransferState;
  /** Ends REJECTED without a record write or an event: for an input the API never signed, which owns no record. */
  refuseUnrecorded: (reason: TransferReason) => TransferState;
}

export function createTransferJournal(input: TransferInput, events: TransferEvents, gate: PatchGate): TransferJournal {
  // The workflow's clock, never going back: a local activity's answer sets it to when that activity completed.
  let lastMs = 0;
  const now = (): string => {
    lastMs = Math.max(Date.now(), lastMs);
    return new Date(lastMs).toISOString();
  };
  const createdAt = input.createdAt ?? workflowInfo().startTime.toISOString();
  const state: TransferState = initialTransferState(input, createdAt);
  // The API starts every transfer with TransferStatus PENDING.
  let shownStatus: TransferStatus = state.status;
  const show = (status: TransferStatus): void => {
    shownStatus = status;
    upsertSearchAttributes([{ key: searchAttributes.transferStatus, value: status }]);
  };
  /** The state and its search attribute (every change, for a run before local-ledger-legs); setStatus also writes the change to the record. */
  const applyStatus = (status: TransferStatus, reason?: TransferReason): void => {
    state.status = status;
    if (reason !== undefined) state.reason = reason;
    state.updatedAt = now();
    if (!gate.localLegs) show(status);
    else if (status !== shownStatus && !passingStatuses.has(status)) show(status);
  };
  const setStatus = (status: TransferStatus, reason?: TransferReason): void => {
    applyStatus(status, reason);
    events.changed(state, eventTypeOfStatus(status));
  };
  return {
    state,
    setStatus,
    setAttention: (needed) => {
      if (state.needsAttention === needed) return;
      state.needsAttention = needed;
      state.updatedAt = now();
      upsertSearchAttributes([{ key: searchAttributes.needsAttention, value: needed }]);
      events.changed(state, needed ? 'transfer.needs_attention' : undefined);
    },
    showStatus: () => {
      if (state.status !== shownStatus) show(state.status);
    },
    beginStep: (name) => {
      const step: TransferStep = { name, status: 'RUNNING', startedAt: now(), attempts: 0 };
      state.steps.push(step);
      state.updatedAt = step.startedAt;
      return step;
    },
    endStep: (step, status, detail = {}) => {
      step.status = status;
      step.endedAt = now();
      if (detail.attempts !== undefined) step.attempts = detail.attempts;
      if (detail.failure) step.failure = { code: detail.failure.code, message: detail.failure.message };
      if (detail.decidedBy) step.decidedBy = detail.decidedBy;
      state.updatedAt = step.endedAt;
    },
    finish: (status, reason) => {
      setStatus(status, reason);
      log.info('transfer ended', { transferId: input.transferId, status, reason });
      return state;
    },
    refuseUnrecorded: (reason) => {
      applyStatus('REJECTED', reason);
      log.warn('transfer refused unrecorded', { transferId: input.transferId, reason });
      return state;
    },
  };
}
