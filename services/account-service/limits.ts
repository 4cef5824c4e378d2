import { accountsPageLimitDefault, accountsPageLimitMax, entriesPageLimitDefault, entriesPageLimitMax } from '../../lib/contracts/account-service-contract';

/**
 * Every fixed limit of the account service in one place. Page sizes are part of the wire
 * contract (its callers page by them); limits an operator may change are environment variables.
 */
export const accountServiceLimits = {
  /** Largest signed JSON request body. */
  requestBodyBytesMax: 16 * 1024,
  accountsPageLimitDefault,
  accountsPageLimitMax,
  entriesPageLimitDefault,
  entriesPageLimitMax,
  /** A batch that keeps losing races this often is a bug or a storm: the ledger stops instead of spinning. */
  batchAttemptsMax: 10_000,
  /** Database commands traced at once; more are left untraced rather than held in memory. */
  tracedCommandsMax: 10_000,
  /** Retry-After (seconds) of a 503 OVERLOADED: one batch of a busy account takes well under that. */
  overloadRetryAfterSeconds: 1,
  /** Pointers written per insert while a head rolls forward over a long run of entries. */
  rollForwardPointerBatch: 1_000,
} as const;
