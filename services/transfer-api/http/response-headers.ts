import type { OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/**
 * The response headers the API sends, as the document's header components. The values are what
 * the code sends: lib/http/server.ts echoes X-Request-Id on every answer; express-rate-limit
 * (standardHeaders 'draft-8') sends RateLimit and RateLimit-Policy on every /v1 answer after
 * authentication, and Retry-After with its 429.
 */
type HeaderName = 'X-Request-Id' | 'RateLimit' | 'RateLimit-Policy' | 'Retry-After' | 'WWW-Authenticate' | 'Location' | 'Idempotent-Replayed';

const headers: Record<HeaderName, { description: string; schema: { type: 'string'; example?: string; enum?: string[] } }> = {
  'X-Request-Id': {
    description: "The caller's X-Request-Id when it is 1-64 letters, digits, dots, dashes or underscores, else a new UUID; the API's log lines carry it.",
    schema: { type: 'string', example: '0b8e6f1e-3c1a-4e0b-9a59-0c6f7d1e2a40' },
  },
  RateLimit: {
    description: 'The calling key\'s quota left in the window (IETF RateLimit header fields, draft 8): "<limit>-in-1min"; r=<requests left>; t=<seconds until the window resets>.',
    schema: { type: 'string', example: '"100-in-1min"; r=99; t=60' },
  },
  'RateLimit-Policy': {
    description: 'The quota (draft 8): "<limit>-in-1min"; q=<requests per window>; w=60; pk=:<partition key>:, one window per API key.',
    schema: { type: 'string', example: '"100-in-1min"; q=100; w=60; pk=:ZTNiMGM0NDI5OGZj:' },
  },
  'Retry-After': {
    description: 'Seconds to wait before asking again: always with 429; with 503 when the API knows (BANK_UNAVAILABLE, a transfer not ready for a decision, no open settlement window).',
    schema: { type: 'string', example: '5' },
  },
  'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string', example: 'Bearer' } },
  Location: { description: 'The path of what was created.', schema: { type: 'string' } },
  'Idempotent-Replayed': { description: 'true when the answer repeats the first decision of the Idempotency-Key (or body) sent before.', schema: { type: 'string', enum: ['true'] } },
};
const ref = (name: HeaderName) => ({ $ref: `#/components/headers/${name}` });

/** Header references for RouteResponse.headers and registerOpenApi. */
export const headerRefs = {
  location: { Location: ref('Location') },
  idempotentReplayed: { 'Idempotent-Replayed': ref('Idempotent-Replayed') },
} as const;

export const sharedHeaderRefs = {
  /** Every answer: the request id. */
  every: { 'X-Request-Id': ref('X-Request-Id') },
  /** Every /v1 answer after authentication. */
  limited: { 'X-Request-Id': ref('X-Request-Id'), RateLimit: ref('RateLimit'), 'RateLimit-Policy': ref('RateLimit-Policy') },
  unauthenticated: { 'X-Request-Id': ref('X-Request-Id'), 'WWW-Authenticate': ref('WWW-Authenticate') },
  retryAfter: { 'Retry-After': ref('Retry-After') },
} as const;

export function registerResponseHeaders(registry: OpenAPIRegistry): void {
  for (const [name, header] of Object.entries(headers)) registry.registerComponent('headers', name, header);
}
