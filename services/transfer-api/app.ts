import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import type { Tracer } from '@opentelemetry/api';
import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { EventStore } from '../../lib/events/event-store';
import type { TransferRecordStore } from '../../lib/record/transfer-record-store';
import type { TransferPolicy } from '../../lib/contracts/transfer-contract';
import type { ApiKeyRecord } from './config';
import type { BankAccounts } from './gateways/bank-accounts';
import type { Reconciliations } from './gateways/reconciliations';
import type { TransferWorkflows } from './gateways/transfer-workflows';
import { ApiError, errorHandler, notFoundHandler } from '../../lib/http/errors';
import { commonMiddleware, operationalRoutes } from '../../lib/http/server';
import { traceRequests } from '../../lib/http/tracing';
import { bearerAuthentication } from './http/auth';
import { jsonBody } from './http/json-body';
import { createApiMetrics } from './http/metrics';
import { registerOpenApi, routerFor, type AnyRouteSpec } from './http/route-table';
import { bankRoutes } from './routes/bank-routes';
import { reconciliationRoutes } from './routes/reconciliation-routes';
import { eventRoutes } from './routes/event-routes';
import { settlementRoutes, settlementWindowRoutes } from './routes/settlement-routes';
import { transferRoutes } from './routes/transfer-routes';
import type { SettlementBank } from './gateways/settlement-bank';
import type { SettlementWindows } from './gateways/settlement-windows';
import type { TransferAuthority } from './mandates';

export interface TransferApiDeps {
  logger: Logger;
  apiKeys: readonly ApiKeyRecord[];
  workflows: TransferWorkflows;
  /** The transfer record: the system of record every transfer read answers from. */
  records: TransferRecordStore;
  banks: BankAccounts;
  reconciliations: Reconciliations;
  policy: TransferPolicy;
  /** API client name → largest amount per transfer (CLIENT_TRANSFER_MAX_MINOR); others get policy.amountMaxMinor. */
  clientTransferMaxMinor?: ReadonlyMap<string, string>;
  /** CLIENT_MANDATES and APPROVAL_FOUR_EYES. */
  authority: TransferAuthority;
  rateLimitPerMinute: number;
  /** An open transfer (not awaiting approval) older than this counts as overdue in the metrics. */
  transferOverdueAfterMs: number;
  /** Set when tracing is on: every request gets a span. */
  tracer?: Tracer;
  /** The API's own database: webhook endpoints and the event feed. */
  events: EventStore;
  /** WEBHOOK_ALLOWED_HOSTS. */
  allowedWebhookHosts: readonly string[];
  /** The settlement bank, when transfers settle (its routes are absent otherwise). */
  settlement?: SettlementBank;
  /** Deferred-net settlement windows. */
  settlementWindows?: SettlementWindows;
}

export const apiVersion = '1.0.0';

function openApiDocument(routes: readonly AnyRouteSpec[]): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'An API key; its role is client or operator.' });
  registerOpenApi(registry, routes);
  for (const [path, summary] of [
    ['/healthz', 'Liveness'],
    ['/readyz', 'Readiness (Temporal reachable)'],
    ['/metrics', 'Prometheus metrics'],
    ['/openapi.json', 'This document'],
    ['/docs', 'Interactive documentation'],
  ] as const) {
    registry.registerPath({ method: 'get', path, summary, tags: ['system'], responses: { 200: { description: 'OK' } } });
  }
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Interbank transfer API',
      version: apiVersion,
      description:
        'Moves money between accounts at different banks as a durable saga. Amounts are integer minor units as decimal strings. Errors are {"error": {"code", "message", "field"?}}.',
    },
  });
}

interface StackLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: StackLayer[] };
}

/** Every method and path the app answers, read from Express's own router (for the OpenAPI coverage test). */
export function servedRoutes(app: Express): Array<{ method: string; path: string }> {
  const walk = (layers: readonly StackLayer[]): Array<{ method: string; path: string }> =>
    layers.flatMap((layer) => {
      if (layer.route) return Object.keys(layer.route.methods).map((method) => ({ method: method.toUpperCase(), path: layer.route?.path ?? '' }));
      return layer.handle?.stack ? walk(layer.handle.stack) : [];
    });
  return walk((app as unknown as { router: { stack: StackLayer[] } }).router.stack);
}

/** Builds the API from its collaborators; main.ts supplies real ones, tests may supply others. */
export function buildTransferApi(deps: TransferApiDeps): { app: Express; routes: readonly AnyRouteSpec[] } {
  const app = express();
  const metrics = createApiMetrics({
    // Running sagas by status from visibility; needing attention from the record, which also knows stopped workflows.
    openTransferCounts: async () => {
      const [open, needingAttention] = await Promise.all([deps.workflows.countOpen(new Date(Date.now() - deps.transferOverdueAfterMs)), deps.records.countAttention()]);
      return { ...open, needingAttention };
    },
    latestReconciliation: () => deps.reconciliations.latestReport(),
    ...(deps.settlement ? { settlementParticipants: () => (deps.settlement as SettlementBank).rows() } : {}),
  });
  const routes = [
    ...transferRoutes({
      workflows: deps.workflows,
      records: deps.records,
      policy: deps.policy,
      authority: deps.authority,
      ...(deps.clientTransferMaxMinor === undefined ? {} : { clientTransferMaxMinor: deps.clientTransferMaxMinor }),
      onCreated: metrics.recordCreated,
      ...(deps.settlement ? { settlementCurrencies: deps.settlement.config.currencies } : {}),
    }),
    ...bankRoutes(deps.banks),
    ...reconciliationRoutes(deps.reconciliations),
    ...eventRoutes({ store: deps.events, allowedHosts: deps.allowedWebhookHosts }),
    ...(deps.settlement ? settlementRoutes(deps.settlement, deps.authority.clientMandates) : []),
    ...(deps.settlementWindows ? settlementWindowRoutes(deps.settlementWindows) : []),
  ];
  const document = openApiDocument(routes);

  app.set('trust proxy', false);
  if (deps.tracer) app.use(traceRequests(deps.tracer));
  app.use(commonMiddleware(app, deps.logger));
  app.use(metrics.recordRequests);

  operationalRoutes(app, { registry: metrics.registry, dependency: 'Temporal', ready: () => deps.workflows.ready() });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  // The docs page loads its scripts and styles from /docs itself, which helmet's default policy allows.
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document));

  const authenticate = bearerAuthentication(deps.apiKeys);
  const limiter = rateLimit({
    windowMs: 60_000,
    limit: deps.rateLimitPerMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req) => req.caller?.name ?? 'anonymous',
    handler: (_req, _res, next, options) => next(new ApiError('RATE_LIMITED', `more than ${options.limit} requests a minute for this API key`)),
  });
  app.use('/v1', authenticate, limiter, ...jsonBody());
  app.use(routerFor(routes));
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return { app, routes };
}
