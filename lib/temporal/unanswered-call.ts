import { status } from '@grpc/grpc-js';
import { isGrpcServiceError, WorkflowUpdateRPCTimeoutOrCancelledError } from '@temporalio/client';

/** gRPC codes that mean the call got no answer in time, as opposed to an answer that refused it. */
const unansweredGrpcCodes: ReadonlySet<number> = new Set([status.DEADLINE_EXCEEDED, status.CANCELLED, status.UNAVAILABLE]);
/** Names an AbortSignal gives its rejection: `AbortSignal.timeout` rejects with TimeoutError, `abort()` with AbortError. */
const abortErrorNames: ReadonlySet<string> = new Set(['TimeoutError', 'AbortError']);
/** The client nests a gRPC error one or two levels down; a bound keeps a cyclic `cause` from looping. */
const causeDepthMax = 8;

function isUnansweredItself(error: object): boolean {
  // Thrown by executeUpdate when its deadline passes or the call is cancelled, whatever the cause.
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError) return true;
  if (isGrpcServiceError(error)) return unansweredGrpcCodes.has(error.code);
  // A DOMException is not always an Error of this realm, so the name is read off any object.
  const name = (error as { name?: unknown }).name;
  return typeof name === 'string' && abortErrorNames.has(name);
}

/**
 * True when a call to Temporal got no answer in time: its deadline passed, it was cancelled or
 * aborted, or the server was unreachable. The Temporal client wraps the gRPC error (in ServiceError
 * or WorkflowUpdateRPCTimeoutOrCancelledError), so the `cause` chain is searched too.
 */
export function isUnansweredCall(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < causeDepthMax && typeof current === 'object' && current !== null; depth += 1) {
    if (isUnansweredItself(current)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
