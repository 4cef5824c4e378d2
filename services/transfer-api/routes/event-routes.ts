import { z } from 'zod';
import type { TransferEventType } from '../../../lib/contracts/event-contract';
import { EventCursorExpiredError, publicEvent, type DeliveryAttemptDocument, type EventStore, type FeedPage, type WebhookEndpointDocument } from '../../../lib/events/event-store';
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
  webhookEndpointIdSchema,
  webhookEndpointListSchema,
  webhookEndpointSchema,
} from '../event-schemas';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import type { Caller } from '../http/auth';
import { errorBodySchema } from '../schemas';
import { endpointsPerClientMax } from '../../../lib/events/event-store';

export interface EventRouteDeps {
  store: EventStore;
  allowedHosts: readonly string[];
  now?: () => Date;
}

const error = (description: string) => ({ description, schema: errorBodySchema });
const endpointParams = z.strictObject({ id: webhookEndpointIdSchema });

function endpointView(endpoint: WebhookEndpointDocument) {
  return { id: endpoint._id, url: endpoint.url, events: endpoint.events ?? [...transferEventTypes], createdAt: endpoint.createdAt };
}

/** A page of the feed; a cursor retention has passed is the client's to restart, so it is told so plainly. */
async function feedPage(store: EventStore, client: string, after: number | undefined, limit: number): Promise<FeedPage> {
  try {
    return await store.listEvents(client, after, limit);
  } catch (failure) {
    if (failure instanceof EventCursorExpiredError) throw new ApiError('EVENT_CURSOR_EXPIRED', failure.message, 'after');
    throw failure;
  }
}

/** An attempt as the client sees it: a failure is its category and that category's sentence, never a raw error. */
function attemptView(attempt: DeliveryAttemptDocument) {
  const failure = storedDeliveryFailure(attempt);
  return {
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

/** Webhook endpoints (each client its own) and the per-client event feed. */
export function eventRoutes(deps: EventRouteDeps): AnyRouteSpec[] {
  return [...endpointRoutes(deps), ...feedRoutes(deps)];
}

function endpointRoutes(deps: EventRouteDeps): AnyRouteSpec[] {
  const now = deps.now ?? (() => new Date());
  return [
    defineRoute({
      method: 'post',
      path: '/v1/webhook-endpoints',
      summary: 'Register a webhook endpoint',
      description: `Events of the calling client's transfers are POSTed to the URL, signed with the secret in this answer (shown once). Refused with 400 when the URL is not http(s) (WEBHOOK_URL_SCHEME), carries credentials (WEBHOOK_URL_CREDENTIALS), is longer than allowed (WEBHOOK_URL_TOO_LONG), is not a URL (WEBHOOK_URL_INVALID) or names a host outside WEBHOOK_ALLOWED_HOSTS (WEBHOOK_HOST_NOT_ALLOWED). At most ${endpointsPerClientMax} endpoints per client.`,
      tag: 'webhooks',
      roles: ['client'],
      body: createWebhookEndpointBodySchema,
      responses: { 201: { description: 'Registered', schema: createdWebhookEndpointSchema }, 422: error('WEBHOOK_ENDPOINT_LIMIT') },
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
      summary: 'Get a webhook endpoint',
      tag: 'webhooks',
      roles: ['client'],
      params: endpointParams,
      responses: { 200: { description: 'The endpoint (without its secret)', schema: webhookEndpointSchema }, 404: error('WEBHOOK_ENDPOINT_NOT_FOUND') },
      handler: async ({ params, caller }) => ({ status: 200, body: endpointView(await ownEndpoint(deps.store, caller, params.id)) }),
    }),
    defineRoute({
      method: 'delete',
      path: '/v1/webhook-endpoints/:id',
      summary: 'Delete a webhook endpoint',
      description: 'Deliveries still retrying to it stop at their next attempt.',
      tag: 'webhooks',
      roles: ['client'],
      params: endpointParams,
      responses: { 204: { description: 'Deleted' }, 404: error('WEBHOOK_ENDPOINT_NOT_FOUND') },
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
      summary: "List the client's events",
      description: "The calling client's transfer events in the order they were recorded, for clients that poll instead of receiving webhooks. Pass nextCursor as after= to continue. Events older than EVENT_FEED_RETENTION_DAYS are deleted: without after= the page starts at the oldest kept event; a cursor whose next events were deleted is 410 EVENT_CURSOR_EXPIRED (start again without after=).",
      tag: 'webhooks',
      roles: ['client'],
      query: eventFeedQuerySchema,
      responses: { 200: { description: 'One page of events', schema: eventPageSchema }, 410: error('EVENT_CURSOR_EXPIRED') },
      handler: async ({ query, caller }) => {
        const page = await feedPage(deps.store, caller.name, query.after === undefined ? undefined : Number(query.after), query.limit);
        const last = page.events.at(-1);
        const nextCursor = last ? String(last.seq) : query.after ?? (page.after > 0 ? String(page.after) : null);
        return { status: 200, body: { data: page.events.map(publicEvent), nextCursor } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/events/:id/deliveries',
      summary: "An event's webhook deliveries",
      description: 'Every delivery attempt of the event, per endpoint it was addressed to. Clients see their own events; operators see every one.',
      tag: 'webhooks',
      roles: ['client', 'operator'],
      params: z.strictObject({ id: eventIdSchema }),
      responses: { 200: { description: 'The delivery log', schema: eventDeliveriesSchema }, 404: error('EVENT_NOT_FOUND') },
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
