import { pino } from 'pino';
import { serve } from '../../lib/http/server';
import { AesGcmPayloadCodec } from '../../lib/crypto/payload-codec';
import { buildCodecServer } from './app';
import { loadConfig } from './config';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  // No request logs: the Web UI's endpoint carries the access token in its path.
  const logger = pino({ name: 'codec-server', level: config.logLevel });
  const app = buildCodecServer({ codec: new AesGcmPayloadCodec(config.codecKeys), token: config.token, corsOrigins: config.corsOrigins, logger, requestsPerMinute: config.requestsPerMinute });
  serve(app, { host: config.host, port: config.port, logger, name: 'codec server', close: async () => undefined });
}

main().catch((error: unknown) => {
  process.stderr.write(`codec-server: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
