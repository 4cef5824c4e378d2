import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { EventStore } from '../../lib/event-store';
import { loadConfig } from './config';
import { bundleTransferWorkflows, createTransferWorker, createWebhookWorker } from './transfer-worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ name: 'worker', level: config.logLevel });
  Runtime.install({
    logger: {
      log: (level, message, meta) => logger[level === 'TRACE' ? 'trace' : level === 'DEBUG' ? 'debug' : level === 'INFO' ? 'info' : level === 'WARN' ? 'warn' : 'error'](meta ?? {}, message),
      trace: (message, meta) => logger.trace(meta ?? {}, message),
      debug: (message, meta) => logger.debug(meta ?? {}, message),
      info: (message, meta) => logger.info(meta ?? {}, message),
      warn: (message, meta) => logger.warn(meta ?? {}, message),
      error: (message, meta) => logger.error(meta ?? {}, message),
    },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) } },
  });
  const bundle = await bundleTransferWorkflows();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const mongo = new MongoClient(config.events.mongodbUrl, { useBigInt64: true });
  const store = new EventStore(mongo.db(config.events.databaseName));
  await store.ensureIndexes();
  const events = { store, allowedHosts: config.events.allowedHosts, requestTimeoutMs: config.events.requestTimeoutMs };
  const worker = await createTransferWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    bundle,
    banks: config.banks,
    signingKey: config.signingKey,
    requestTimeoutMs: config.bankRequestTimeoutMs,
    events,
  });
  const webhookWorker = await createWebhookWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, events });
  logger.info({ taskQueue: config.temporal.taskQueue, banks: config.banks.map((bank) => bank.bankId) }, 'worker running');
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished (the SDK installs the handlers).
  await Promise.all([worker.run(), webhookWorker.run()]);
  await connection.close();
  await mongo.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
