/**
 * What the delivery log tells a client about a failed webhook POST: a category, never the raw
 * connection error. The raw text (`connect ECONNREFUSED 10.0.0.5:6379`, a TLS library's message)
 * would turn the log into a port scanner of the worker's network; the category is what the
 * receiver's owner needs to fix their side. Operators find the raw error in the worker's log.
 */
export const deliveryFailures = ['CONNECTION_REFUSED', 'TIMED_OUT', 'TLS_FAILED', 'UNREACHABLE', 'HTTP_STATUS', 'HOST_NOT_ALLOWED'] as const;
export type DeliveryFailure = (typeof deliveryFailures)[number];

/** The sentence shown beside each category (the same for every attempt of that category). */
export const deliveryFailureText: Readonly<Record<DeliveryFailure, string>> = {
  CONNECTION_REFUSED: 'the receiver refused the connection',
  TIMED_OUT: 'the receiver did not answer in time',
  TLS_FAILED: 'the TLS handshake with the receiver failed (certificate or protocol)',
  UNREACHABLE: 'the receiver could not be reached',
  HTTP_STATUS: 'the receiver answered with a status other than 2xx',
  HOST_NOT_ALLOWED: 'the endpoint host is not in WEBHOOK_ALLOWED_HOSTS',
};

const timeoutCodes = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const refusedCodes = new Set(['ECONNREFUSED']);
/** OpenSSL's certificate verdicts and Node's TLS errors. */
const tlsCode = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO$)/;

/** The error and the causes it wraps (fetch throws `TypeError: fetch failed` with the socket's error as cause). */
function* errorChain(error: unknown): Generator<{ name?: unknown; code?: unknown }> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    const link = current as { name?: unknown; code?: unknown; cause?: unknown };
    yield link;
    current = link.cause;
  }
}

/** The raw error with the causes it wraps, for operators only (the worker's log, the activity's failure). */
export function rawErrorText(error: unknown): string {
  const parts: string[] = [];
  for (const link of errorChain(error)) {
    const { name, message, code } = link as { name?: unknown; message?: unknown; code?: unknown };
    parts.push([name, code, message].filter((part) => typeof part === 'string' && part !== '').join(' '));
  }
  return parts.length > 0 ? parts.join(' <- ') : String(error);
}

/** The category of an error thrown by a webhook POST (the fetch, its abort signal or the socket below). */
export function deliveryFailureOf(error: unknown): DeliveryFailure {
  for (const link of errorChain(error)) {
    if (link.name === 'TimeoutError' || link.name === 'AbortError') return 'TIMED_OUT';
    const code = typeof link.code === 'string' ? link.code : '';
    if (timeoutCodes.has(code)) return 'TIMED_OUT';
    if (refusedCodes.has(code)) return 'CONNECTION_REFUSED';
    if (tlsCode.test(code)) return 'TLS_FAILED';
  }
  return 'UNREACHABLE';
}

/**
 * A stored attempt's category. Attempts recorded before categories hold the raw error: it is
 * sorted into a category by its text and never shown.
 */
export function storedDeliveryFailure(attempt: { outcome: 'DELIVERED' | 'FAILED'; httpStatus?: number; failure?: DeliveryFailure; error?: string }): DeliveryFailure | undefined {
  if (attempt.outcome === 'DELIVERED') return undefined;
  if (attempt.failure !== undefined) return attempt.failure;
  if (attempt.httpStatus !== undefined) return 'HTTP_STATUS';
  const raw = attempt.error ?? '';
  if (/WEBHOOK_ALLOWED_HOSTS/.test(raw)) return 'HOST_NOT_ALLOWED';
  if (/ECONNREFUSED/.test(raw)) return 'CONNECTION_REFUSED';
  if (/TimeoutError|AbortError|ETIMEDOUT|timeout/i.test(raw)) return 'TIMED_OUT';
  if (/certificate|TLS|SSL|CERT_/i.test(raw)) return 'TLS_FAILED';
  return 'UNREACHABLE';
}
