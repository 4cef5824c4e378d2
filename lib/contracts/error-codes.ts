/**
 * Every error code the system answers with, and its HTTP status. One table serves the
 * account services, the transfer API, the codec server and the saga (where a code is an ApplicationFailure type).
 */
export const httpStatusByCode = {
  VALIDATION_FAILED: 400,
  /** Webhook endpoint URLs that are never called (checked at registration and before every delivery). */
  WEBHOOK_URL_INVALID: 400,
  WEBHOOK_URL_SCHEME: 400,
  WEBHOOK_URL_CREDENTIALS: 400,
  WEBHOOK_URL_TOO_LONG: 400,
  WEBHOOK_HOST_NOT_ALLOWED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  /** The source account is outside the calling client's mandate (CLIENT_MANDATES). */
  SOURCE_NOT_ALLOWED: 403,
  /** Four eyes: the operator who created a transfer may not approve or reject it. */
  SAME_OPERATOR: 403,
  /** A browser on an origin other than the Web UI's called the codec server. */
  ORIGIN_NOT_ALLOWED: 403,
  NOT_FOUND: 404,
  ACCOUNT_NOT_FOUND: 404,
  BANK_NOT_FOUND: 404,
  TRANSFER_NOT_FOUND: 404,
  WEBHOOK_ENDPOINT_NOT_FOUND: 404,
  EVENT_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  IDEMPOTENCY_CONFLICT: 409,
  TRANSFER_VOIDED: 409,
  REQUEST_IN_PROGRESS: 409,
  TRANSFER_NOT_CANCELLABLE: 409,
  TRANSFER_NOT_AWAITING_APPROVAL: 409,
  /** A repair needs a transfer that has not ended and whose workflow is not running. */
  TRANSFER_NOT_REPAIRABLE: 409,
  ACCOUNT_NOT_EMPTY: 409,
  /** A create with a UETR another transfer already has: a UETR names one payment, ever; nothing is recorded. */
  UETR_ALREADY_USED: 409,
  /** A payment return (pacs.004) asked of a transfer that was not returned (not REFUNDED). */
  TRANSFER_NOT_RETURNED: 409,
  /** Another rotation of the endpoint's secret was made at the same time, or too many earlier secrets are still in their overlap. */
  WEBHOOK_SECRET_ROTATION_REFUSED: 409,
  /** An event feed cursor whose next events retention deleted (EVENT_FEED_RETENTION_DAYS). */
  EVENT_CURSOR_EXPIRED: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INSUFFICIENT_FUNDS: 422,
  CURRENCY_MISMATCH: 422,
  ACCOUNT_FROZEN: 422,
  ACCOUNT_CLOSED: 422,
  /** A credit or deposit that would take a balance past what a signed 64-bit integer holds. */
  BALANCE_LIMIT_EXCEEDED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  LIMIT_EXCEEDED: 422,
  DAILY_LIMIT_EXCEEDED: 422,
  /** An overdraft limit lowered below what the account has already drawn (its balance is below minus the new limit). */
  OVERDRAFT_BELOW_BALANCE: 422,
  /** Deferred-net settlement: the sending bank's position would pass its Net Debit Cap. */
  NET_DEBIT_CAP_EXCEEDED: 422,
  /** The sending bank's reserve at the settlement bank does not cover the amount. */
  INSUFFICIENT_LIQUIDITY: 422,
  /** The settlement bank holds no account for a participant bank and currency (it was never set up). */
  PARTICIPANT_NOT_FOUND: 422,
  /** A Net Debit Cap above the participant's reserve: its debt could pass what it can pay. */
  NET_DEBIT_CAP_ABOVE_RESERVE: 422,
  /** A Net Debit Cap below what the participant owes now: lower it once the bank has settled. */
  NET_DEBIT_CAP_BELOW_POSITION: 422,
  /** A transfer between two banks in a currency the settlement bank holds no accounts in. */
  CURRENCY_NOT_SETTLED: 422,
  WEBHOOK_ENDPOINT_LIMIT: 422,
  /** A redelivery to an endpoint the event was not addressed to when it was recorded (or to none that still exists). */
  WEBHOOK_ENDPOINT_NOT_ADDRESSED: 422,
  /** An event redelivered to one endpoint as often as allowed already. */
  WEBHOOK_REDELIVERY_LIMIT: 422,
  /** A transfer naming a bank the API does not know (BANKS): refused before anything is recorded. */
  UNKNOWN_BANK: 422,
  /** A transfer whose source and target are the same account: refused before anything is recorded. */
  SAME_ACCOUNT: 422,
  /** An account statement whose period holds more ledger entries than one statement renders (statementLedgerEntriesMax): ask for a shorter period. */
  STATEMENT_TOO_LARGE: 422,
  /** The codec server could not encode or decode the payloads it was sent (e.g. an unknown key). */
  PAYLOAD_NOT_DECODABLE: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  BANK_UNAVAILABLE: 503,
  /** Temporal or the worker did not answer in time; nothing was changed. */
  TEMPORARILY_UNAVAILABLE: 503,
  /** An account's queue was full, or the caller's deadline passed while queued: nothing was decided; retry after Retry-After. */
  OVERLOADED: 503,
} as const;

export type ErrorCode = keyof typeof httpStatusByCode;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(httpStatusByCode, value);
}

/**
 * Refusals a ledger decides for good: asking again gives the same answer, so the saga
 * never retries them. The activities' retry policies list these as non-retryable.
 */
export const businessRefusalCodes = [
  'ACCOUNT_NOT_FOUND',
  'INSUFFICIENT_FUNDS',
  'CURRENCY_MISMATCH',
  'ACCOUNT_FROZEN',
  'ACCOUNT_CLOSED',
  'TRANSFER_VOIDED',
  'IDEMPOTENCY_CONFLICT',
  'DAILY_LIMIT_EXCEEDED',
  'NET_DEBIT_CAP_EXCEEDED',
  'INSUFFICIENT_LIQUIDITY',
  'PARTICIPANT_NOT_FOUND',
  'LIMIT_EXCEEDED',
  'BALANCE_LIMIT_EXCEEDED',
  'VALIDATION_FAILED',
] as const satisfies readonly ErrorCode[];

export type BusinessRefusalCode = (typeof businessRefusalCodes)[number];

export function isBusinessRefusal(code: string): code is BusinessRefusalCode {
  return (businessRefusalCodes as readonly string[]).includes(code);
}

/** The error body every HTTP service answers with. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string };
}
