import { z } from 'zod';
import type { ErrorBody } from '../../../lib/contracts/error-codes';
import { changeIdOf, changeKeyHeaders } from '../http/change-key';
import { defineRoute, type AnyRouteSpec, type RouteResult } from '../http/route-table';
import type { BankAccounts, BankAnswer } from '../gateways/bank-accounts';
import { headerRefs } from '../http/response-headers';
import { accountIdSchema, accountSchema, bankIdSchema, bankListSchema, dailyLimitBodySchema, depositBodySchema, entriesQuerySchema, entryPageSchema, ledgerEntrySchema, openAccountBodySchema } from '../schemas';

const bankParams = z.strictObject({ bankId: bankIdSchema });
const accountParams = z.strictObject({ bankId: bankIdSchema, accountId: accountIdSchema });
/** What every call to a bank can answer: the bank or account is unknown, or the bank does not answer. */
const bankErrors = {
  404: ['BANK_NOT_FOUND', 'ACCOUNT_NOT_FOUND'],
  503: { codes: ['BANK_UNAVAILABLE'], description: 'The bank did not answer, or could not serve the request (Retry-After).' },
} as const;

function passThrough(answer: { status: number; body: unknown }): RouteResult {
  return { status: answer.status, body: answer.body };
}

function accountPath(accountId: string, suffix = ''): string {
  return `/v1/accounts/${encodeURIComponent(accountId)}${suffix}`;
}

/** The bank's answer to a change, its replay marker passed on; the bank's `changeId` is the caller's Idempotency-Key. */
function changeAnswer(answer: BankAnswer): RouteResult {
  const replayed = answer.headers?.get('idempotent-replayed') === 'true';
  const error = (answer.body as Partial<ErrorBody> | null)?.error;
  const body = error?.code === 'IDEMPOTENCY_KEY_REUSED' ? { error: { ...error, field: 'Idempotency-Key' } } : answer.body;
  return { status: answer.status, body, ...(replayed ? { headers: { 'idempotent-replayed': 'true' } } : {}) };
}

const changeDescription =
  'Needs an Idempotency-Key header (1-64 letters, digits, dots, dashes or underscores; the CLI sends a random UUID): it is the change id in the account\'s ledger, so a request repeated with its key answers the first decision (200, Idempotent-Replayed: true, the account as of that decision, or the same refusal) and changes nothing, whatever happened since: an unfreeze replayed after a later freeze leaves the account frozen. The same key with another change is 422 IDEMPOTENCY_KEY_REUSED. A missing or malformed key is 400 VALIDATION_FAILED and nothing reaches the bank.';
const changedResponse = {
  description: 'The account after the change; with Idempotent-Replayed: true, a repeat of the key answered with the account as of its first decision',
  schema: accountSchema,
  headers: headerRefs.idempotentReplayed,
};
const changeKeyErrors = { 400: { codes: ['VALIDATION_FAILED'], description: 'Also when the Idempotency-Key header is missing or malformed (field Idempotency-Key).' } } as const;

function statusRoute(banks: BankAccounts, action: 'freeze' | 'unfreeze' | 'close', summary: string): AnyRouteSpec {
  return defineRoute({
    method: 'post',
    path: `/v1/banks/:bankId/accounts/:accountId/${action}`,
    operationId: `${action}Account`,
    summary,
    description: `${changeDescription}${action === 'freeze' ? ' Freezing a frozen account changes no status (the request is still recorded).' : ''}`,
    tag: 'accounts',
    roles: ['operator'],
    params: accountParams,
    headers: changeKeyHeaders,
    responses: { 200: changedResponse },
    errors: {
      ...changeKeyErrors,
      ...bankErrors,
      ...(action === 'close' ? { 409: ['ACCOUNT_NOT_EMPTY'] as const } : {}),
      422: action === 'close' ? ['IDEMPOTENCY_KEY_REUSED'] : ['ACCOUNT_CLOSED', 'IDEMPOTENCY_KEY_REUSED'],
    },
    handler: async ({ params, request }) => changeAnswer(await banks.call(params.bankId, 'POST', accountPath(params.accountId, `/${action}`), { changeId: changeIdOf(request) })),
  });
}

/** The bank directory and the operator's account routes, passed to each bank's account service. */
export function bankRoutes(banks: BankAccounts): AnyRouteSpec[] {
  return [...accountReadRoutes(banks), ...accountFundingRoutes(banks), ...accountChangeRoutes(banks)];
}

/** The directory, an account with its balance, and its entries. */
function accountReadRoutes(banks: BankAccounts): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/banks',
      operationId: 'listBanks',
      summary: 'List the banks',
      tag: 'banks',
      roles: ['client', 'operator'],
      responses: { 200: { description: 'The bank directory', schema: bankListSchema } },
      handler: async () => ({ status: 200, body: { data: banks.directory.map((bank) => ({ bankId: bank.bankId, url: bank.url, bic: bank.bic ?? null })) } }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/banks/:bankId/accounts/:accountId',
      operationId: 'getAccount',
      summary: 'Get an account with its balance',
      tag: 'accounts',
      roles: ['operator'],
      params: accountParams,
      responses: { 200: { description: 'The account', schema: accountSchema } },
      errors: bankErrors,
      handler: async ({ params }) => passThrough(await banks.call(params.bankId, 'GET', accountPath(params.accountId))),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/banks/:bankId/accounts/:accountId/entries',
      operationId: 'listAccountEntries',
      summary: "List an account's ledger entries, oldest first",
      tag: 'accounts',
      roles: ['operator'],
      params: accountParams,
      query: entriesQuerySchema,
      responses: { 200: { description: 'One page of entries', schema: entryPageSchema } },
      errors: bankErrors,
      handler: async ({ params, query }) => {
        const search = new URLSearchParams();
        if (query.limit !== undefined) search.set('limit', String(query.limit));
        if (query.cursor !== undefined) search.set('after', query.cursor);
        const suffix = search.size > 0 ? `/entries?${search.toString()}` : '/entries';
        return passThrough(await banks.call(params.bankId, 'GET', accountPath(params.accountId, suffix)));
      },
    }),
  ];
}

/** Opening an account and depositing into it, each idempotent by its own id. */
function accountFundingRoutes(banks: BankAccounts): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/banks/:bankId/accounts',
      operationId: 'openAccount',
      summary: 'Open an account',
      description: 'Idempotent by accountId: the same request again answers 200 with the same account; other fields for the same id are 409 IDEMPOTENCY_CONFLICT.',
      tag: 'accounts',
      roles: ['operator'],
      params: bankParams,
      body: openAccountBodySchema,
      responses: { 201: { description: 'Opened', schema: accountSchema }, 200: { description: 'Already open with the same fields', schema: accountSchema } },
      errors: { ...bankErrors, 404: ['BANK_NOT_FOUND'], 409: ['IDEMPOTENCY_CONFLICT'] },
      handler: async ({ params, body }) => passThrough(await banks.call(params.bankId, 'POST', '/v1/accounts', body)),
    }),
    defineRoute({
      method: 'post',
      path: '/v1/banks/:bankId/accounts/:accountId/deposits',
      operationId: 'depositIntoAccount',
      summary: 'Deposit money into an account',
      description: 'Idempotent by depositId.',
      tag: 'accounts',
      roles: ['operator'],
      params: accountParams,
      body: depositBodySchema,
      responses: { 200: { description: 'The ledger entry of the deposit', schema: ledgerEntrySchema } },
      errors: { ...bankErrors, 409: ['IDEMPOTENCY_CONFLICT'], 422: ['CURRENCY_MISMATCH', 'ACCOUNT_FROZEN', 'ACCOUNT_CLOSED', 'BALANCE_LIMIT_EXCEEDED'] },
      handler: async ({ params, body }) => passThrough(await banks.call(params.bankId, 'POST', accountPath(params.accountId, '/deposits'), body)),
    }),
  ];
}

/** The replay-safe changes: daily limit, freeze, unfreeze, close, each under the caller's Idempotency-Key. */
function accountChangeRoutes(banks: BankAccounts): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/banks/:bankId/accounts/:accountId/daily-limit',
      operationId: 'setAccountDailyLimit',
      summary: "Set or remove an account's daily outgoing limit",
      description: `Recorded in the account's ledger chain, so every debit decided after it sees the new limit. Debits past the limit are refused with 422 DAILY_LIMIT_EXCEEDED; a refund gives the amount back to its debit's day. ${changeDescription}`,
      tag: 'accounts',
      roles: ['operator'],
      params: accountParams,
      body: dailyLimitBodySchema,
      headers: changeKeyHeaders,
      responses: { 200: changedResponse },
      errors: { ...changeKeyErrors, ...bankErrors, 422: ['IDEMPOTENCY_KEY_REUSED'] },
      handler: async ({ params, body, request }) => changeAnswer(await banks.call(params.bankId, 'POST', accountPath(params.accountId, '/daily-limit'), { changeId: changeIdOf(request), ...body })),
    }),
    statusRoute(banks, 'freeze', 'Freeze an account (blocks debits, credits and deposits)'),
    statusRoute(banks, 'unfreeze', 'Unfreeze an account'),
    statusRoute(banks, 'close', 'Close an account (needs a zero balance)'),
  ];
}
