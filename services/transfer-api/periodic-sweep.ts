import type { Logger } from 'pino';

/**
 * Runs a sweep every `intervalMs` until stopped (and once at start when asked); a sweep that
 * outlasts the interval is not joined by another, and a failed one is logged and tried again at
 * the next tick. `describe` says what a sweep did, or undefined when it did nothing worth a line.
 */
export function startPeriodicSweep<T extends object>(options: {
  name: string;
  intervalMs: number;
  runAtStart: boolean;
  logger: Logger;
  sweep: () => Promise<T>;
  worthLogging: (outcome: T) => boolean;
}): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  const sweep = async (): Promise<void> => {
    try {
      const outcome = await options.sweep();
      const fields: object = outcome;
      if (options.worthLogging(outcome)) options.logger.info(fields, options.name);
    } catch (error) {
      options.logger.warn({ err: error }, `${options.name} failed`);
    } finally {
      running = undefined;
    }
  };
  if (options.runAtStart) running = sweep();
  const timer = setInterval(() => {
    running ??= sweep();
  }, options.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
