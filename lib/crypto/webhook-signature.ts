import { createHmac, randomBytes } from 'node:crypto';

/**
 * The sender's half of the Standard Webhooks specification: each delivery
 * carries `webhook-id` (the event id), `webhook-timestamp` (unix seconds) and `webhook-signature`,
 * one `v1,<base64 HMAC-SHA256>` entry per active secret, separated by spaces. The receiver's half
 * is lib/webhooks/verify-webhook.ts.
 */
export const webhookHeaderNames = { id: 'webhook-id', timestamp: 'webhook-timestamp', signature: 'webhook-signature' } as const;

const secretPrefix = 'whsec_';
/** Random bytes of a new secret (the specification asks for 24 to 64). */
const secretBytes = 32;

/** A new endpoint secret: `whsec_` and the base64 of its key bytes. */
export function newWebhookSecret(): string {
  return `${secretPrefix}${randomBytes(secretBytes).toString('base64')}`;
}

/**
 * The HMAC key of a secret: the base64-decoded bytes after `whsec_`. Secrets issued before this
 * scheme are `whsec_` and 48 hex digits, which are base64 too, so they sign as they are.
 */
export function webhookSecretKey(secret: string): Buffer {
  const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.length === 0) throw new Error('a webhook secret holds no key bytes');
  return key;
}

/** `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<raw body>")>` */
export function webhookSignatureEntry(secret: string, eventId: string, unixSeconds: number, rawBody: string): string {
  const mac = createHmac('sha256', webhookSecretKey(secret)).update(`${eventId}.${unixSeconds}.${rawBody}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one delivery, signed with every active secret (the new one first during a rotation). */
export function webhookHeaders(secrets: readonly string[], eventId: string, rawBody: string, unixSeconds: number): Record<string, string> {
  if (secrets.length === 0) throw new Error('a webhook delivery needs at least one secret');
  return {
    [webhookHeaderNames.id]: eventId,
    [webhookHeaderNames.timestamp]: String(unixSeconds),
    [webhookHeaderNames.signature]: secrets.map((secret) => webhookSignatureEntry(secret, eventId, unixSeconds, rawBody)).join(' '),
  };
}
