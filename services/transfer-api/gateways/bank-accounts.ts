import { AccountServiceClient, AccountServiceUnreachableError } from '../../../lib/clients/account-service-client';
import type { BankDirectoryEntry } from '../../../lib/config/env-parsers';
import type { SigningKey } from '../../../lib/crypto/request-signing';
import { ApiError } from '../../../lib/http/errors';

export interface BankAnswer {
  status: number;
  body: unknown;
  /** The bank's headers, where its client passes them on (e.g. `Idempotent-Replayed`). */
  headers?: Pick<Headers, 'get'>;
}

/**
 * Operator account routes pass through to the bank's account service with signed calls.
 * The bank's own statuses and error codes reach the caller; a bank that is down, slow,
 * refuses our signature (401) or refuses our key the route's scope (403) is never the caller's
 * fault (503 BANK_UNAVAILABLE): the operator is not forbidden, this API's service key is.
 */
export class BankAccounts {
  private readonly clients: ReadonlyMap<string, AccountServiceClient>;

  constructor(
    readonly directory: readonly BankDirectoryEntry[],
    signingKey: SigningKey,
    requestTimeoutMs: number,
    /** Tests pass a fake transport; the real fetch otherwise. */
    fetchImpl?: typeof fetch,
  ) {
    const transport = fetchImpl === undefined ? {} : { fetch: fetchImpl };
    this.clients = new Map(directory.map((bank) => [bank.bankId, new AccountServiceClient({ bankId: bank.bankId, baseUrl: bank.url, signingKey, requestTimeoutMs, ...transport })]));
  }

  async call(bankId: string, method: 'GET' | 'POST', pathWithQuery: string, payload?: unknown): Promise<BankAnswer> {
    const client = this.clients.get(bankId);
    if (!client) throw new ApiError('BANK_NOT_FOUND', `no bank ${bankId}; GET /v1/banks lists them`, 'bankId');
    let answer: BankAnswer;
    try {
      answer = await client.request(method, pathWithQuery, payload);
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError) throw new ApiError('BANK_UNAVAILABLE', `${bankId} did not answer; retry later`, undefined, { 'retry-after': '5' });
      throw error;
    }
    // The bank's 403 body names our key id and the scope it lacks: the caller gets neither.
    if (answer.status === 403) {
      throw new ApiError('BANK_UNAVAILABLE', `${bankId} refused this API's service key for the request (a scope is missing); an administrator must fix the key`, undefined, { 'retry-after': '5' });
    }
    if (answer.status === 401 || answer.status >= 500) {
      throw new ApiError('BANK_UNAVAILABLE', `${bankId} could not serve the request (status ${answer.status}); retry later`, undefined, { 'retry-after': '5' });
    }
    return answer;
  }
}
