import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * What a webhook receiver imports to check a delivery (Standard Webhooks): the signature over
 * `<webhook-id>.<webhook-timestamp>.<raw body>` with any of its secrets, in constant time, and
 * the timestamp within a tolerance of the receiver's clock, both ways, so that a captured
 * delivery cannot be replayed later. Node's crypto only: the file may be copied as it is.
 */

export type WebhookRefusal = 'MALFORMED_HEADERS' | 'TIMESTAMP_TOO_OLD' | 'TIMESTAMP_TOO_NEW' | 'NO_MATCHING_SIGNATURE' | 'MALFORMED_BODY';

export type WebhookVerification<E> = { ok: true; id: string; timestamp: number; event: E } | { ok: false; reason: WebhookRefusal; message: string };

/** Header values as Node's IncomingMessage gives them (lower-case names), or any record of them. */
export type WebhookRequestHeaders = Record<string, string | readonly string[] | undefined>;

export interface VerifyWebhookOptions {
  /** How far the delivery's timestamp may be from the receiver's clock, either way (default 300 s). */
  toleranceSeconds?: number;
  /** The receiver's clock (default: now). */
  now?: () => Date;
}

export const webhookToleranceSecondsDefault = 300;
/** More signature entries than this is not a delivery of ours (one per active secret, a few at most). */
const signatureEntriesMax = 16;
const secretPrefix = 'whsec_';

/**
 * Checks one delivery. `rawBody` must be the bytes as received (before any JSON parsing);
 * `secrets` are the endpoint's `whsec_…` secrets the receiver holds: during a rotation both the
 * old and the new one, each of which verifies alone. Returns the parsed event or why it is refused;
 * throws (TypeError) only for secrets that are not `whsec_<base64>`, the receiver's own mistake.
 */
export function verifyWebhook<E = unknown>(headers: WebhookRequestHeaders, rawBody: string | Buffer, secrets: string | readonly string[], options: VerifyWebhookOptions = {}): WebhookVerification<E> {
  const id = single(headers, 'webhook-id');
  const timestampText = single(headers, 'webhook-timestamp');
  const signature = single(headers, 'webhook-signature');
  if (!id || !timestampText || !signature) return refused('MALFORMED_HEADERS', 'webhook-id, webhook-timestamp and webhook-signature must each be present once');
  if (!/^[0-9]{1,12}$/.test(timestampText)) return refused('MALFORMED_HEADERS', 'webhook-timestamp is not unix seconds');
  const timestamp = Number(timestampText);
  const toleranceSeconds = options.toleranceSeconds ?? webhookToleranceSecondsDefault;
  const nowSeconds = Math.floor((options.now?.() ?? new Date()).getTime() / 1000);
  if (timestamp < nowSeconds - toleranceSeconds) return refused('TIMESTAMP_TOO_OLD', `webhook-timestamp is more than ${toleranceSeconds} s in the past`);
  if (timestamp > nowSeconds + toleranceSeconds) return refused('TIMESTAMP_TOO_NEW', `webhook-timestamp is more than ${toleranceSeconds} s in the future`);
  const offered = offeredSignatures(signature);
  if (!offered) return refused('MALFORMED_HEADERS', 'webhook-signature is not a list of v1,<base64> entries');
  const body = typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody;
  const signed = Buffer.concat([Buffer.from(`${id}.${timestampText}.`, 'utf8'), body]);
  // Every pair is compared, match or not, so the time taken says nothing about which one matched.
  let matched = false;
  for (const key of keysOf(secrets)) {
    const expected = createHmac('sha256', key).update(signed).digest();
    for (const candidate of offered) if (candidate.length === expected.length && timingSafeEqual(candidate, expected)) matched = true;
  }
  if (!matched) return refused('NO_MATCHING_SIGNATURE', 'no signature matches any of the secrets');
  try {
    return { ok: true, id, timestamp, event: JSON.parse(body.toString('utf8')) as E };
  } catch {
    return refused('MALFORMED_BODY', 'the signed body is not JSON');
  }
}

function refused<E>(reason: WebhookRefusal, message: string): WebhookVerification<E> {
  return { ok: false, reason, message };
}

function single(headers: WebhookRequestHeaders, name: string): string | undefined {
  const value = headers[name] ?? headers[name.replace(/(^|-)([a-z])/g, (match) => match.toUpperCase())];
  if (typeof value === 'string') return value;
  return value?.length === 1 ? value[0] : undefined;
}

/** The `v1` MACs of the header; entries of other versions are skipped, as the specification says. */
function offeredSignatures(header: string): Buffer[] | undefined {
  const entries = header.split(' ').filter((entry) => entry.length > 0);
  if (entries.length === 0 || entries.length > signatureEntriesMax) return undefined;
  const macs: Buffer[] = [];
  for (const entry of entries) {
    const comma = entry.indexOf(',');
    const version = entry.slice(0, Math.max(comma, 0));
    if (!/^v[0-9][0-9a-z]*$/.test(version)) return undefined;
    if (version !== 'v1') continue;
    const encoded = entry.slice(comma + 1);
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return undefined;
    macs.push(Buffer.from(encoded, 'base64'));
  }
  return macs;
}

function keysOf(secrets: string | readonly string[]): Buffer[] {
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  if (list.length === 0) throw new TypeError('verifyWebhook needs at least one secret');
  return list.map((secret) => {
    const encoded = secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : '';
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) throw new TypeError('a webhook secret is whsec_ followed by base64');
    return Buffer.from(encoded, 'base64');
  });
}
