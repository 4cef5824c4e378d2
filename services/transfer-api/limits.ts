/**
 * Every fixed limit of the transfer API in one place: body and field sizes, page sizes, batch
 * sizes, timeouts. Limits an operator may change are environment variables (config.ts).
 */
export const transferApiLimits = {
  /** Largest JSON request body. */
  requestBodyBytesMax: 16 * 1024,
  /** A transfer's free-text reference (the length of an ISO 20022 remittance line). */
  referenceLengthMax: 140,
  /** An operator's comment on an approval, rejection or cancellation. */
  operatorCommentLengthMax: 500,
  transfersPageLimitMax: 100,
  transfersPageLimitDefault: 20,
  eventsPageLimitMax: 100,
  eventsPageLimitDefault: 20,
  reconciliationsPageLimitMax: 50,
  reconciliationsPageLimitDefault: 10,
  /** Record entries a transfer listing reads ahead per client chain: a page's share, within these bounds. */
  chainBatchMin: 4,
  chainBatchMax: 25,
  /** How long an update may wait for the worker before the API answers 503. */
  workerAnswerTimeoutMs: 5_000,
  /** How long a read waits for a running saga's live state before answering from the record alone. */
  liveStateTimeoutMs: 1_000,
  /** A metrics scrape must not hang on visibility. */
  visibilityCountTimeoutMs: 3_000,
  /** Reading a reconciliation report means reading a workflow's result: once a minute is often enough for an alert. */
  reconciliationReadIntervalMs: 60_000,
  /** An open record entry without its record is a create that stopped before its decision; the sweeper drops it after this long. */
  orphanEntryAfterMs: 10 * 60_000,
  /** Pause between two tries to open the settlement participants while the settlement bank starts. */
  settlementOpeningRetryMs: 1_000,
  settlementOpeningAttemptsMax: 30,
  /** An account statement (camt.053) covers at most this many whole UTC days. */
  statementDaysMax: 31,
  /**
   * Ledger entries of one statement's period, movements and zero-amount decisions alike (the API reads
   * and holds them all): a period with more is refused STATEMENT_TOO_LARGE, never rendered in part.
   */
  statementLedgerEntriesMax: 1_000,
  /** Transfer record look-ups a statement makes at once for its entries' references. */
  statementReferenceLookupsConcurrent: 16,
} as const;
