import { ApplicationFailure, Context } from '@temporalio/activity';
import { AccountServiceClient, AccountServiceUnreachableError, type AccountServiceResponse } from '../lib/clients/account-service-client';
import { errorAnswerSchema, ledgerEntryViewSchema, type LedgerEntryView, type TransferLegRequest } from '../lib/contracts/account-service-contract';
import { isBusinessRefusal } from '../lib/contracts/error-codes';
import type { SigningKey } from '../lib/crypto/request-signing';

/**
 * What the saga needs of a leg's entry: which slot, what was decided, and the settlement window.
 * Balances and amounts stay at the bank: they are not copied into every workflow history.
 */
export type LegDecision = Pick<LedgerEntryView, 'operationId' | 'kind' | 'outcome' | 'code' | 'windowId'>;

export function legDecisionOf({ operationId, kind, outcome, code, windowId }: LedgerEntryView): LegDecision {
  return { operationId, kind, outcome, ...(code !== undefined ? { code } : {}), ...(windowId !== undefined ? { windowId } : {}) };
}

/** A ledger call that reached its decision, with the attempt that got it (for the operator view). */
export interface LegResult {
  entry: LegDecision;
  attempt: number;
}

export interface LegRequest {
  bankId: string;
  accountId: string;
  transferId: string;
  amountMinor: string;
  currency: string;
  /** A leg between two banks that settles: the bank books its counterpart on its clearing account. */
  clearing?: boolean;
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

/**
 * A bank's answer parsed by the contract: the entry of a decision (200), or a business refusal
 * (with the zero-amount entry that records it when the ledger decided it). Anything else (a 5xx,
 * a rejected signature, a body the contract does not describe) is retried: the bank answers the
 * same operation again, decided once.
 */
function decisionOf(bankId: string, response: AccountServiceResponse, attempt: number): LegResult {
  if (response.status === 200) {
    const entry = ledgerEntryViewSchema.safeParse(response.body);
    if (entry.success) return { entry: legDecisionOf(entry.data), attempt };
    throw ApplicationFailure.retryable(`${bankId} answered 200 with a body that is not a ledger entry: ${entry.error.issues[0]?.message ?? 'invalid'}`, bankUnavailableType);
  }
  const answer = errorAnswerSchema.safeParse(response.body);
  const error = answer.success ? answer.data.error : undefined;
  if (response.status < 500 && response.status !== 401 && error && isBusinessRefusal(error.code)) {
    const entry = answer.data?.entry;
    throw ApplicationFailure.create({ type: error.code, message: error.message, nonRetryable: true, details: entry ? [legDecisionOf(entry)] : [] });
  }
  throw ApplicationFailure.retryable(`${bankId} answered ${response.status}${error ? ` ${error.code}: ${error.message}` : ''}`, bankUnavailableType);
}

function legBody(request: LegRequest): TransferLegRequest {
  return { transferId: request.transferId, amountMinor: request.amountMinor, currency: request.currency, ...(request.clearing === true ? { clearing: true } : {}) };
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
    return decisionOf(bankId, response, Context.current().info.attempt);
  }

  const accountPath = (accountId: string, action: string): string => `/v1/accounts/${encodeURIComponent(accountId)}/${action}`;

  return {
    async debit(request: LegRequest): Promise<LegResult> {
      return call(request.bankId, accountPath(request.accountId, 'debits'), legBody(request));
    },
    async credit(request: LegRequest): Promise<LegResult> {
      return call(request.bankId, accountPath(request.accountId, 'credits'), legBody(request));
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
