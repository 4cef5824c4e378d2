import type { Logger } from 'pino';
import type { EventRetention, RetentionOutcome } from '../../lib/events/event-retention';
import { startPeriodicSweep } from './periodic-sweep';

const dayMs = 86_400_000;
/** Events one sweep deletes per client: a backlog (a first sweep over a year of events) is worked off over several sweeps. */
const eventsPerClientPerSweep = 5_000;

export interface EventRetentionOptions {
  retention: EventRetention;
  logger: Logger;
  intervalMs: number;
  /** EVENT_FEED_RETENTION_DAYS and WEBHOOK_ATTEMPTS_RETENTION_DAYS. */
  feedDays: number;
  attemptsDays: number;
  now?: () => Date;
}

/** One sweep: events older than the feed's window go, and delivery attempts older than the log's. */
export function sweepEventsOnce(options: EventRetentionOptions): Promise<RetentionOutcome> {
  const now = (options.now?.() ?? new Date()).getTime();
  return options.retention.sweep({
    feedBefore: new Date(now - options.feedDays * dayMs),
    attemptsBefore: new Date(now - options.attemptsDays * dayMs),
    eventsPerClientMax: eventsPerClientPerSweep,
  });
}

/**
 * Sweeps every `intervalMs` until stopped (and once at start, so a restarted API does not wait an
 * interval); a failed sweep is logged and the next one tries again. Several API processes may
 * sweep at once: every delete is idempotent and the marks only move forward.
 */
export function startEventRetentionSweeper(options: EventRetentionOptions): { stop: () => Promise<void> } {
  return startPeriodicSweep({
    name: 'event retention sweep',
    intervalMs: options.intervalMs,
    runAtStart: true,
    logger: options.logger,
    sweep: () => sweepEventsOnce(options),
    worthLogging: (outcome) => outcome.eventsDeleted + outcome.attemptsDeleted > 0,
  });
}
