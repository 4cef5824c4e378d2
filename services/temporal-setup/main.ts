import { pino } from 'pino';
import { registerSearchAttributes, setNamespaceRetention } from '../../infra/processes/temporal-dev-server';
import { loadConfig } from './config';

const retryPauseMs = 2_000;

/**
 * One-shot job of the production topology: registers the transfer search attributes on the
 * namespace and sets its retention (the launcher does the same for the local dev server), then
 * exits. Safe to run again: only missing attributes are added, and the retention follows the
 * setting on an existing namespace too.
 */
async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ name: 'temporal-setup', level: config.logLevel });
  const deadline = Date.now() + config.timeoutMs;
  for (;;) {
    try {
      const added = await registerSearchAttributes(config.temporal.address, config.temporal.namespace);
      logger.info({ namespace: config.temporal.namespace, added }, 'search attributes registered');
      const changed = await setNamespaceRetention(config.temporal.address, config.temporal.namespace, config.temporal.retentionHours);
      logger.info({ namespace: config.temporal.namespace, retentionHours: config.temporal.retentionHours, changed }, 'namespace retention set');
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      logger.warn({ error: error instanceof Error ? error.message : String(error) }, 'Temporal not ready; retrying');
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs));
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`temporal-setup: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
