/**
 * Every fixed limit of the codec server in one place. The request rate per address is
 * configurable (CODEC_REQUESTS_PER_MINUTE); these are not.
 */
export const codecServerLimits = {
  /** One request carries at most a workflow history page of payloads. */
  bodySizeMax: '4mb',
  payloadsMax: 1_000,
  metadataValueLengthMax: 10_000,
  /** Wrong tokens one client address may present a window; past it every request of that address waits out the window. */
  failedAuthenticationsPerWindow: 10,
  rateWindowMs: 60_000,
  /** How long a browser may cache the answer to a CORS preflight. */
  preflightMaxAgeSeconds: 600,
} as const;
