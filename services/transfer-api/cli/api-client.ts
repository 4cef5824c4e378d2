/** A small client of the transfer API for the operator CLI and tests; it speaks only HTTP. */
export class TransferApiError extends Error {
  override readonly name = 'TransferApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ApiAnswer<T> {
  status: number;
  body: T;
  headers: Headers;
}

export class TransferApiClient {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly requestTimeoutMs = 15_000,
  ) {}

  async call<T>(method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    const response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(this.requestTimeoutMs),
    });
    const text = await response.text();
    const parsed: unknown = text === '' ? null : JSON.parse(text);
    if (response.status >= 400) {
      const error = (parsed as { error?: { code?: string; message?: string } } | null)?.error;
      throw new TransferApiError(response.status, error?.code ?? 'UNKNOWN', error?.message ?? `HTTP ${response.status}`);
    }
    return { status: response.status, body: parsed as T, headers: response.headers };
  }

  /** A PUT (a change that replaces a value, e.g. a Net Debit Cap), usually under an Idempotency-Key. */
  put<T>(path: string, body: unknown, headers: Record<string, string> = {}): Promise<ApiAnswer<T>> {
    return this.call<T>('PUT', path, body, headers);
  }
}
