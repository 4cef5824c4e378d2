import { OpenAPIRegistry, OpenApiGeneratorV31 } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { transferEventTypes } from '../../../lib/contracts/event-contract';
import { transferEventSchema } from '../event-schemas';
import { ErrorSchemas } from './error-responses';
import { registerOpenApi, type AnyRouteSpec } from './route-table';
import { registerResponseHeaders, sharedHeaderRefs } from './response-headers';

export const apiVersion = '1.0.0';

/** The local cluster's address (npm start); elsewhere the API is wherever TRANSFER_API_URL points. */
const localServerUrl = 'http://127.0.0.1:3000';

const tags = [
  { name: 'transfers', description: 'Transfers between accounts at different banks: create, read, and the operator decisions and repair.' },
  { name: 'banks', description: 'The bank directory.' },
  { name: 'accounts', description: "The operator's account routes, passed on to each bank's account service." },
  { name: 'reconciliation', description: 'Reconciliation runs of every bank ledger and their reports.' },
  { name: 'webhooks', description: "Webhook endpoints, the client's event feed and each event's delivery log." },
  { name: 'settlement', description: "The participants' liquidity at the settlement bank and the deferred-net settlement windows." },
  { name: 'system', description: 'Health, readiness, metrics and this document; none needs an API key.' },
];

const textOf = (description: string) => ({ description, content: { 'text/plain': { schema: z.string() } } });
const statusBody = (status: string) => z.object({ status: z.literal(status) });

/** Paths lib/http/server.ts and app.ts serve outside /v1: no key, no rate limit. */
const systemPaths = (temporarilyUnavailable: z.ZodType) => [
  {
    path: '/healthz',
    operationId: 'getHealth',
    summary: 'Liveness',
    description: 'Answers while the process runs.',
    responses: { 200: { description: 'The process answers', headers: sharedHeaderRefs.every, content: { 'application/json': { schema: statusBody('ok') } } } },
  },
  {
    path: '/readyz',
    operationId: 'getReadiness',
    summary: 'Readiness (Temporal reachable)',
    description: 'Ready when Temporal answers; 503 TEMPORARILY_UNAVAILABLE naming it otherwise.',
    responses: {
      200: { description: 'Temporal answers', headers: sharedHeaderRefs.every, content: { 'application/json': { schema: statusBody('ready') } } },
      503: { description: 'TEMPORARILY_UNAVAILABLE: Temporal does not answer', headers: sharedHeaderRefs.every, content: { 'application/json': { schema: temporarilyUnavailable } } },
    },
  },
  {
    path: '/metrics',
    operationId: 'getMetrics',
    summary: 'Prometheus metrics',
    description: 'Prometheus text exposition format.',
    responses: { 200: { ...textOf('The metrics'), headers: sharedHeaderRefs.every } },
  },
  {
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    summary: 'This document',
    description: 'The OpenAPI 3.1 document of the API, built from the schemas that validate its requests.',
    responses: { 200: { description: 'This document', headers: sharedHeaderRefs.every, content: { 'application/json': { schema: z.object({ openapi: z.string() }).passthrough() } } } },
  },
  {
    path: '/docs',
    operationId: 'getDocs',
    summary: 'Interactive documentation',
    description: 'Swagger UI over this document; its scripts and styles are under /docs/.',
    responses: { 200: { description: 'The documentation page', headers: sharedHeaderRefs.every, content: { 'text/html': { schema: z.string() } } } },
  },
] as const;

/**
 * Node's HTTP server answers these itself on any path, before the app sees the request; they are
 * the only errors the system paths can answer (beside /readyz's 503), so they are documented there.
 */
const nodeServerErrors = {
  400: { description: 'Not a well-formed HTTP request (answered by the HTTP server, without a body)' },
  408: { description: 'The request took longer than the server allows (answered by the HTTP server, without a body)' },
  431: { description: 'The request headers are larger than the server allows (answered by the HTTP server, without a body)' },
};

const signatureHeaders = z.object({
  'webhook-id': z.string().meta({ description: 'The event id: the same on every attempt and redelivery, so a receiver drops one it has seen.', example: 'tr-1:transfer.completed' }),
  'webhook-timestamp': z.string().regex(/^[0-9]{1,12}$/).meta({ description: 'Unix seconds when the attempt was signed; reject one too far from your clock (5 minutes is usual) against replays.', example: '1764676800' }),
  'webhook-signature': z
    .string()
    .meta({
      description:
        'Space-separated v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")> entries (Standard Webhooks), one per active secret of the endpoint: two while a rotated-out secret is in its overlap. The key is the bytes whose base64 follows whsec_ in the secret. Accept the request when any entry matches.',
      example: 'v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=',
    }),
});

/** One webhook per event type, from transferEventTypes: a new type is documented by adding it there. */
function registerWebhooks(registry: OpenAPIRegistry): void {
  for (const type of transferEventTypes) {
    registry.registerWebhook({
      method: 'post',
      path: type,
      operationId: `${type.replace(/^transfer\./, 'transfer_').replace(/_([a-z])/g, (_match, letter: string) => letter.toUpperCase())}Webhook`,
      summary: `The ${type} event`,
      description: `POSTed to each webhook endpoint that subscribed to ${type} (or to every type), retried with backoff until it answers 2xx; the body is the event, the same one the feed (GET /v1/events) lists.`,
      tags: ['webhooks'],
      security: [],
      request: {
        headers: signatureHeaders,
        body: { required: true, content: { 'application/json': { schema: transferEventSchema } } },
      },
      responses: {
        200: { description: 'Any 2xx: delivered; the body is ignored' },
        default: { description: 'Any other status, or no answer in time: the attempt failed and is retried' },
      },
    });
  }
}

/** The OpenAPI 3.1 document of a route table, with the system paths and the webhooks. */
export function openApiDocument(routes: readonly AnyRouteSpec[]): object {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'bearerAuth', { type: 'http', scheme: 'bearer', description: 'An API key; its role is client or operator.' });
  registerResponseHeaders(registry);
  const errorSchemas = new ErrorSchemas();
  registerOpenApi(registry, routes, errorSchemas);
  const temporarilyUnavailable = errorSchemas.schemaFor(['TEMPORARILY_UNAVAILABLE'], 'getReadiness', '503');
  for (const { path, operationId, summary, description, responses } of systemPaths(temporarilyUnavailable)) {
    registry.registerPath({ method: 'get', path, operationId, summary, description, tags: ['system'], security: [], 'x-roles': [], responses: { ...responses, ...nodeServerErrors } });
  }
  registerWebhooks(registry);
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Interbank transfer API',
      version: apiVersion,
      description:
        'Moves money between accounts at different banks as a durable saga. Amounts are integer minor units as decimal strings. Errors are {"error": {"code", "message", "field"?}}; each response lists its codes. Every operation under /v1 needs Authorization: Bearer <API key>, and its description and x-roles name the roles that may call it.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
      contact: { name: 'The interbank transfer platform team' },
    },
    servers: [{ url: localServerUrl, description: 'The local cluster (npm start); elsewhere, the TRANSFER_API_URL the CLI uses' }],
    tags,
  });
}
