import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { ApplicationFailure, ParentClosePolicy, proxyActivities, sleep, startChild, upsertSearchAttributes, WorkflowIdReusePolicy } from '@temporalio/workflow';
import type { SettlementWindowActivities } from '../activities/settlement-window-activities';
import { searchAttributes } from '../lib/contracts/search-attributes';
import { nextWindowId, previousWindowId, type SettlementEntry, type WindowReport } from '../lib/contracts/settlement';
import { settlementWindowWorkflowId, settlementWindowWorkflowType, type SettlementWindowInput } from './settlement-window-definitions';

// Each activity is a few calls to the settlement bank; it retries until the bank answers, decided once per operation id.
const windows = proxyActivities<SettlementWindowActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '30 seconds' },
});

/** Pauses while waiting for the previous window, or for this window's last transfers to end. */
const waitPauseMs = { first: 500, max: 30_000 };

async function until(done: () => Promise<boolean>): Promise<void> {
  for (let pauseMs = waitPauseMs.first; !(await done()); pauseMs = Math.min(pauseMs * 2, waitPauseMs.max)) await sleep(pauseMs);
}

function setState(state: 'CLOSED' | 'SETTLING' | 'SETTLED'): void {
  upsertSearchAttributes([{ key: searchAttributes.settlementWindowState, value: state }]);
}

/**
 * Closes a settlement window and settles it (deferred-net), durable across any crash:
 * 1. once the previous window has closed (its close marked every chain with this window), opens
 *    the next window, marks every position chain with it and records this one CLOSED: from each
 *    marker on, that chain's reservations are the next window's;
 * 2. once the previous window is SETTLED (windows settle in order), waits until none of this
 *    window's transfers is in flight (each ends credited or released, as the saga guarantees);
 * 3. moves each bank's net amount between its reserve and its position, and records SETTLED with
 *    the report. Every write is an operation id of the window: a resumed run repeats nothing.
 */
export async function settlementWindowWorkflow(input: SettlementWindowInput): Promise<WindowReport> {
  const { windowId } = input;
  const scope = { windowId, participants: input.participants, currencies: input.currencies };
  const previous = previousWindowId(windowId);
  const stateOf = (id: string) => windows.settlementWindowState(id);
  if (previous !== undefined) await until(async () => ['CLOSED', 'SETTLING', 'SETTLED', 'ABSENT'].includes(await stateOf(previous)));
  await windows.closeSettlementWindow({ ...scope, nextWindowId: nextWindowId(windowId), at: new Date(Date.now()).toISOString() });
  setState('CLOSED');
  if (previous !== undefined) await until(async () => ['SETTLED', 'ABSENT'].includes(await stateOf(previous)));
  let tally = await windows.tallySettlementWindow(scope);
  for (let pauseMs = waitPauseMs.first; tally.inFlight > 0; pauseMs = Math.min(pauseMs * 2, waitPauseMs.max)) {
    await sleep(pauseMs);
    tally = await windows.tallySettlementWindow(scope);
  }
  await windows.recordSettlementWindow({ windowId, state: 'SETTLING', at: new Date(Date.now()).toISOString() });
  setState('SETTLING');
  const entries: SettlementEntry[] = [];
  // Payers first: the money a receiver's reserve gets has left the payers' reserves.
  const payersFirst = [...tally.positions].sort((a, b) => (BigInt(a.netMinor) < BigInt(b.netMinor) ? -1 : BigInt(a.netMinor) > BigInt(b.netMinor) ? 1 : 0));
  for (const position of payersFirst) entries.push(...(await windows.settleParticipant({ windowId, bankId: position.bankId, currency: position.currency, netMinor: position.netMinor })));
  const report: WindowReport = { transfers: tally.transfers, positions: tally.positions, entries };
  await windows.recordSettlementWindow({ windowId, state: 'SETTLED', at: new Date(Date.now()).toISOString(), report });
  setState('SETTLED');
  return report;
}

/** The schedule's action: closes whichever window is open now (its workflow id makes a second close of it a no-op). */
export async function closeCurrentSettlementWindowWorkflow(input: Omit<SettlementWindowInput, 'windowId'>): Promise<string> {
  const open = await windows.openSettlementWindowId();
  if (open === undefined) throw ApplicationFailure.nonRetryable('no settlement window is open: the transfer API opens the first at its start');
  try {
    // Started, not awaited: a window may wait a while for its last transfers, and outlives this run.
    await startChild(settlementWindowWorkflowType, {
      workflowId: settlementWindowWorkflowId(open),
      args: [{ ...input, windowId: open }],
      parentClosePolicy: ParentClosePolicy.ABANDON,
      workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      searchAttributes: { [searchAttributes.settlementWindowId.name]: [open], [searchAttributes.settlementWindowState.name]: ['OPEN'] },
    });
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
  return open;
}
