import { ApplicationFailure, Context } from '@temporalio/activity';
import { AccountServiceClient, AccountServiceUnreachableError, type AccountServiceResponse } from '../lib/clients/account-service-client';
import type { LedgerEntryView } from '../lib/contracts/account-service-contract';
import { isBusinessRefusal } from '../lib/contracts/error-codes';
import type { SigningKey } from '../lib/crypto/request-signing';

/** A ledger call that reached its decision, with the attempt that got it (for the operator view). */
export interface LegResult {
  entry: LedgerEntryView;
  attempt: number;
}

export interface LegRequest {
  bankId: string;
  accountId: string;
  transferId: string;
  amountMinor: string;
  currency: string;
}

export interface TransferReference {
  bankId: string;
  accountId: string;
  transferId: string;
}

export interface AccountActivitiesOptions {
  banks: ReadonlyArray<{ bankId: string; url: string }>;
  signingKey: SigningKey;
  /** Per HTTP call; the activity's own timeouts bound the retries. */
  requestTimeoutMs: number;
  fetch?: typeof fetch;
}

/** Error type of transport faults, 5xx and rejected signatures: always retried. */
export const bankUnavailableType = 'BANK_UNAVAILABLE';

function refusalOf(response: AccountServiceResponse): { code: string; message: string } | undefined {
  const error = (response.body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return typeof error?.code === 'string' ? { code: error.code, message: typeof error.message === 'string' ? error.message : error.code } : undefined;
}

/**
 * Activities over the account services, built from injected clients. Business refusals become
 * non-retryable ApplicationFailures whose type is the ledger's code; everything else is retried.
 */
export function createAccountActivities(options: AccountActivitiesOptions) {
  const clients = new Map(
    options.banks.map((bank) => [bank.bankId, new AccountServiceClient({ bankId: bank.bankId, baseUrl: bank.url, signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) })]),
  );

  async function call(bankId: string, path: string, body: unknown): Promise<LegResult> {
    const client = clients.get(bankId);
    // The workflow checks banks against its policy; a bank missing here is a worker configuration fault.
    if (!client) throw ApplicationFailure.retryable(`the worker has no URL for bank ${bankId}`, bankUnavailableType);
    let response: AccountServiceResponse;
    try {
      response = await client.request('POST', path, body);
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError) throw ApplicationFailure.retryable(error.message, bankUnavailableType);
      throw error;
    }
    const attempt = Context.current().info.attempt;
    if (response.status === 200) return { entry: response.body as LedgerEntryView, attempt };
    const refusal = refusalOf(response);
    if (response.status < 500 && response.status !== 401 && refusal && isBusinessRefusal(refusal.code)) {
      const entry = (response.body as { entry?: LedgerEntryView }).entry;
      throw ApplicationFailure.create({ type: refusal.code, message: refusal.message, nonRetryable: true, details: entry ? [entry] : [] });
    }
    throw ApplicationFailure.retryable(`${bankId} answered ${response.status}${refusal ? ` ${refusal.code}: ${refusal.message}` : ''}`, bankUnavailableType);
  }

  const accountPath = (accountId: string, action: string): string => `/v1/accounts/${encodeURIComponent(accountId)}/${action}`;

  return {
    async debit(request: LegRequest): Promise<LegResult> {
      return call(request.bankId, accountPath(request.accountId, 'debits'), { transferId: request.transferId, amountMinor: request.amountMinor, currency: request.currency });
    },
    async credit(request: LegRequest): Promise<LegResult> {
      return call(request.bankId, accountPath(request.accountId, 'credits'), { transferId: request.transferId, amountMinor: request.amountMinor, currency: request.currency });
    },
    /** Reverses the debit once, or voids its slot when there was none. */
    async refund(reference: TransferReference): Promise<LegResult> {
      return call(reference.bankId, accountPath(reference.accountId, 'refunds'), { transferId: reference.transferId });
    },
    /** Voids the credit's slot, or answers with the credit that already holds it. */
    async voidCredit(reference: TransferReference): Promise<LegResult> {
      return call(reference.bankId, accountPath(reference.accountId, 'credit-voids'), { transferId: reference.transferId });
    },
  };
}

export type AccountActivities = ReturnType<typeof createAccountActivities>;
