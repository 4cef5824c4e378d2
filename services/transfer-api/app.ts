import type { CreateTransferResult } from './use-cases/create-transfer';
import type { Tracer } from '@opentelemetry/api';
import express, { type Express } from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import type { EventStore } from '../../lib/events/event-store';
import type { WebhookDeliveryStarter } from '../../lib/temporal/webhook-delivery-start';
import { transferCreatedEvents } from './use-cases/transfer-created-event';
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
import { openApiDocument } from './http/openapi-document';
import { routerFor, type AnyRouteSpec } from './http/route-table';
import { bankRoutes } from './routes/bank-routes';
import { reconciliationRoutes } from './routes/reconciliation-routes';
import { eventRoutes } from './routes/event-routes';
import { settlementRoutes, settlementWindowRoutes } from './routes/settlement-routes';
import { statementRoutes } from './routes/statement-routes';
import { iso20022Routes } from './routes/iso20022-routes';
import { transferIdentifiers } from '../../lib/record/transfer-identifiers';
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
  /**
   * Starts delivery workflows for what the API records or redelivers itself: transfer.created and
   * operators' redeliveries. Without it (tests over fakes) neither happens, and redelivery answers 503.
   */
  webhookDeliveries?: WebhookDeliveryStarter;
  /** How long a rotated-out secret keeps signing (WEBHOOK_SECRET_OVERLAP_MS; default 24 h). */
  webhookSecretOverlapMs?: number;
  /** The settlement bank, when transfers settle (its routes are absent otherwise). */
  settlement?: SettlementBank;
  /** Deferred-net settlement windows. */
  settlementWindows?: SettlementWindows;
}

export { apiVersion } from './http/openapi-document';

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

/** The BICs of the banks that have one (BANK_BICS). */
function bicsOf(banks: BankAccounts): ReadonlyMap<string, string> {
  return new Map(banks.directory.flatMap((bank) => (bank.bic === undefined ? [] : [[bank.bankId, bank.bic] as const])));
}

/**
 * The interactive docs page: its scripts and styles load from /docs itself, which helmet's default
 * policy allows. /docs answers the page itself (as the document says) instead of redirecting:
 * <base> resolves its relative asset URLs under /docs/.
 */
function serveDocsPage(app: Express, document: object): void {
  const docsPage = swaggerUi.generateHTML(document).replace('<head>', '<head>\n  <base href="/docs/">');
  app.get('/docs', (req, res, next) => (req.path === '/docs' ? res.type('html').send(docsPage) : next()));
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(document));
}

/** Every /v1 route of the API, from its collaborators; the OpenAPI document is built from the same list. */
function apiRoutes(deps: TransferApiDeps, onCreated: (result: CreateTransferResult) => void): AnyRouteSpec[] {
  const createdEvents = deps.webhookDeliveries && deps.policy.webhooks ? transferCreatedEvents(deps.events, deps.webhookDeliveries, deps.policy.webhooks) : undefined;
  return [
    ...transferRoutes({
      ...(createdEvents ? { createdEvents } : {}),
      workflows: deps.workflows,
      records: deps.records,
      policy: deps.policy,
      authority: deps.authority,
      ...(deps.clientTransferMaxMinor === undefined ? {} : { clientTransferMaxMinor: deps.clientTransferMaxMinor }),
      onCreated,
      ...(deps.settlement ? { settlementCurrencies: deps.settlement.config.currencies } : {}),
    }),
    ...bankRoutes(deps.banks),
    // A record older than UETRs shows its derived one, in the statement as in every view.
    ...statementRoutes(deps.banks, async (transferId) => {
      const references = await deps.records.references(transferId);
      return references && transferIdentifiers(transferId, references);
    }),
    ...iso20022Routes({ workflows: deps.workflows, records: deps.records, policy: deps.policy, bicByBank: bicsOf(deps.banks) }),
    ...reconciliationRoutes(deps.reconciliations),
    ...eventRoutes({
      store: deps.events,
      allowedHosts: deps.allowedWebhookHosts,
      ...(deps.webhookDeliveries && deps.policy.webhooks ? { redeliveries: { starter: deps.webhookDeliveries, policy: deps.policy.webhooks } } : {}),
      ...(deps.webhookSecretOverlapMs === undefined ? {} : { secretOverlapMs: deps.webhookSecretOverlapMs }),
    }),
    ...(deps.settlement ? settlementRoutes(deps.settlement, deps.authority.clientMandates) : []),
    ...(deps.settlementWindows ? settlementWindowRoutes(deps.settlementWindows) : []),
  ];
}

/** Builds the API from its collaborators; main.ts supplies real ones, tests may supply others. */
export function buildTransferApi(deps: TransferApiDeps): { app: Express; routes: readonly AnyRouteSpec[]; document: object } {
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
  const routes = apiRoutes(deps, metrics.recordCreated);
  const document = openApiDocument(routes);

  app.set('trust proxy', false);
  if (deps.tracer) app.use(traceRequests(deps.tracer));
  app.use(commonMiddleware(app, deps.logger));
  app.use(metrics.recordRequests);

  operationalRoutes(app, { registry: metrics.registry, dependency: 'Temporal', ready: () => deps.workflows.ready() });
  app.get('/openapi.json', (_req, res) => {
    res.json(document);
  });
  serveDocsPage(app, document);

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
  return { app, routes, document };
}
