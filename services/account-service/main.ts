import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { serve } from '../../lib/http/server';
import { startConfiguredTracing } from '../../lib/telemetry/tracing';
import { buildAccountService } from './app';
import { loadConfig } from './config';
import { traceDatabaseCommands } from './ledger/database-tracing';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // Request logs leave out headers (lib/http/server.ts), so no X-Signature reaches them.
  const logger = pino({ name: 'account-service', level: config.logLevel, base: { bank: config.bankId } });
  // Full durability for ledgers: the default write concern, no relaxed journaling.
  const tracing = startConfiguredTracing(config.tracing);
  const client = new MongoClient(config.mongodbUrl, {
    useBigInt64: true,
    maxPoolSize: config.mongodbPoolSizeMax,
    serverSelectionTimeoutMS: 5_000,
    // Command events feed the database spans; without tracing the driver does not emit them at all.
    monitorCommands: tracing !== undefined,
  });
  if (tracing) traceDatabaseCommands(client, tracing.tracer);
  await client.connect();
  const offsetMs = config.clockOffsetMs;
  if (offsetMs !== 0) logger.warn({ clockOffsetMs: offsetMs }, 'test clock: the service clock is shifted');
  const clock = (): Date => new Date(Date.now() + offsetMs);
  const { app } = await buildAccountService({
    bankId: config.bankId,
    db: client.db(config.databaseName),
    logger,
    serviceKeys: config.serviceKeys,
    groupCommit: config.groupCommit,
    ledgerBounds: config.ledgerBounds,
    clock,
    tracer: tracing?.tracer,
    ...(config.timeZone === undefined ? {} : { timeZone: config.timeZone }),
  });
  const close = async (): Promise<void> => {
    await client.close();
    await tracing?.shutdown();
  };
  serve(app, { host: config.host, port: config.port, logger, name: 'account service', close });
}

main().catch((error: unknown) => {
  process.stderr.write(`account-service: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
