import { createHmac, timingSafeEqual } from 'node:crypto';

export const webhookSignatureHeader = 'Webhook-Signature';

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + raw body)>` */
export function signWebhook(secret: string, rawBody: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${rawBody}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a receiver does: recompute the MAC over the raw body and compare in constant time. */
export function verifyWebhook(secret: string, rawBody: string, header: string): boolean {
  const match = /^t=([0-9]{1,12}),v1=([0-9a-f]{64})$/.exec(header);
  if (!match?.[1] || !match[2]) return false;
  const expected = Buffer.from(signWebhook(secret, rawBody, Number(match[1])).slice(-64), 'hex');
  return timingSafeEqual(expected, Buffer.from(match[2], 'hex'));
}
