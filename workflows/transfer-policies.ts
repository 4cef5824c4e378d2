import type { ActivityOptions, LocalActivityOptions, RetryPolicy } from '@temporalio/workflow';
import { businessRefusalCodes } from '../lib/contracts/error-codes';
import type { WebhookPolicy } from '../lib/contracts/transfer-contract';

/**
 * Every timeout and retry policy of the saga, in one place. Business refusals are never
 * retried (the same list the activities use to decide what is a refusal); transport faults,
 * 5xx and timeouts are.
 */
const ledgerCallRetry: RetryPolicy = {
  initialInterval: '200 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  nonRetryableErrorTypes: [...businessRefusalCodes],
};

/** One HTTP call with its own 10 s timeout fits well inside an attempt. */
const attemptTimeoutMs = 15_000;

export const creditGiveUpAfterMsDefault = 5 * 60_000;
export const debitGiveUpAfterMsDefault = 5 * 60_000;

/** The debit and the credit are retried until their give-up time, then the saga compensates. */
export function legOptions(giveUpAfterMs: number): ActivityOptions {
  return { startToCloseTimeout: attemptTimeoutMs, scheduleToCloseTimeout: giveUpAfterMs, retry: ledgerCallRetry };
}

/** Attempts a leg makes in the worker before an ordinary activity takes over. */
const localLegAttempts = 2;

/**
 * A leg run as a local activity: no activity task through the server, only a marker. An attempt has
 * the ordinary attempt's timeout, so a bank that is slow but answering is never asked twice; a bank
 * that fails is retried once in the worker, then the ordinary activity takes over (legFallbackOptions).
 * The leg's give-up time bounds both together, as it bounded the ordinary activity alone.
 */
export function localLegOptions(giveUpAfterMs: number): LocalActivityOptions {
  return { startToCloseTimeout: Math.min(attemptTimeoutMs, giveUpAfterMs), scheduleToCloseTimeout: giveUpAfterMs, retry: { ...ledgerCallRetry, maximumAttempts: localLegAttempts } };
}

/** The ordinary activity that takes a leg over after its local attempts: the rest of its give-up time, at least a second. */
export function legFallbackOptions(remainingMs: number): ActivityOptions {
  return legOptions(Math.max(1_000, remainingMs));
}

/**
 * The settlement credit's first try in the worker; after it, the credit is a compensation that never
 * gives up, first as its ordinary round. No schedule-to-close: that timeout means "given up".
 */
export const settlementCreditLocalOptions: LocalActivityOptions = {
  startToCloseTimeout: attemptTimeoutMs,
  scheduleToStartTimeout: 10_000,
  retry: { ...ledgerCallRetry, maximumAttempts: localLegAttempts },
};

/**
 * Refunds and credit-voids never give up: each round makes `attempts` tries with capped
 * backoff; a round that fails flags the transfer for operators and the next round starts.
 */
export function compensationOptions(attempts: number): ActivityOptions {
  return {
    startToCloseTimeout: attemptTimeoutMs,
    retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', maximumAttempts: attempts, nonRetryableErrorTypes: [] },
  };
}

/** Pause between two rounds of compensation attempts. */
export const compensationRoundPauseMs = 5_000;
/** Longest pause before asking again a ledger that keeps refusing a compensation. */
export const compensationRefusalPauseMaxMs = 60 * 60_000;
export const compensationRetryMaximumIntervalMsDefault = 30_000;

/**
 * A compensation after its first round: retried by the activity itself until it answers, with no
 * history per attempt and no give-up time; only a business refusal comes back to the workflow.
 * Unlimited attempts are an absent maximumAttempts: the SDK refuses 0 before scheduling anything.
 * The first interval never exceeds the cap, which may be as low as 100 ms (the SDK refuses that too).
 */
export function persistentCompensationOptions(maximumIntervalMs = compensationRetryMaximumIntervalMsDefault): ActivityOptions {
  return {
    startToCloseTimeout: attemptTimeoutMs,
    retry: { initialInterval: Math.min(500, maximumIntervalMs), backoffCoefficient: 2, maximumInterval: maximumIntervalMs, nonRetryableErrorTypes: [] },
  };
}

/** One webhook POST carries its own short timeout; an attempt never holds a slot longer than this. */
const webhookAttemptTimeoutMs = 30_000;

/** Webhook deliveries: capped exponential backoff until the give-up time (24 h by default). */
export function webhookDeliveryOptions(policy: WebhookPolicy): ActivityOptions {
  return {
    taskQueue: policy.deliveryTaskQueue,
    startToCloseTimeout: webhookAttemptTimeoutMs,
    scheduleToCloseTimeout: policy.giveUpAfterMs,
    retry: { initialInterval: policy.retryInitialIntervalMs, backoffCoefficient: 2, maximumInterval: policy.retryMaximumIntervalMs, nonRetryableErrorTypes: ['WEBHOOK_HOST_NOT_ALLOWED'] },
  };
}

/** A transfer change written by a local activity first: a few quick attempts, then an ordinary activity takes over. */
export const changeRecordingLocalOptions: LocalActivityOptions = {
  startToCloseTimeout: attemptTimeoutMs,
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 3, nonRetryableErrorTypes: [] },
};

/** Recording an event in the API's database never gives up; the saga does not wait for it. */
export const eventRecordingOptions: ActivityOptions = {
  startToCloseTimeout: attemptTimeoutMs,
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '30 seconds', nonRetryableErrorTypes: [] },
};

/**
 * Checking the API's signature is a little CPU in the worker; it is retried (never given up) only if
 * the check itself fails. An ordinary activity, not a local one: a local activity's result may reach
 * the workflow in another workflow task on replay than it did when it ran, and a patched() call right
 * after it (the record's patch, at the transfer's first change) then found its marker missing (seen in
 * the chaos suite after a worker was killed: a nondeterminism error, and the transfer stuck).
 */
export const authorityCheckOptions: ActivityOptions = {
  startToCloseTimeout: 10_000,
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', nonRetryableErrorTypes: [] },
};

/**
 * The same check as a local activity, for a run that takes local-ledger-legs: it calls no patched()
 * after any local activity (PatchGate), which removes the hazard above. A check that fails its few
 * attempts goes to the ordinary activity.
 */
export const authorityCheckLocalOptions: LocalActivityOptions = {
  startToCloseTimeout: 5_000,
  // No schedule-to-close: that timeout means "given up", and this check is never given up.
  scheduleToStartTimeout: 10_000,
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '2 seconds', maximumAttempts: 3, nonRetryableErrorTypes: [] },
};
