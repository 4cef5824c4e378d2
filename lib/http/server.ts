import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Express, RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { ApiError } from './errors';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { pinoHttp } from 'pino-http';

/** Limits every HTTP service applies to its server, in one place. */
export const serverLimits = { requestTimeoutMs: 30_000, headersTimeoutMs: 10_000, keepAliveTimeoutMs: 65_000, shutdownGraceMs: 10_000 } as const;

const quietPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * helmet and structured request logs with a request id: the caller's X-Request-Id when it is
 * a plain token, a new UUID otherwise, echoed in the answer.
 */
export function commonMiddleware(app: Express, logger: Logger): RequestHandler[] {
  app.disable('x-powered-by');
  return [
    helmet(),
    pinoHttp({
      logger,
      genReqId: (req, res) => {
        const given = req.headers['x-request-id'];
        const requestId = typeof given === 'string' && /^[A-Za-z0-9._-]{1,64}$/.test(given) ? given : randomUUID();
        res.setHeader('x-request-id', requestId);
        return requestId;
      },
      autoLogging: { ignore: (req) => quietPaths.has(req.url ?? '') },
      // Headers carry credentials (Authorization, X-Signature) that could be replayed: log the request line only.
      serializers: { req: (req: { id?: unknown; method?: string; url?: string }) => ({ id: req.id, method: req.method, url: req.url }) },
    }),
  ];
}

/** Listens with the server limits and stops gracefully on SIGTERM/SIGINT, closing `resources` last. */
export function serve(app: Express, options: { host: string; port: number; logger: Logger; name: string; close: () => Promise<void> }): Server {
  const server = app.listen(options.port, options.host, () => options.logger.info({ url: `http://${options.host}:${options.port}` }, `${options.name} listening`));
  server.requestTimeout = serverLimits.requestTimeoutMs;
  server.headersTimeout = serverLimits.headersTimeoutMs;
  server.keepAliveTimeout = serverLimits.keepAliveTimeoutMs;
  const shutdown = (signal: string): void => {
    options.logger.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(1), serverLimits.shutdownGraceMs).unref();
    server.close(() => {
      // Fire-and-forget: the process exits once close settles; the grace timer above bounds the wait.
      void options.close().finally(() => process.exit(0));
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return server;
}

/**
 * /healthz (the process answers), /readyz (what it depends on answers: 503 TEMPORARILY_UNAVAILABLE
 * naming it otherwise) and /metrics (Prometheus text); none needs credentials.
 */
export function operationalRoutes(app: Express, options: { registry: Registry; dependency: string; ready: () => Promise<boolean> }): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res, next) => {
    options
      .ready()
      .catch(() => false)
      .then((ready) => (ready ? res.json({ status: 'ready' }) : next(new ApiError('TEMPORARILY_UNAVAILABLE', `${options.dependency} does not answer`))))
      .catch(next);
  });
  app.get('/metrics', (_req, res, next) => {
    options.registry
      .metrics()
      .then((text) => res.type(options.registry.contentType).send(text))
      .catch(next);
  });
}
