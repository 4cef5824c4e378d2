import type { Logger } from 'pino';
import { isTerminalStatus } from '../../lib/contracts/transfer-contract';
import { recordedState, type RecordedTransfer } from '../../lib/record/transfer-record';
import type { OpenTransferDocument } from '../../lib/record/transfer-record-store';
import type { WorkflowPresence } from './gateways/transfer-workflows';
import { startSaga, sweeperWriterRunId, type TransferUseCaseDeps } from './use-cases/recorded-transfers';
import { transferApiLimits } from './limits';
import { startPeriodicSweep } from './periodic-sweep';

/**
 * Keeps the record and Temporal in step for the transfers not yet final (the open set):
 * - a recorded transfer whose saga never started (the API stopped between the record's insert and
 *   the workflow's start) is started;
 * - a transfer whose workflow stopped before the transfer ended (terminated, or gone) is flagged
 *   needsAttention with the reason, for an operator's repair;
 * - an open or attention entry the saga's last write failed to clear is cleared.
 */

export interface RecordSweeperOptions extends TransferUseCaseDeps {
  logger: Logger;
  intervalMs: number;
  /** A transfer younger than this is left to its create request. */
  startGraceMs: number;
  now?: () => Date;
}

export interface SweepOutcome {
  looked: number;
  started: number;
  flagged: number;
  cleared: number;
}


function attentionReasonOf(workflow: WorkflowPresence | undefined): string {
  return workflow ? `WORKFLOW_${workflow.status}` : 'WORKFLOW_MISSING';
}

export async function sweepOnce(options: RecordSweeperOptions): Promise<SweepOutcome> {
  const now = options.now?.() ?? new Date();
  const outcome: SweepOutcome = { looked: 0, started: 0, flagged: 0, cleared: 0 };
  for (const open of await options.records.openTransfers()) {
    const ageMs = now.getTime() - Date.parse(open.createdAt);
    if (ageMs < options.startGraceMs) continue;
    outcome.looked += 1;
    const action = await sweepTransfer(options, open, ageMs, now);
    if (action !== 'none') outcome[action] += 1;
  }
  for (const flagged of await options.records.attentionTransfers()) {
    const recorded = await options.records.find(flagged._id);
    if (recorded && recordedState(recorded).needsAttention) continue;
    await options.records.clearAttention(flagged._id);
    outcome.cleared += 1;
  }
  return outcome;
}

async function sweepTransfer(options: RecordSweeperOptions, open: OpenTransferDocument, ageMs: number, now: Date): Promise<'started' | 'flagged' | 'cleared' | 'none'> {
  // Temporal first, then the record: a run closed when describe answers wrote its last change
  // before it closed, so the record read after it holds that change. Read the other way round, a
  // run that ended in between looked stopped halfway, and its final status was flagged over.
  const workflow = await options.workflows.describe(open._id);
  const recorded = await options.records.find(open._id);
  if (!recorded) {
    if (ageMs < transferApiLimits.orphanEntryAfterMs) return 'none';
    await options.records.closeOpen(open._id);
    return 'cleared';
  }
  if (isTerminalStatus(recordedState(recorded).status)) {
    await options.records.closeOpen(open._id);
    return 'cleared';
  }
  if (workflow?.running) return 'none';
  if (!workflow && !recorded.latest) {
    await options.records.ensureListed(recorded.record);
    await startSaga(options, recorded.record);
    options.logger.warn({ transferId: open._id }, 'started the saga of a recorded transfer that had none');
    return 'started';
  }
  if (recorded.latest?.writer.runId === sweeperWriterRunId) return 'none';
  await flagStopped(options, recorded, workflow, now);
  return 'flagged';
}

/** Money may be in flight: the record says so until an operator's repair run finishes the transfer. */
async function flagStopped(options: RecordSweeperOptions, recorded: RecordedTransfer, workflow: WorkflowPresence | undefined, now: Date): Promise<void> {
  const state = recordedState(recorded);
  const attentionReason = attentionReasonOf(workflow);
  await options.records.appendStatus({
    transferId: recorded.record._id,
    writer: { runId: sweeperWriterRunId, changedAtMs: now.getTime(), revision: 0 },
    state: { ...state, needsAttention: true, attentionReason, updatedAt: now.toISOString() },
  });
  options.logger.error({ transferId: recorded.record._id, status: state.status, attentionReason }, 'transfer workflow stopped before the transfer ended: needs an operator (repair)');
}

/** Sweeps every `intervalMs` until stopped; a failed sweep is logged and the next one tries again. */
export function startRecordSweeper(options: RecordSweeperOptions): { stop: () => Promise<void> } {
  return startPeriodicSweep({
    name: 'record sweep',
    intervalMs: options.intervalMs,
    runAtStart: false,
    logger: options.logger,
    sweep: () => sweepOnce(options),
    worthLogging: (outcome) => outcome.started + outcome.flagged + outcome.cleared > 0,
  });
}
