import { ActivityFailure, TimeoutFailure, isCancellation, log, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { AccountActivities, LegResult } from '../activities/account-activities';
import type { SettlementActivities } from '../activities/settlement-activities';
import { legFailure, type TransferJournal } from './transfer-journal';
import type { PatchGate } from './transfer-patches';
import { legFallbackOptions, legOptions, localLegOptions } from './transfer-policies';

/** The ledger calls of a transfer: at the banks, and at the settlement bank. */
export type LedgerActivities = AccountActivities & SettlementActivities;
/** One ledger call, made through the activities it is given (local, or ordinary). */
export type LedgerCall = (activities: LedgerActivities) => Promise<LegResult>;
/** Runs one leg (debit, credit, reservation) until it is decided or its give-up time has passed. */
export type RunLeg = (giveUpAfterMs: number, call: LedgerCall) => Promise<LegResult>;

/** The local activity spent the whole give-up time: the leg gives up, nothing takes it over. */
function gaveUp(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_CLOSE';
}

/**
 * Calls `local` and, when it ends without a decision (its attempts failed), `fallback` with that
 * failure. A refusal is a decision, a cancellation is the caller's and a spent give-up time is final:
 * each comes back as it is.
 */
export async function localFirst<T>(what: string, local: () => Promise<T>, fallback: (failure: unknown) => Promise<T>): Promise<T> {
  try {
    return await local();
  } catch (error) {
    if (isCancellation(error) || legFailure(error).refusal || gaveUp(error)) throw error;
    log.warn('a local activity ended without a decision; an ordinary activity takes over', { what, error: String(error) });
    return fallback(error);
  }
}

/** How the saga calls its legs: `ordinary` as an activity through the server, `localFirst` in the worker first. */
export interface LegRunner {
  ordinary: RunLeg;
  localFirst: RunLeg;
}

/**
 * A run recorded before local-ledger-legs calls every leg as an ordinary activity, exactly as it
 * did. A newer run calls the legs after the debit in the worker first: no activity task goes through
 * the Temporal server, only a marker in the history. When the bank fails its local attempts, an
 * ordinary activity takes over for the rest of the give-up time, and the status the transfer holds
 * meanwhile is shown to visibility (operators look for transfers stuck at DEBITED). Every leg is
 * idempotent at its bank, so the ordinary activity repeating a call the local one made is decided once.
 *
 * A local activity acts before the workflow task that decided it is recorded; if that task is lost
 * (a worker killed) and new events reach its next attempt (an approval's timeout, a cancel), the
 * saga may decide otherwise and never learn of what the lost task did. Under local-ledger-legs the
 * debit stays an ordinary activity (a local one left debits behind REJECTED transfers in the chaos
 * suite), and once it is recorded every other ending voids the credit and releases the reservation
 * before it refunds. A run that takes local-debit runs the debit locally first as well, and every
 * ending before a recorded credit closes the slots from the ledgers' facts (closeSlots in
 * transfer-workflow.ts): whatever a lost task moved is found, undone or completed.
 */
export function createLegRunner(gate: PatchGate, journal: TransferJournal): LegRunner {
  const ordinary: RunLeg = (giveUpAfterMs, call) => call(proxyActivities<LedgerActivities>(legOptions(giveUpAfterMs)));
  const local: RunLeg = (giveUpAfterMs, call) => {
    // Workflow time: the same on replay.
    const startedAt = Date.now();
    return localFirst(
      'ledger leg',
      () => call(proxyLocalActivities<LedgerActivities>(localLegOptions(giveUpAfterMs))),
      (failure) => {
        const remainingMs = giveUpAfterMs - (Date.now() - startedAt);
        if (remainingMs <= 0) throw failure;
        journal.showStatus();
        return call(proxyActivities<LedgerActivities>(legFallbackOptions(remainingMs)));
      },
    );
  };
  return { ordinary, localFirst: gate.localLegs ? local : ordinary };
}
