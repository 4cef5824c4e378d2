import { Client, Connection } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { pino, type Logger } from 'pino';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { MongoClient } from 'mongodb';
import { EventStore } from '../../lib/events/event-store';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import type { TransferPolicy, WebhookPolicy } from '../../lib/contracts/transfer-contract';
import { startRecordSweeper } from './record-sweeper';
import { startEventRetentionSweeper } from './event-retention-sweeper';
import { EventRetention } from '../../lib/events/event-retention';
import { secretSealer } from '../../lib/crypto/secret-sealing';
import { serve } from '../../lib/http/server';
import { startConfiguredTracing } from '../../lib/telemetry/tracing';
import { buildTransferApi } from './app';
import { loadConfig, type TransferApiConfig } from './config';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { BankAccounts } from './gateways/bank-accounts';
import { TemporalReconciliations } from './gateways/reconciliations';
import { TemporalTransferWorkflows } from './gateways/temporal-transfer-workflows';
import { transferApiLimits } from './limits';
import { SettlementBank } from './gateways/settlement-bank';
import { ensureSettlementWindowSchedule } from './settlement-schedule';
import { SettlementWindows } from './gateways/settlement-windows';
import { SettlementWindowStore } from '../../lib/settlement/window-store';
import { temporalWebhookDeliveries } from '../../lib/temporal/webhook-delivery-start';
import { transferCreatedEvents } from './use-cases/transfer-created-event';


/** The API signs with the first transfer authority key; the others are still accepted by the worker (a rotation). */
function authorityKeyOf(config: TransferApiConfig): SigningKey {
  const [key] = config.authorityKeys;
  if (!key) throw new Error('TRANSFER_AUTHORITY_KEYS is empty');
  return key;
}

/** The settlement bank may still be starting: its participants are opened before the API takes a transfer. */
async function openParticipantsPatiently(settlement: SettlementBank, windows: SettlementWindows | undefined, logger: Logger): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await settlement.openParticipants();
      await windows?.openFirst(new Date().toISOString());
      logger.info({ model: settlement.model, participants: settlement.participants, currencies: settlement.config.currencies }, 'settlement participants open');
      return;
    } catch (error) {
      if (attempt >= transferApiLimits.settlementOpeningAttemptsMax) throw error;
      logger.warn({ attempt, error: error instanceof Error ? error.message : String(error) }, 'settlement bank not ready; retrying');
      await new Promise((resolve) => setTimeout(resolve, transferApiLimits.settlementOpeningRetryMs));
    }
  }
}

/** How webhook deliveries retry, handed to every saga and to the deliveries the API starts itself. */
function webhookPolicyOf(config: TransferApiConfig): WebhookPolicy {
  return {
    // The worker runs webhook POSTs on this queue beside the saga's (see services/worker/transfer-worker.ts).
    deliveryTaskQueue: `${config.temporal.taskQueue}-webhooks`,
    retryInitialIntervalMs: config.webhookRetry.initialIntervalMs,
    retryMaximumIntervalMs: config.webhookRetry.maximumIntervalMs,
    giveUpAfterMs: config.webhookRetry.giveUpAfterMs,
  };
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ name: 'transfer-api', level: config.logLevel });
  const connection = await Connection.connect({ address: config.temporal.address });
  const tracing = startConfiguredTracing(config.tracing);
  // With tracing, every workflow start, update and query gets a span whose context travels in the workflow's headers.
  const interceptors = tracing ? { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.tracer })] } : undefined;
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: transferDataConverter(config.codecKeys), ...(interceptors ? { interceptors } : {}) });
  const mongo = new MongoClient(config.events.mongodbUrl, { useBigInt64: true });
  const events = new EventStore(mongo.db(config.events.databaseName), { sealer: secretSealer(config.codecKeys) });
  await events.ensureIndexes();
  const records = new TransferRecordStore(mongo.db(config.events.databaseName));
  await records.ensureIndexes();
  const workflows = new TemporalTransferWorkflows({ client, namespace: config.temporal.namespace, taskQueue: config.temporal.taskQueue, workerAnswerTimeoutMs: transferApiLimits.workerAnswerTimeoutMs, authorityKey: authorityKeyOf(config) });
  const webhookPolicy = webhookPolicyOf(config);
  const policy: TransferPolicy = {
    approvalThresholdMinor: config.approvalThresholdMinor,
    approvalTimeoutMs: config.approvalTimeoutMs,
    amountMaxMinor: config.transferMaxMinor,
    banks: config.banks.map((bank) => bank.bankId),
    refundAttentionAfterAttempts: config.refundAttentionAfterAttempts,
    creditGiveUpAfterMs: config.creditGiveUpAfterMs,
    debitGiveUpAfterMs: config.debitGiveUpAfterMs,
    compensationRetryMaximumIntervalMs: config.compensationRetryMaximumIntervalMs,
    transferRecord: true,
    ...(config.settlement ? { settlement: { model: config.settlement.model, bankId: config.settlement.bankId } } : {}),
    webhooks: webhookPolicy,
  };
  const settlement = config.settlement ? new SettlementBank(config.settlement, policy.banks, config.signingKey, config.bankRequestTimeoutMs) : undefined;
  const settlementWindows = settlement?.model === 'deferred-net' ? new SettlementWindows(new SettlementWindowStore(mongo.db(config.events.databaseName)), settlement, client, config.temporal.taskQueue) : undefined;
  if (settlement) await openParticipantsPatiently(settlement, settlementWindows, logger);
  if (settlement && settlementWindows) {
    const outcome = await ensureSettlementWindowSchedule(client, config.temporal.taskQueue, settlement.config.windowMinutes, { participants: [...settlement.participants], currencies: [...settlement.config.currencies] });
    logger.info({ everyMinutes: settlement.config.windowMinutes, outcome }, 'settlement window schedule');
  }
  const webhookDeliveries = temporalWebhookDeliveries(client, config.temporal.taskQueue);
  const createdEvents = transferCreatedEvents(events, webhookDeliveries, webhookPolicy);
  const sweeper = startRecordSweeper({ records, workflows, policy, createdEvents, logger, intervalMs: config.sweep.intervalMs, startGraceMs: config.sweep.startGraceMs });
  const retention = startEventRetentionSweeper({ retention: new EventRetention(mongo.db(config.events.databaseName)), logger, intervalMs: config.eventRetention.sweepIntervalMs, feedDays: config.eventRetention.feedDays, attemptsDays: config.eventRetention.attemptsDays });
  const { app } = buildTransferApi({
    logger,
    apiKeys: config.apiKeys,
    workflows,
    records,
    banks: new BankAccounts(config.banks, config.signingKey, config.bankRequestTimeoutMs),
    reconciliations: new TemporalReconciliations({ client, taskQueue: config.temporal.taskQueue }),
    policy,
    clientTransferMaxMinor: config.clientTransferMaxMinor,
    authority: { clientMandates: config.clientMandates, approvalFourEyes: config.approvalFourEyes },
    events,
    allowedWebhookHosts: config.allowedWebhookHosts,
    webhookDeliveries,
    webhookSecretOverlapMs: config.webhookSecretOverlapMs,
    rateLimitPerMinute: config.rateLimitPerMinute,
    transferOverdueAfterMs: config.transferOverdueAfterMs,
    ...(settlement ? { settlement } : {}),
    ...(settlementWindows ? { settlementWindows } : {}),
    ...(tracing ? { tracer: tracing.tracer } : {}),
  });
  const close = async (): Promise<void> => {
    await sweeper.stop();
    await retention.stop();
    await connection.close();
    await mongo.close();
    await tracing?.shutdown();
  };
  serve(app, { host: config.host, port: config.port, logger, name: 'transfer API', close });
}

main().catch((error: unknown) => {
  // Configuration errors name their variable; print them plainly for whoever started the process.
  process.stderr.write(`transfer-api: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
