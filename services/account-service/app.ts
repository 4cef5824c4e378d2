import express, { type ErrorRequestHandler, type Express } from 'express';
import type { Tracer } from '@opentelemetry/api';
import type { Db } from 'mongodb';
import type { Logger } from 'pino';
import { ApiError, errorHandler, notFoundHandler } from '../../lib/http/errors';
import { commonMiddleware, operationalRoutes } from '../../lib/http/server';
import { traceRequests } from '../../lib/http/tracing';
import type { AcceptedServiceKey } from '../../lib/config/env-parsers';
import { requireRouteScope } from './http/route-scopes';
import { signedJsonBody } from './http/signed-json-body';
import { createAccountServiceMetrics } from './http/metrics';
import { recordCaller } from './http/caller';
import { AccountNotFoundError, Ledger, LedgerOverloadedError, OperationDroppedError, dayOfInTimeZone, groupCommitDefaults, ledgerBoundsDefaults, type GroupCommitOptions, type LedgerBounds } from './ledger/ledger';
import { accountServiceLimits } from './limits';
import { LedgerStore } from './ledger/ledger-store';
import { accountRoutes } from './routes';

export interface AccountServiceDeps {
  bankId: string;
  db: Db;
  logger: Logger;
  /** keyId → the key and its scopes, for every key this service accepts. */
  serviceKeys: ReadonlyMap<string, AcceptedServiceKey>;
  groupCommit?: GroupCommitOptions;
  /** Cache sizes and the per-account queue bound; the defaults when undefined. */
  ledgerBounds?: LedgerBounds;
  clock?: () => Date;
  /** Set when tracing is on: every request gets a span. */
  tracer?: Tracer;
  /** IANA time zone of the bank's days (daily limits); UTC when undefined. */
  timeZone?: string;
}

/**
 * The ledger's own errors as answers. OVERLOADED is no business refusal (nothing was decided), so
 * the saga retries it after Retry-After; a request that closed gets no answer at all.
 */
const ledgerErrors: ErrorRequestHandler = (error: unknown, _req, res, next) => {
  if (error instanceof AccountNotFoundError) return next(new ApiError('ACCOUNT_NOT_FOUND', error.message));
  if (error instanceof OperationDroppedError && error.reason === 'closed') return void res.destroy();
  if (error instanceof LedgerOverloadedError || error instanceof OperationDroppedError) {
    return next(new ApiError('OVERLOADED', error.message, undefined, { 'Retry-After': String(accountServiceLimits.overloadRetryAfterSeconds) }));
  }
  next(error);
};

/** Builds the service from its collaborators; main.ts passes real ones, tests may pass a test database. */
export async function buildAccountService(deps: AccountServiceDeps): Promise<{ app: Express; ledger: Ledger; store: LedgerStore }> {
  const clock = deps.clock ?? (() => new Date());
  const store = new LedgerStore(deps.db);
  await store.ensureIndexes();
  const metrics = createAccountServiceMetrics(deps.bankId);
  const ledger = new Ledger(store, clock, metrics.ledger, deps.groupCommit ?? groupCommitDefaults, dayOfInTimeZone(deps.timeZone), deps.ledgerBounds ?? ledgerBoundsDefaults);
  const app = express();
  // Routes match exactly as the scope table names them: no other letter case, no trailing slash.
  app.set('case sensitive routing', true);
  app.set('strict routing', true);
  // First, so that a caller's deadline counts from the request's arrival.
  app.use(recordCaller);
  if (deps.tracer) app.use(traceRequests(deps.tracer));
  app.use(commonMiddleware(app, deps.logger));
  app.use(metrics.recordRequests);
  operationalRoutes(app, { registry: metrics.registry, dependency: 'the database', ready: async () => (await deps.db.command({ ping: 1 })).ok === 1 });
  // Signatures are checked against the real time: a test clock shifts the ledger's days, not the callers' clocks.
  app.use(signedJsonBody(deps.bankId, deps.serviceKeys, () => Math.floor(Date.now() / 1000)));
  app.use(requireRouteScope(deps.serviceKeys));
  app.use(accountRoutes({ bankId: deps.bankId, store, ledger, clock }));
  app.use(notFoundHandler);
  app.use(ledgerErrors);
  app.use(errorHandler(deps.logger));
  return { app, ledger, store };
}
