import { context, propagation } from '@opentelemetry/api';
import { signatureHeader, signRequest, type SigningKey } from '../crypto/request-signing';

/**
 * How long the caller waits for this answer, in ms from the request's arrival: relative, so that
 * the two clocks never meet. The service drops an operation still queued when it passes.
 */
export const requestTimeoutHeader = 'Request-Timeout-Ms';

/** What an account service answered: its status, its headers and its parsed JSON body, untouched. */
export interface AccountServiceResponse {
  status: number;
  body: unknown;
  /** Absent in test doubles; e.g. `Idempotent-Replayed` on a replayed account change. */
  headers?: Headers;
}

export class AccountServiceUnreachableError extends Error {
  override readonly name = 'AccountServiceUnreachableError';
  constructor(
    readonly bankId: string,
    message: string,
    readonly timedOut: boolean,
  ) {
    super(message);
  }
}

export interface AccountServiceClientOptions {
  bankId: string;
  baseUrl: string;
  signingKey: SigningKey;
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/** Signed JSON calls to one bank's account service. Transport faults throw; every HTTP answer is returned. */
export class AccountServiceClient {
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: AccountServiceClientOptions) {
    this.fetchImpl = options.fetch ?? fetch;
  }

  get bankId(): string {
    return this.options.bankId;
  }

  async request(method: 'GET' | 'POST', pathWithQuery: string, payload?: unknown): Promise<AccountServiceResponse> {
    const body = payload === undefined ? '' : JSON.stringify(payload);
    const headers: Record<string, string> = {
      accept: 'application/json',
      [requestTimeoutHeader]: String(this.options.requestTimeoutMs),
      [signatureHeader]: signRequest(this.options.signingKey, { bankId: this.options.bankId, method, pathWithQuery, body }),
    };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    // W3C traceparent of the active span (an activity's, an API request's); a no-op while tracing is off.
    propagation.inject(context.active(), headers);
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.options.baseUrl}${pathWithQuery}`, {
        method,
        headers,
        body: payload === undefined ? undefined : body,
        signal: AbortSignal.timeout(this.options.requestTimeoutMs),
      });
    } catch (error) {
      // AbortSignal.timeout rejects with a DOMException, which is not always an Error of this realm.
      const name = (error as { name?: unknown }).name;
      const timedOut = name === 'TimeoutError' || name === 'AbortError';
      const reason = timedOut ? `no answer within ${this.options.requestTimeoutMs} ms` : String((error as { message?: unknown }).message ?? error);
      throw new AccountServiceUnreachableError(this.options.bankId, `account service of ${this.options.bankId} unreachable: ${reason}`, timedOut);
    }
    const text = await response.text();
    let parsed: unknown = null;
    if (text !== '') {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { error: { code: 'INTERNAL', message: `non-JSON answer (${response.status})` } };
      }
    }
    return { status: response.status, body: parsed, headers: response.headers };
  }
}
