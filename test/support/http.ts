/** Raw HTTP for tests: every status is returned, nothing thrown, the body parsed when it is JSON. */
export interface HttpAnswer {
  status: number;
  headers: Headers;
  // Tests read arbitrary answer shapes; each asserts the fields it cares about.
  body: Record<string, unknown> & { error?: { code: string; message: string; field?: string } };
  text: string;
}

export interface HttpRequest {
  method?: string;
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string is sent as it is. */
  body?: unknown;
}

export async function http(url: string, request: HttpRequest = {}): Promise<HttpAnswer> {
  const headers: Record<string, string> = { ...(request.headers ?? {}) };
  let body: string | undefined;
  if (typeof request.body === 'string') body = request.body;
  else if (request.body !== undefined) {
    body = JSON.stringify(request.body);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(url, { method: request.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: AbortSignal.timeout(60_000) });
  const text = await response.text();
  let parsed: HttpAnswer['body'];
  try {
    parsed = text === '' ? {} : (JSON.parse(text) as HttpAnswer['body']);
  } catch {
    parsed = {};
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** An API caller bound to a base URL and a bearer key. */
export function apiCaller(baseUrl: string, key: string) {
  const withAuth = (headers: Record<string, string> = {}): Record<string, string> => ({ authorization: `Bearer ${key}`, ...headers });
  return {
    get: (path: string, headers?: Record<string, string>) => http(`${baseUrl}${path}`, { headers: withAuth(headers) }),
    post: (path: string, body?: unknown, headers?: Record<string, string>) => http(`${baseUrl}${path}`, { method: 'POST', body, headers: withAuth(headers) }),
  };
}

export type ApiCaller = ReturnType<typeof apiCaller>;

export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}
