import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { startConfiguredTracing } from '../../lib/telemetry/tracing';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { EventStore } from '../../lib/events/event-store';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import { SettlementWindowStore } from '../../lib/settlement/window-store';
import { ReconciliationCutStore } from '../../lib/reconciliation/cut-store';
import { secretSealer } from '../../lib/crypto/secret-sealing';
import { temporalWebhookDeliveries } from '../../lib/temporal/webhook-delivery-start';
import { loadConfig } from './config';
import { ensureReconciliationSchedule, removeReconciliationSchedule } from './reconciliation-schedule';
import { workerMetricsExporter } from './metrics';
import { sdkLogger } from './runtime-logger';
import { bundleTransferWorkflows, createTransferWorker, createWebhookWorker } from './transfer-worker';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ name: 'worker', level: config.logLevel });
  Runtime.install({
    logger: sdkLogger(logger),
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'WARN' }) }, metrics: workerMetricsExporter(config.metricsBindAddress) },
  });
  const tracing = startConfiguredTracing(config.tracing);
  const bundle = await bundleTransferWorkflows({ tracing: tracing !== undefined });
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const mongo = new MongoClient(config.events.mongodbUrl, { useBigInt64: true });
  const store = new EventStore(mongo.db(config.events.databaseName), { sealer: secretSealer(config.codecKeys) });
  await store.ensureIndexes();
  const records = new TransferRecordStore(mongo.db(config.events.databaseName));
  await records.ensureIndexes();
  // A client beside the worker's connection: the change activity starts the deliveries of transfer.debited itself.
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace, dataConverter: transferDataConverter(config.codecKeys) });
  const deliveries = temporalWebhookDeliveries(client, config.temporal.taskQueue);
  const events = { store, records, allowedHosts: config.events.allowedHosts, requestTimeoutMs: config.events.requestTimeoutMs, deliveries };
  const worker = await createTransferWorker({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    bundle,
    banks: config.banks,
    ...(config.settlementBank ? { settlementBank: config.settlementBank, settlementWindows: new SettlementWindowStore(mongo.db(config.events.databaseName)) } : {}),
    signingKey: config.signingKey,
    reconciliationSigningKey: config.reconciliationSigningKey,
    authorityKeys: config.authorityKeys,
    requestTimeoutMs: config.bankRequestTimeoutMs,
    ...(tracing ? { tracing } : {}),
    codecKeys: config.codecKeys,
    events,
    tuning: config.tuning,
    reconciliation: { records, cuts: new ReconciliationCutStore(mongo.db(config.events.databaseName)) },
  });
  const webhookWorker = await createWebhookWorker({ connection, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, events, codecKeys: config.codecKeys });
  if (config.reconciliationIntervalMinutes > 0) {
    const outcome = await ensureReconciliationSchedule(client, config.temporal.taskQueue, config.reconciliationIntervalMinutes);
    logger.info({ everyMinutes: config.reconciliationIntervalMinutes, outcome }, 'reconciliation schedule in place');
  } else {
    await removeReconciliationSchedule(client);
  }
  logger.info(
    {
      taskQueue: config.temporal.taskQueue,
      banks: config.banks.map((bank) => bank.bankId),
      metrics: `http://${config.metricsBindAddress}/metrics`,
      tracing: tracing !== undefined,
      payloadEncryption: config.codecKeys ? config.codecKeys[0]?.keyId : 'off',
      tuning: config.tuning,
    },
    'worker running',
  );
  // Worker.run() returns after SIGINT/SIGTERM once in-flight tasks have finished (the SDK installs the handlers).
  await Promise.all([worker.run(), webhookWorker.run()]);
  await clientConnection.close();
  await connection.close();
  await tracing?.shutdown();
  await mongo.close();
  logger.info('worker stopped');
}

main().catch((error: unknown) => {
  process.stderr.write(`worker: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
