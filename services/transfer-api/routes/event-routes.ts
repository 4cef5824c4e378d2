import { z } from 'zod';
import type { TransferEventType } from '../../../lib/contracts/event-contract';
import type { WebhookPolicy } from '../../../lib/contracts/transfer-contract';
import {
  EventCursorExpiredError,
  publicEvent,
  redeliveriesMax,
  retiringSecretsMax,
  webhookSecretOverlapMsDefault,
  WebhookRequestRefusedError,
  type DeliveryAttemptDocument,
  type EventStore,
  type FeedDocument,
  type FeedPage,
  type WebhookEndpointDocument,
} from '../../../lib/events/event-store';
import type { WebhookDeliveryStarter } from '../../../lib/temporal/webhook-delivery-start';
import { isUnansweredCall } from '../../../lib/temporal/unanswered-call';
import { deliveryFailureText, storedDeliveryFailure } from '../../../lib/events/delivery-failure';
import { ApiError } from '../../../lib/http/errors';
import { webhookUrlRefusal } from '../../../lib/events/webhook-url';
import { transferEventTypes } from '../../../lib/contracts/event-contract';
import {
  createdWebhookEndpointSchema,
  createWebhookEndpointBodySchema,
  eventDeliveriesSchema,
  eventFeedQuerySchema,
  eventIdSchema,
  eventPageSchema,
  redeliverEventBodySchema,
  redeliveriesSchema,
  rotatedWebhookSecretSchema,
  rotateWebhookSecretBodySchema,
  webhookEndpointIdSchema,
  webhookEndpointListSchema,
  webhookEndpointSchema,
} from '../event-schemas';
import { headerRefs } from '../http/response-headers';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import type { Caller } from '../http/auth';
import { endpointsPerClientMax } from '../../../lib/events/event-store';

export interface EventRouteDeps {
  store: EventStore;
  allowedHosts: readonly string[];
  /** Starts operators' redeliveries; without it the redeliver route answers 503 TEMPORARILY_UNAVAILABLE. */
  redeliveries?: { starter: WebhookDeliveryStarter; policy: WebhookPolicy };
  /** WEBHOOK_SECRET_OVERLAP_MS: how long a rotated-out secret keeps signing, and the most a rotation may ask for. */
  secretOverlapMs?: number;
  now?: () => Date;
}

const endpointParams = z.strictObject({ id: webhookEndpointIdSchema });

function endpointView(endpoint: WebhookEndpointDocument) {
  return { id: endpoint._id, url: endpoint.url, events: endpoint.events ?? [...transferEventTypes], createdAt: endpoint.createdAt };
}

/** A page of the feed; a cursor retention has passed is the client's to restart, so it is told so plainly. */
async function feedPage(store: EventStore, client: string, cursor: FeedCursor, limit: number): Promise<FeedPage> {
  try {
    return await store.listEvents(client, cursor.value === undefined ? undefined : Number(cursor.value), limit);
  } catch (failure) {
    if (failure instanceof EventCursorExpiredError) {
      throw new ApiError('EVENT_CURSOR_EXPIRED', `the events after this cursor are past the feed's retention; the oldest kept follow ${cursor.name}=${failure.oldestCursor}`, cursor.name);
    }
    throw failure;
  }
}

/** The feed's cursor: `cursor`, as every list names it, or `after`, its older name, still accepted. */
interface FeedCursor {
  name: 'cursor' | 'after';
  value: string | undefined;
}

function feedCursor(query: { cursor?: string | undefined; after?: string | undefined }): FeedCursor {
  if (query.cursor !== undefined && query.after !== undefined && query.cursor !== query.after) throw new ApiError('VALIDATION_FAILED', 'pass cursor (or after, its older name), not both', 'after');
  return query.after !== undefined && query.cursor === undefined ? { name: 'after', value: query.after } : { name: 'cursor', value: query.cursor };
}

/** An attempt as the client sees it: a failure is its category and that category's sentence, never a raw error. */
function attemptView(attempt: DeliveryAttemptDocument) {
  const failure = storedDeliveryFailure(attempt);
  return {
    delivery: attempt.delivery ?? 1,
    attempt: attempt.attempt,
    at: attempt.at,
    outcome: attempt.outcome,
    ...(attempt.httpStatus === undefined ? {} : { httpStatus: attempt.httpStatus }),
    ...(failure === undefined ? {} : { failure, error: deliveryFailureText[failure] }),
    durationMs: attempt.durationMs,
  };
}

/** Another client's endpoint answers like a missing one: ids reveal nothing. */
async function ownEndpoint(store: EventStore, caller: Caller, id: string): Promise<WebhookEndpointDocument> {
  const endpoint = await store.getEndpoint(id);
  if (!endpoint || endpoint.deletedAt !== undefined || endpoint.client !== caller.name) throw new ApiError('WEBHOOK_ENDPOINT_NOT_FOUND', `no webhook endpoint ${id}`);
  return endpoint;
}

/** The client's own endpoint, or for an operator any endpoint that exists. */
async function endpointFor(store: EventStore, caller: Caller, id: string): Promise<WebhookEndpointDocument> {
  if (caller.role !== 'operator') return ownEndpoint(store, caller, id);
  const endpoint = await store.getEndpoint(id);
  if (!endpoint || endpoint.deletedAt !== undefined) throw new ApiError('WEBHOOK_ENDPOINT_NOT_FOUND', `no webhook endpoint ${id}`);
  return endpoint;
}

/** The store's refusals of a rotation or redelivery, as the API's errors. */
async function refusalsAsApiErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (failure) {
    if (failure instanceof WebhookRequestRefusedError) throw new ApiError(failure.code, failure.message);
    throw failure;
  }
}

/** Webhook endpoints (each client its own) and the per-client event feed. */
export function eventRoutes(deps: EventRouteDeps): AnyRouteSpec[] {
  return [...endpointRoutes(deps), rotateSecretRoute(deps), ...feedRoutes(deps), redeliverRoute(deps)];
}

/** A new secret for an endpoint, the replaced one signing beside it for the overlap. */
function rotateSecretRoute(deps: EventRouteDeps): AnyRouteSpec {
  const now = deps.now ?? (() => new Date());
  const overlapMsMax = deps.secretOverlapMs ?? webhookSecretOverlapMsDefault;
  return defineRoute({
    method: 'post',
    path: '/v1/webhook-endpoints/:id/rotate-secret',
    operationId: 'rotateWebhookSecret',
    summary: "Rotate a webhook endpoint's secret",
    description: `Issues a new secret, shown only in this answer. The replaced secret keeps signing every delivery beside the new one (two v1 entries in webhook-signature) until previousSecretExpiresAt: WEBHOOK_SECRET_OVERLAP_MS after the rotation (${overlapMsMax / 1000} s here), or the shorter overlapSeconds asked for; then only the new one signs. The owning client rotates its own endpoints, an operator any. Refused with 409 WEBHOOK_SECRET_ROTATION_REFUSED when another rotation of the endpoint was made at the same moment, or when ${retiringSecretsMax} earlier secrets are still in their overlap.`,
    tag: 'webhooks',
    roles: ['client', 'operator'],
    params: endpointParams,
    body: rotateWebhookSecretBodySchema,
    responses: { 200: { description: 'The new secret (shown once) and when the replaced one stops signing', schema: rotatedWebhookSecretSchema } },
    errors: { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'], 409: ['WEBHOOK_SECRET_ROTATION_REFUSED'] },
    handler: async ({ params, body, caller }) => {
      if (body.overlapSeconds !== undefined && body.overlapSeconds * 1000 > overlapMsMax) {
        throw new ApiError('VALIDATION_FAILED', `overlapSeconds may shorten the overlap, never lengthen it: at most ${Math.floor(overlapMsMax / 1000)}`, 'overlapSeconds');
      }
      const endpoint = await endpointFor(deps.store, caller, params.id);
      const overlapMs = body.overlapSeconds === undefined ? overlapMsMax : body.overlapSeconds * 1000;
      const rotated = await refusalsAsApiErrors(() => deps.store.rotateSecret(endpoint._id, now(), overlapMs, caller.name));
      return { status: 200, body: { id: endpoint._id, secret: rotated.secret, previousSecretExpiresAt: rotated.previousSecretRetiresAt } };
    },
  });
}

/** The endpoints a redelivery goes to: the one asked for, which the event must have been addressed to, or every addressed one that still exists. */
async function redeliveryTargets(store: EventStore, event: FeedDocument, endpointId: string | undefined): Promise<string[]> {
  if (endpointId !== undefined) {
    const endpoint = await store.getEndpoint(endpointId);
    if (!endpoint || endpoint.deletedAt !== undefined || endpoint.client !== event.client) throw new ApiError('WEBHOOK_ENDPOINT_NOT_FOUND', `no webhook endpoint ${endpointId}`, 'endpointId');
    if (!event.endpointIds.includes(endpointId)) throw new ApiError('WEBHOOK_ENDPOINT_NOT_ADDRESSED', `event ${event.eventId} was not addressed to endpoint ${endpointId} when it was recorded`, 'endpointId');
    return [endpointId];
  }
  const endpoints = await Promise.all(event.endpointIds.map((id) => store.getEndpoint(id)));
  const live = endpoints.filter((endpoint): endpoint is WebhookEndpointDocument => endpoint !== undefined && endpoint.deletedAt === undefined).map((endpoint) => endpoint._id);
  if (live.length === 0) throw new ApiError('WEBHOOK_ENDPOINT_NOT_ADDRESSED', `event ${event.eventId} was addressed to no endpoint that still exists`);
  return live;
}

/** An operator's redelivery: a new delivery workflow per endpoint, its attempts in the event's delivery log. */
function redeliverRoute(deps: EventRouteDeps): AnyRouteSpec {
  const now = deps.now ?? (() => new Date());
  return defineRoute({
    method: 'post',
    path: '/v1/events/:id/redeliver',
    operationId: 'redeliverEvent',
    summary: 'Redeliver an event',
    description: `Starts a new delivery of the event (the same body and webhook-id, signed afresh with the endpoint's active secrets) to one endpoint it was addressed to, or to every such endpoint that still exists; it is retried like the first, and its attempts appear in GET /v1/events/{id}/deliveries under the delivery's number. Receivers drop duplicates by webhook-id. At most ${redeliveriesMax} redeliveries per event and endpoint.`,
    tag: 'webhooks',
    roles: ['operator'],
    params: z.strictObject({ id: eventIdSchema }),
    body: redeliverEventBodySchema,
    responses: { 202: { description: 'The new deliveries, started', schema: redeliveriesSchema } },
    errors: {
      404: ['EVENT_NOT_FOUND', 'WEBHOOK_ENDPOINT_NOT_FOUND'],
      422: { codes: ['WEBHOOK_ENDPOINT_NOT_ADDRESSED', 'WEBHOOK_REDELIVERY_LIMIT'], description: 'The endpoint asked for was not addressed when the event was recorded (or none of those still exists), or it had as many redeliveries as allowed.' },
      503: { codes: ['TEMPORARILY_UNAVAILABLE'], description: 'Temporal did not answer: ask again (the next delivery number is taken).' },
    },
    handler: async ({ params, body, caller }) => {
      const event = await deps.store.findEvent(params.id);
      if (!event) throw new ApiError('EVENT_NOT_FOUND', `no event ${params.id}`);
      const endpointIds = await redeliveryTargets(deps.store, event, body.endpointId);
      const redeliveries = deps.redeliveries;
      if (!redeliveries) throw new ApiError('TEMPORARILY_UNAVAILABLE', 'this API cannot start deliveries');
      // The number is taken first: a start that fails leaves a delivery without attempts, and asking again takes the next.
      const claimed = await Promise.all(endpointIds.map(async (endpointId) => ({ endpointId, delivery: await refusalsAsApiErrors(() => deps.store.claimRedelivery(event.eventId, endpointId, caller.name, now())) })));
      let workflowIds: string[];
      try {
        workflowIds = await redeliveries.starter.start(claimed.map(({ endpointId, delivery }) => ({ eventId: event.eventId, endpointId, policy: redeliveries.policy, delivery })));
      } catch (failure) {
        if (isUnansweredCall(failure)) throw new ApiError('TEMPORARILY_UNAVAILABLE', 'Temporal did not answer; ask again (a new delivery number is taken)');
        throw failure;
      }
      return { status: 202, body: { data: claimed.map((entry, index) => ({ ...entry, workflowId: workflowIds[index] ?? '' })) } };
    },
  });
}

function endpointRoutes(deps: EventRouteDeps): AnyRouteSpec[] {
  const now = deps.now ?? (() => new Date());
  return [
    defineRoute({
      method: 'post',
      path: '/v1/webhook-endpoints',
      operationId: 'createWebhookEndpoint',
      summary: 'Register a webhook endpoint',
      description: `Events of the calling client's transfers are POSTed to the URL, signed as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature) with the secret in this answer (shown once; POST /v1/webhook-endpoints/{id}/rotate-secret replaces it). Without events, every event type is delivered, types added later included. Refused with 400 when the URL is not http(s) (WEBHOOK_URL_SCHEME), carries credentials (WEBHOOK_URL_CREDENTIALS), is longer than allowed (WEBHOOK_URL_TOO_LONG), is not a URL (WEBHOOK_URL_INVALID) or names a host outside WEBHOOK_ALLOWED_HOSTS (WEBHOOK_HOST_NOT_ALLOWED). At most ${endpointsPerClientMax} endpoints per client.`,
      tag: 'webhooks',
      roles: ['client'],
      body: createWebhookEndpointBodySchema,
      responses: { 201: { description: 'Registered', schema: createdWebhookEndpointSchema, headers: headerRefs.location } },
      errors: { 400: ['WEBHOOK_URL_SCHEME', 'WEBHOOK_URL_CREDENTIALS', 'WEBHOOK_URL_TOO_LONG', 'WEBHOOK_URL_INVALID', 'WEBHOOK_HOST_NOT_ALLOWED'], 422: ['WEBHOOK_ENDPOINT_LIMIT'] },
      handler: async ({ body, caller }) => {
        const refusal = webhookUrlRefusal(body.url, deps.allowedHosts);
        if (refusal) throw new ApiError(refusal.code, refusal.message, 'url');
        if ((await deps.store.listEndpoints(caller.name)).length >= endpointsPerClientMax) throw new ApiError('WEBHOOK_ENDPOINT_LIMIT', `a client keeps at most ${endpointsPerClientMax} webhook endpoints`);
        const events: TransferEventType[] | null = body.events ? [...new Set(body.events)] : null;
        const endpoint = await deps.store.createEndpoint(caller.name, body.url, events, now());
        return { status: 201, body: { ...endpointView(endpoint), secret: endpoint.secret }, headers: { location: `/v1/webhook-endpoints/${endpoint._id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhook-endpoints',
      operationId: 'listWebhookEndpoints',
      summary: 'List webhook endpoints',
      description: "The calling client's endpoints, oldest first, without their secrets.",
      tag: 'webhooks',
      roles: ['client'],
      responses: { 200: { description: 'The endpoints', schema: webhookEndpointListSchema } },
      handler: async ({ caller }) => ({ status: 200, body: { data: (await deps.store.listEndpoints(caller.name)).map(endpointView), nextCursor: null } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/webhook-endpoints/:id',
      operationId: 'getWebhookEndpoint',
      summary: 'Get a webhook endpoint',
      tag: 'webhooks',
      roles: ['client'],
      params: endpointParams,
      responses: { 200: { description: 'The endpoint (without its secret)', schema: webhookEndpointSchema } },
      errors: { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'] },
      handler: async ({ params, caller }) => ({ status: 200, body: endpointView(await ownEndpoint(deps.store, caller, params.id)) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/webhook-endpoints/:id',
      operationId: 'deleteWebhookEndpoint',
      summary: 'Delete a webhook endpoint',
      description: 'Deliveries still retrying to it stop at their next attempt.',
      tag: 'webhooks',
      roles: ['client'],
      params: endpointParams,
      responses: { 204: { description: 'Deleted' } },
      errors: { 404: ['WEBHOOK_ENDPOINT_NOT_FOUND'] },
      handler: async ({ params, caller }) => {
        await ownEndpoint(deps.store, caller, params.id);
        await deps.store.deleteEndpoint(params.id, now());
        return { status: 204, body: undefined };
      },
    }),
  ];
}

/** The client's events, polled, and each event's delivery log. */
function feedRoutes(deps: EventRouteDeps): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/events',
      operationId: 'listEvents',
      summary: "List the client's events",
      description: "The calling client's transfer events in the order they were recorded, for clients that poll instead of receiving webhooks. Pass nextCursor as cursor= to continue (after=, its older name, is still accepted). Events older than EVENT_FEED_RETENTION_DAYS are deleted: without cursor= the page starts at the oldest kept event; a cursor whose next events were deleted is 410 EVENT_CURSOR_EXPIRED (start again without cursor=).",
      tag: 'webhooks',
      roles: ['client'],
      query: eventFeedQuerySchema,
      responses: { 200: { description: 'One page of events', schema: eventPageSchema } },
      errors: { 410: ['EVENT_CURSOR_EXPIRED'] },
      handler: async ({ query, caller }) => {
        const cursor = feedCursor(query);
        const page = await feedPage(deps.store, caller.name, cursor, query.limit);
        const last = page.events.at(-1);
        const nextCursor = last ? String(last.seq) : cursor.value ?? (page.after > 0 ? String(page.after) : null);
        return { status: 200, body: { data: page.events.map(publicEvent), nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/events/:id/deliveries',
      operationId: 'listEventDeliveries',
      summary: "An event's webhook deliveries",
      description: "Every delivery attempt of the event, per endpoint it was addressed to: the first delivery's (delivery 1), then each redelivery's (2, 3, …). Clients see their own events; operators see every one.",
      tag: 'webhooks',
      roles: ['client', 'operator'],
      params: z.strictObject({ id: eventIdSchema }),
      responses: { 200: { description: 'The delivery log', schema: eventDeliveriesSchema } },
      errors: { 404: ['EVENT_NOT_FOUND'] },
      handler: async ({ params, caller }) => {
        const event = await deps.store.findEvent(params.id);
        if (!event || (caller.role !== 'operator' && event.client !== caller.name)) throw new ApiError('EVENT_NOT_FOUND', `no event ${params.id}`);
        const data = await Promise.all(
          event.endpointIds.map(async (endpointId) => {
            const attempts = await deps.store.listAttempts(event.eventId, endpointId);
            const endpoint = await deps.store.getEndpoint(endpointId);
            return {
              endpointId,
              url: endpoint?.url ?? null,
              delivered: attempts.some((attempt) => attempt.outcome === 'DELIVERED'),
              attempts: attempts.map(attemptView),
            };
          }),
        );
        return { status: 200, body: { data } };
      },
    }),
  ];
}
