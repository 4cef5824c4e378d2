import type { z } from 'zod';
import { accountViewSchema, entryPageSchema, errorAnswerSchema } from '../../../lib/contracts/account-service-contract';
import { isErrorCode } from '../../../lib/contracts/error-codes';
import { ApiError } from '../../../lib/http/errors';
import type { StatementSources, TransferReferenceLookup } from '../use-cases/account-statement';
import type { BankAccounts, BankAnswer } from './bank-accounts';

/**
 * A bank's answer as the contract describes it. A refusal the bank decided (404 ACCOUNT_NOT_FOUND)
 * reaches the caller with its code; a body the contract does not describe is the bank's fault.
 */
function parsed<T>(bankId: string, answer: BankAnswer, schema: z.ZodType<T>): T {
  if (answer.status !== 200) {
    const refusal = errorAnswerSchema.safeParse(answer.body);
    const code = refusal.success ? refusal.data.error.code : undefined;
    if (refusal.success && isErrorCode(code)) throw new ApiError(code, refusal.data.error.message, refusal.data.error.field);
    throw new ApiError('BANK_UNAVAILABLE', `${bankId} answered ${answer.status} without an error the contract knows; retry later`, undefined, { 'retry-after': '5' });
  }
  const body = schema.safeParse(answer.body);
  if (!body.success) throw new ApiError('BANK_UNAVAILABLE', `${bankId} answered a body the account service contract does not describe`, undefined, { 'retry-after': '5' });
  return body.data;
}

/** The statement's reads: the account and its entries of a period from the bank, the references from the transfer record. */
export function statementSources(banks: BankAccounts, transferReferences: TransferReferenceLookup): StatementSources {
  const path = (accountId: string, suffix = '') => `/v1/accounts/${encodeURIComponent(accountId)}${suffix}`;
  return {
    account: async (bankId, accountId) => parsed(bankId, await banks.call(bankId, 'GET', path(accountId)), accountViewSchema),
    entriesInPeriod: async (bankId, accountId, query) => {
      const search = new URLSearchParams({ since: query.since, until: query.until, limit: String(query.limit) });
      if (query.after !== undefined) search.set('after', query.after);
      return parsed(bankId, await banks.call(bankId, 'GET', path(accountId, `/entries?${search.toString()}`)), entryPageSchema);
    },
    transferReferences,
  };
}
