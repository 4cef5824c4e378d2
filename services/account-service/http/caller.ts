import type { Request, RequestHandler } from 'express';
import { ApiError } from '../../../lib/http/errors';
import { requestTimeoutHeader } from '../../../lib/clients/account-service-client';
import type { Caller } from '../ledger/ledger';

/** Longest deadline a caller may ask for: a day (anything longer is a mistake, not a wait). */
const requestTimeoutMsMax = 86_400_000;

const callers = new WeakMap<Request, Caller>();

/** The caller's relative timeout in ms, undefined when it sent none; a malformed one is refused. */
function requestTimeoutMsOf(req: Request): number | undefined {
  const value = req.get(requestTimeoutHeader);
  if (value === undefined) return undefined;
  const timeoutMs = /^[0-9]{1,9}$/.test(value) ? Number(value) : Number.NaN;
  if (!(timeoutMs >= 1 && timeoutMs <= requestTimeoutMsMax)) {
    throw new ApiError('VALIDATION_FAILED', `${requestTimeoutHeader} must be a whole number of milliseconds from 1 to ${requestTimeoutMsMax}`, requestTimeoutHeader);
  }
  return timeoutMs;
}

/**
 * Notes who waits for each request's answer, as its first middleware: the deadline counts from
 * arrival (the header is relative, so the two clocks never meet), and the request has left once
 * its connection closes before the answer is finished.
 */
export const recordCaller: RequestHandler = (req, res, next) => {
  const arrivedAt = performance.now();
  let left = false;
  res.once('close', () => {
    if (!res.writableFinished) left = true;
  });
  try {
    const timeoutMs = requestTimeoutMsOf(req);
    callers.set(req, { hasLeft: () => left, ...(timeoutMs === undefined ? {} : { deadlineAt: arrivedAt + timeoutMs }) });
    next();
  } catch (error) {
    next(error);
  }
};

/** The caller recorded for a request; one that went round recordCaller waits for ever and never leaves. */
export function callerOf(req: Request): Caller {
  return callers.get(req) ?? { hasLeft: () => false };
}
