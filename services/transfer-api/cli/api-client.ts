import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './generated/transfer-api';

/**
 * The CLI's client of the transfer API: openapi-fetch over the types generated from the API's own
 * OpenAPI document (npm run api:types), so every path, parameter, body and answer is checked at
 * compile time against what the API serves. It speaks only HTTP.
 */
export type TransferApi = Client<paths>;
export type ApiSchemas = components['schemas'];

/** An error answer of the API: its status and stable code (UNKNOWN when the body has none). */
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

export const requestTimeoutMsDefault = 15_000;

export function createTransferApi(baseUrl: string, apiKey: string, requestTimeoutMs = requestTimeoutMsDefault): TransferApi {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
    fetch: (request) => fetch(request, { signal: AbortSignal.timeout(requestTimeoutMs) }),
  });
}

/** What openapi-fetch answers: the parsed body of a success, or the parsed error body. */
export interface FetchAnswer<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** A success answer, or TransferApiError with the API's code and message for an error status. */
export async function answerOf<T>(call: Promise<FetchAnswer<T>>): Promise<ApiAnswer<T>> {
  const { data, error, response } = await call;
  if (response.status >= 400) {
    const body = (typeof error === 'object' && error !== null ? error : {}) as { error?: { code?: string; message?: string } };
    throw new TransferApiError(response.status, body.error?.code ?? 'UNKNOWN', body.error?.message ?? `HTTP ${response.status}`);
  }
  return { status: response.status, body: data as T, headers: response.headers };
}

/** The body of a success answer (see answerOf). */
export async function bodyOf<T>(call: Promise<FetchAnswer<T>>): Promise<T> {
  return (await answerOf(call)).body;
}
