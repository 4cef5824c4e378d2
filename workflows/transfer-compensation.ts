import { CancellationScope, log, proxyActivities, proxyLocalActivities, sleep } from '@temporalio/workflow';
import type { LegResult } from '../activities/account-activities';
import type { TransferInput, TransferStep, TransferStepName } from '../lib/contracts/transfer-contract';
import { legFailure, type LegFailure, type TransferJournal } from './transfer-journal';
import { localFirst, type LedgerActivities, type LedgerCall } from './transfer-legs';
import { transferPatches, type PatchGate } from './transfer-patches';
import { compensationOptions, compensationRefusalPauseMaxMs, compensationRoundPauseMs, persistentCompensationOptions, settlementCreditLocalOptions } from './transfer-policies';

/** One ledger call of a compensation, made through the activities it is given (first round, or retried without end). */
export type Compensate = LedgerCall;
/** Says whether a ledger's refusal ends a compensation without an entry (undefined result). */
export type Settles = (failure: LegFailure) => boolean;

export interface Compensations {
  /** Runs a compensation until it answers; undefined only when `settles` accepted a refusal. */
  untilDone: (name: TransferStepName, run: Compensate, settles?: Settles) => Promise<LegResult | undefined>;
  /**
   * The same, tried once in the worker first (a local activity: nothing through the Temporal server)
   * for a run that takes local-ledger-legs: for a compensation that is the saga's normal path.
   */
  untilDoneLocalFirst: (name: TransferStepName, run: Compensate) => Promise<LegResult | undefined>;
  /**
   * The source's refund: reverses the debit, or voids its slot when it never happened. It clears
   * NeedsAttention once it has answered.
   */
  refundSource: (settles?: Settles) => Promise<LegResult | undefined>;
}

/** A source or target account that does not exist holds no entry: the ledger refuses before deciding anything. */
export const missingAccountSettles: Settles = (failure) => failure.code === 'ACCOUNT_NOT_FOUND';

/** What every compensation of one transfer works with. */
interface CompensationContext {
  input: TransferInput;
  journal: TransferJournal;
  attemptsPerRound: number;
  firstRoundActivities: LedgerActivities;
  persistentActivities: LedgerActivities;
  /** Set for a compensation tried locally first. */
  localActivities?: LedgerActivities;
}

/**
 * Refunds and credit-voids: they never give up. After a first round of `refundAttentionAfterAttempts`
 * attempts the transfer is flagged for operators and the activity retries by itself, with no history
 * per attempt, so a bank that stays down for weeks adds nothing to the workflow's history; only a
 * refusal the ledger keeps giving (which no retry can change) comes back, at pauses that double up
 * to an hour.
 */
export function createCompensations(input: TransferInput, journal: TransferJournal, gate: PatchGate): Compensations {
  const attemptsPerRound = input.policy.refundAttentionAfterAttempts;
  const context: CompensationContext = {
    input,
    journal,
    attemptsPerRound,
    firstRoundActivities: proxyActivities<LedgerActivities>(compensationOptions(attemptsPerRound)),
    persistentActivities: proxyActivities<LedgerActivities>(persistentCompensationOptions(input.policy.compensationRetryMaximumIntervalMs)),
  };
  const untilDone = (name: TransferStepName, run: Compensate, settles: Settles = () => false): Promise<LegResult | undefined> => {
    if (!gate.has(transferPatches.compensationRetriesInActivity)) return untilDoneInRounds(context, name, () => run(context.firstRoundActivities), settles);
    return untilAnswered(context, name, run, settles);
  };
  const localActivities = proxyLocalActivities<LedgerActivities>(settlementCreditLocalOptions);
  const untilDoneLocalFirst = (name: TransferStepName, run: Compensate): Promise<LegResult | undefined> =>
    gate.localLegs ? untilAnswered({ ...context, localActivities }, name, run, () => false) : untilDone(name, run);
  const source = { bankId: input.source.bankId, accountId: input.source.accountId, transferId: input.transferId };
  return {
    untilDone,
    untilDoneLocalFirst,
    refundSource: async (settles) => {
      const result = await untilDone('refund', (activities) => activities.refund(source), settles);
      journal.setAttention(false);
      return result;
    },
  };
}

function flag({ input, journal }: CompensationContext, step: TransferStep, name: TransferStepName, failure: LegFailure): void {
  step.failure = { code: failure.code, message: failure.message };
  journal.setAttention(true);
  log.warn('compensation keeps failing', { transferId: input.transferId, step: name, attempts: step.attempts, code: failure.code });
}

/** The first round; the failure when it did not end the compensation. */
async function firstRound({ journal, firstRoundActivities, localActivities }: CompensationContext, step: TransferStep, run: Compensate, settles: Settles): Promise<{ result: LegResult | undefined } | LegFailure> {
  const ordinary = (): Promise<LegResult> => run(firstRoundActivities);
  const attempt = localActivities ? () => localFirst(step.name, () => run(localActivities), ordinary) : ordinary;
  try {
    const result = await CancellationScope.nonCancellable(attempt);
    journal.endStep(step, 'SUCCEEDED', { attempts: result.attempt });
    return { result };
  } catch (error) {
    const failure = legFailure(error);
    if (!failure.refusal || !settles(failure)) return failure;
    journal.endStep(step, 'SUCCEEDED', { attempts: 1, failure });
    return { result: undefined };
  }
}

/** A first round, then the activity retrying by itself; only a refusal comes back, after a growing pause. */
async function untilAnswered(context: CompensationContext, name: TransferStepName, run: Compensate, settles: Settles): Promise<LegResult | undefined> {
  const { journal, attemptsPerRound, persistentActivities } = context;
  const step = journal.beginStep(name);
  const first = await firstRound(context, step, run, settles);
  if (!('code' in first)) return first.result;
  step.attempts = attemptsPerRound;
  flag(context, step, name, first);
  for (let pauseMs = compensationRoundPauseMs; ; pauseMs = Math.min(pauseMs * 2, compensationRefusalPauseMaxMs)) {
    try {
      const result = await CancellationScope.nonCancellable(() => run(persistentActivities));
      journal.endStep(step, 'SUCCEEDED', { attempts: step.attempts + result.attempt });
      return result;
    } catch (error) {
      const failure = legFailure(error);
      step.attempts += 1;
      if (failure.refusal && settles(failure)) {
        journal.endStep(step, 'SUCCEEDED', { attempts: step.attempts, failure });
        return undefined;
      }
      step.failure = { code: failure.code, message: failure.message };
      await CancellationScope.nonCancellable(() => sleep(pauseMs));
    }
  }
}

/** How compensations ran before compensation-retries-in-activity: rounds of attempts, each failed round a pause in history. */
async function untilDoneInRounds(context: CompensationContext, name: TransferStepName, run: () => Promise<LegResult>, settles: Settles): Promise<LegResult | undefined> {
  const { journal, attemptsPerRound } = context;
  const step = journal.beginStep(name);
  for (let failedRounds = 0; ; failedRounds += 1) {
    try {
      const result = await CancellationScope.nonCancellable(run);
      journal.endStep(step, 'SUCCEEDED', { attempts: failedRounds * attemptsPerRound + result.attempt });
      return result;
    } catch (error) {
      const failure = legFailure(error);
      if (failure.refusal && settles(failure)) {
        journal.endStep(step, 'SUCCEEDED', { attempts: failedRounds * attemptsPerRound + 1, failure });
        return undefined;
      }
      step.attempts = (failedRounds + 1) * attemptsPerRound;
      flag(context, step, name, failure);
      await CancellationScope.nonCancellable(() => sleep(compensationRoundPauseMs));
    }
  }
}
