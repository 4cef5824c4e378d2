import { z } from 'zod';
import { transferEventTypes } from '../../lib/contracts/event-contract';
import { webhookUrlLengthMax } from '../../lib/events/webhook-url';
import { deliveryFailures } from '../../lib/events/delivery-failure';
import { timestampSchema, transferSchema } from './schemas';
import { transferApiLimits } from './limits';

/** Schemas of webhook endpoints and the event feed; they validate and document, as in schemas.ts. */

export const transferEventTypeSchema = z.enum(transferEventTypes).meta({ id: 'TransferEventType' });

export const createWebhookEndpointBodySchema = z
  .strictObject({
    // The length is checked again with its own code; this bound only keeps absurd bodies out.
    url: z.string().min(1).max(webhookUrlLengthMax * 2).meta({ description: `An http(s) URL on a host in WEBHOOK_ALLOWED_HOSTS, without credentials, at most ${webhookUrlLengthMax} characters.`, example: 'https://hooks.example.com/transfers' }),
    events: z.array(transferEventTypeSchema).min(1).max(transferEventTypes.length).optional().meta({ description: 'Event types to deliver; all when left out.' }),
  })
  .meta({ id: 'CreateWebhookEndpointRequest' });

export const webhookEndpointIdSchema = z.string().regex(/^we_[0-9a-f]{24}$/, 'is not a webhook endpoint id');

export const webhookEndpointSchema = z
  .object({ id: z.string(), url: z.string(), events: z.array(transferEventTypeSchema), createdAt: timestampSchema })
  .meta({ id: 'WebhookEndpoint' });

const webhookSecretDescription =
  'Shown only in this answer: whsec_<base64 of the key bytes> (Standard Webhooks). Each delivery carries webhook-id (the event id), webhook-timestamp (unix seconds) and webhook-signature, space-separated v1,<base64 HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")> entries, one per active secret.';

export const createdWebhookEndpointSchema = webhookEndpointSchema
  .extend({ secret: z.string().meta({ description: webhookSecretDescription, example: 'whsec_o4jdFVX4NsTwo8aUvFu+9SB/tGLZx9JgBSOpWD27UY8=' }) })
  .meta({ id: 'CreatedWebhookEndpoint' });

export const rotateWebhookSecretBodySchema = z
  .strictObject({
    overlapSeconds: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({ description: 'How long the replaced secret keeps signing deliveries, at most WEBHOOK_SECRET_OVERLAP_MS (24 h by default, also when left out); 0 retires it at once.' }),
  })
  .meta({ id: 'RotateWebhookSecretRequest' });

export const rotatedWebhookSecretSchema = z
  .object({
    id: z.string(),
    secret: z.string().meta({ description: webhookSecretDescription }),
    previousSecretExpiresAt: timestampSchema.meta({ description: 'Until then every delivery is signed with both the new and the replaced secret (two v1 entries); afterwards with the new one only.' }),
  })
  .meta({ id: 'RotatedWebhookSecret' });

export const webhookEndpointListSchema = z.object({ data: z.array(webhookEndpointSchema), nextCursor: z.null() }).meta({ id: 'WebhookEndpointList' });

export const transferEventSchema = z
  .object({ id: z.string().meta({ description: 'Stable (<transferId>:<type>): a receiver drops an event it has seen.' }), type: transferEventTypeSchema, createdAt: timestampSchema, data: z.object({ transfer: transferSchema }) })
  .meta({ id: 'TransferEvent' });

const feedCursorSchema = z.string().regex(/^(0|[1-9][0-9]{0,11})$/, 'is not a cursor from an earlier page');

export const eventFeedQuerySchema = z.strictObject({
  cursor: feedCursorSchema.optional().meta({ description: 'nextCursor of the previous page; from the oldest kept event when left out. A cursor whose next events retention deleted is 410 EVENT_CURSOR_EXPIRED.' }),
  after: feedCursorSchema.optional().meta({ description: 'The older name of cursor, still accepted; send cursor.', deprecated: true, param: { deprecated: true } }),
  limit: z.coerce.number().int().min(1).max(transferApiLimits.eventsPageLimitMax).default(transferApiLimits.eventsPageLimitDefault),
});

export const eventPageSchema = z
  .object({ data: z.array(transferEventSchema), nextCursor: z.string().nullable().meta({ description: 'Where to continue (also when the page is short: poll again with it). Null only before the first event.' }) })
  .meta({ id: 'EventPage', description: "The client's events in the order they were recorded." });

export const deliveryAttemptSchema = z
  .object({
    delivery: z.number().int().meta({ description: "1 for the event's first delivery to the endpoint, 2, 3, … for an operator's redeliveries (POST /v1/events/{id}/redeliver)." }),
    attempt: z.number().int().meta({ description: 'The attempt within its delivery, from 1.' }),
    at: timestampSchema,
    outcome: z.enum(['DELIVERED', 'FAILED']),
    httpStatus: z.number().int().optional(),
    failure: z.enum(deliveryFailures).optional().meta({ description: 'Why a failed attempt failed: CONNECTION_REFUSED, TIMED_OUT, TLS_FAILED, UNREACHABLE (DNS, reset and the rest), HTTP_STATUS (see httpStatus), HOST_NOT_ALLOWED. Raw connection errors are never shown.' }),
    error: z.string().optional().meta({ description: "The failure's category in a sentence (the same for every attempt of that category)." }),
    durationMs: z.number().int(),
  })
  .meta({ id: 'WebhookDeliveryAttempt' });

export const eventDeliveriesSchema = z
  .object({ data: z.array(z.object({ endpointId: z.string(), url: z.string().nullable(), delivered: z.boolean(), attempts: z.array(deliveryAttemptSchema) })) })
  .meta({ id: 'EventDeliveries' });

export const eventIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:transfer\.[a-z_]{1,32}(:[1-9][0-9]{0,3})?$/, 'is not an event id');

export const redeliverEventBodySchema = z
  .strictObject({ endpointId: webhookEndpointIdSchema.optional().meta({ description: 'One endpoint the event was addressed to; every such endpoint that still exists when left out.' }) })
  .meta({ id: 'RedeliverEventRequest' });

export const redeliveriesSchema = z
  .object({
    data: z.array(
      z.object({
        endpointId: z.string(),
        delivery: z.number().int().meta({ description: 'The new delivery\'s number (2 for the first redelivery); its attempts appear under it in the delivery log.' }),
        workflowId: z.string().meta({ description: 'The delivery workflow (webhook-<event id>-<endpoint id>-redelivery-<n>).' }),
      }),
    ),
  })
  .meta({ id: 'EventRedeliveries' });
