import { MongoClient } from 'mongodb';
import { pino } from 'pino';
import { buildAccountService } from './app';
import { loadConfig } from './config';

const shutdownGraceMs = 10_000;

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const logger = pino({ name: 'account-service', level: config.logLevel, base: { bank: config.bankId } });
  // Full durability for ledgers: the default write concern, no relaxed journaling.
  const client = new MongoClient(config.mongodbUrl, { useBigInt64: true, maxPoolSize: config.mongodbPoolSizeMax, serverSelectionTimeoutMS: 5_000 });
  await client.connect();
  const { app } = await buildAccountService({ bankId: config.bankId, db: client.db(config.databaseName), logger, serviceKeys: config.serviceKeys });
  const server = app.listen(config.port, config.host, () => logger.info({ url: `http://${config.host}:${config.port}` }, 'account service listening'));
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 65_000;
  const shutdown = (signal: string): void => {
    logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), shutdownGraceMs).unref();
    server.close(() => {
      void client.close().finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`account-service: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
