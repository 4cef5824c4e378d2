import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Calls to account services carry
 *   X-Signature: keyId=<id>,ts=<unix seconds>,sig=<hex>
 * where sig = HMAC-SHA256(secret, "v2\n" + METHOD + "\n" + BANK_ID + "\n" + path-with-query + "\n" + ts + "\n" + hex SHA-256 of the raw body).
 * BANK_ID is the bank the call is meant for: a call captured on its way to one bank is refused by every other.
 */
export const signatureHeader = 'x-signature';
export const signatureWindowSeconds = 300;

export interface SigningKey {
  keyId: string;
  secret: string;
}

export interface SignedRequest {
  /** The audience: the bank whose account service the call is meant for. */
  bankId: string;
  method: string;
  /** Path with its query string, exactly as sent (e.g. "/v1/accounts/a-1/entries?limit=10"). */
  pathWithQuery: string;
  body: string | Buffer;
}

function signature(secret: string, request: SignedRequest, timestamp: number): string {
  const bodyHash = createHash('sha256').update(request.body).digest('hex');
  const canonical = `v2\n${request.method.toUpperCase()}\n${request.bankId}\n${request.pathWithQuery}\n${timestamp}\n${bodyHash}`;
  return createHmac('sha256', secret).update(canonical).digest('hex');
}

export function signRequest(key: SigningKey, request: SignedRequest, nowSeconds = Math.floor(Date.now() / 1000)): string {
  return `keyId=${key.keyId},ts=${nowSeconds},sig=${signature(key.secret, request, nowSeconds)}`;
}

export type SignatureVerdict = { valid: true; keyId: string } | { valid: false; reason: string };

const headerPattern = /^keyId=([A-Za-z0-9._-]{1,64}),ts=(\d{1,12}),sig=([0-9a-f]{64})$/;

/** Checks a signature header, for the service's own bank, against every accepted key (several at once during a rotation). */
export function verifySignature(
  header: string | undefined,
  request: SignedRequest,
  keys: ReadonlyMap<string, string>,
  nowSeconds = Math.floor(Date.now() / 1000),
): SignatureVerdict {
  if (header === undefined || header === '') return { valid: false, reason: 'missing X-Signature header' };
  const match = headerPattern.exec(header);
  if (!match) return { valid: false, reason: 'malformed X-Signature header' };
  const [, keyId, ts, sig] = match as unknown as [string, string, string, string];
  const secret = keys.get(keyId);
  if (secret === undefined) return { valid: false, reason: 'unknown signing key' };
  const timestamp = Number(ts);
  if (Math.abs(nowSeconds - timestamp) > signatureWindowSeconds) return { valid: false, reason: 'signature timestamp outside the allowed window' };
  const expected = Buffer.from(signature(secret, request, timestamp), 'hex');
  const given = Buffer.from(sig, 'hex');
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { valid: false, reason: 'signature does not match' };
  return { valid: true, keyId };
}
