import { createHash, timingSafeEqual } from 'node:crypto';
import type { Payload, PayloadCodec } from '@temporalio/common';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { z } from 'zod';
import type { ErrorCode } from '../../lib/contracts/error-codes';
import { ApiError, errorHandler } from '../../lib/http/errors';
import { operationalRoutes } from '../../lib/http/server';
import { codecServerLimits } from './limits';

export interface CodecServerOptions {
  codec: PayloadCodec;
  token: string;
  corsOrigins: readonly string[];
  logger: Logger;
  /** Encode and decode requests one client address may make a minute. */
  requestsPerMinute: number;
}

/** Temporal's remote codec protocol: Payloads as protobuf JSON (bytes in base64). */
const payloadsBody = z.object({
  payloads: z
    .array(z.object({ metadata: z.record(z.string(), z.string().max(codecServerLimits.metadataValueLengthMax)).nullish(), data: z.string().nullish() }))
    .max(codecServerLimits.payloadsMax),
});
type JsonPayload = z.infer<typeof payloadsBody>['payloads'][number];

function fromJson(payload: JsonPayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(payload.data ?? '', 'base64'),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}

function sameSecret(given: string, expected: string): boolean {
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** No answer is cached; browsers may call only from the UI's origins, and their preflights are answered here. */
function noStoreAndCors(allowedOrigins: ReadonlySet<string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!allowedOrigins.has(origin)) return next(new ApiError('ORIGIN_NOT_ALLOWED', 'this origin may not call the codec server'));
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', String(codecServerLimits.preflightMaxAgeSeconds));
      res.status(204).end();
      return;
    }
    next();
  };
}

const unreadableBodyCodeByStatus: Readonly<Partial<Record<number, ErrorCode>>> = { 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' };

/**
 * A body-parser error (it carries a 4xx status) as the house error with the same status; the
 * shared handler names only the commonest ones and would answer the rest (an aborted upload) 500.
 */
function unreadableBodyError(error: unknown): ApiError | undefined {
  if (error instanceof ApiError) return undefined;
  const status = (error as { status?: unknown } | null)?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  return new ApiError(unreadableBodyCodeByStatus[status] ?? 'VALIDATION_FAILED', 'the request could not be read');
}

/** Per client address: token guesses (only answers of 401 count), and requests in all. */
function codecRateLimits(requestsPerMinute: number) {
  const tooMany = (message: string) => (_req: Request, _res: Response, next: NextFunction) => next(new ApiError('RATE_LIMITED', message));
  const guessing = rateLimit({
    windowMs: codecServerLimits.rateWindowMs,
    limit: codecServerLimits.failedAuthenticationsPerWindow,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    requestWasSuccessful: (_req, res) => res.statusCode !== 401,
    skipSuccessfulRequests: true,
    handler: tooMany(`more than ${codecServerLimits.failedAuthenticationsPerWindow} failed authentications a minute from this address`),
  });
  const busy = rateLimit({
    windowMs: codecServerLimits.rateWindowMs,
    limit: requestsPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: tooMany(`more than ${requestsPerMinute} codec requests a minute from this address`),
  });
  return [guessing, busy];
}

/**
 * The codec server the Temporal Web UI and the `temporal` CLI decode payloads through.
 * Authentication: the token as the endpoint's first path segment (`http://host:port/<token>`,
 * what the UI's `--ui-codec-endpoint` can carry, since the UI sends no credentials of its own
 * without single sign-on) or `Authorization: Bearer <token>` (the CLI's `--codec-auth`).
 * CORS answers only the configured UI origins; preflights carry no credentials and are answered
 * before authentication.
 */
export function buildCodecServer(options: CodecServerOptions): Express {
  const app = express();
  app.disable('x-powered-by');

  app.use(noStoreAndCors(new Set(options.corsOrigins)));

  // Prometheus scrapes it like every process; it has no dependency, so ready means running.
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({ name: 'codec_requests_total', help: 'Encode and decode requests, by outcome', labelNames: ['operation', 'outcome'], registers: [registry] });
  operationalRoutes(app, { registry, dependency: 'nothing', ready: async () => true });

  const authenticated = (req: Request, pathToken: string | undefined): boolean => {
    if (pathToken !== undefined) return sameSecret(pathToken, options.token);
    const header = req.headers.authorization ?? '';
    const bearer = /^Bearer ([A-Za-z0-9_-]{1,256})$/.exec(header)?.[1];
    return bearer !== undefined && sameSecret(bearer, options.token);
  };

  const handle = (operation: 'encode' | 'decode') => async (req: Request, res: Response, next: NextFunction) => {
    const params = req.params as { token?: string };
    if (!authenticated(req, params.token)) {
      requests.inc({ operation, outcome: 'unauthenticated' });
      return next(new ApiError('UNAUTHENTICATED', 'a valid codec token is required'));
    }
    const body = payloadsBody.safeParse(req.body);
    if (!body.success) {
      requests.inc({ operation, outcome: 'invalid' });
      return next(new ApiError('VALIDATION_FAILED', 'the body is {"payloads": [...]} in protobuf JSON'));
    }
    const namespace = req.headers['x-namespace'];
    try {
      const payloads = body.data.payloads.map(fromJson);
      const answer = operation === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      options.logger.debug({ operation, namespace, payloads: payloads.length }, 'codec request');
      requests.inc({ operation, outcome: 'ok' });
      res.json({ payloads: answer.map(toJson) });
    } catch (error) {
      requests.inc({ operation, outcome: 'not-decodable' });
      options.logger.warn({ operation, namespace, err: error }, 'codec request failed');
      next(new ApiError('PAYLOAD_NOT_DECODABLE', error instanceof Error ? error.message : 'payloads could not be processed'));
    }
  };

  const codecRequest = [...codecRateLimits(options.requestsPerMinute), express.json({ limit: codecServerLimits.bodySizeMax })];
  // Only the last path segment says encode or decode (the protocol); the token may sit before it.
  app.post('/:token/encode', ...codecRequest, handle('encode'));
  app.post('/:token/decode', ...codecRequest, handle('decode'));
  app.post('/encode', ...codecRequest, handle('encode'));
  app.post('/decode', ...codecRequest, handle('decode'));

  // Not the shared notFoundHandler: its message repeats the path, and the path may hold the token.
  app.use((_req: Request, _res: Response, next: NextFunction) => next(new ApiError('NOT_FOUND', 'POST /encode or /decode')));
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => next(unreadableBodyError(error) ?? error));
  app.use(errorHandler(options.logger));
  return app;
}
