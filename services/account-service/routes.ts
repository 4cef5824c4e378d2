import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { ApiError } from '../../lib/http/errors';
import { httpStatusByCode, isErrorCode } from '../../lib/contracts/error-codes';
import {
  accountChangeRequestSchema,
  accountsQuerySchema,
  dailyLimitRequestSchema,
  depositRequestSchema,
  entriesQuerySchema,
  idSchema,
  isClearingAccountId,
  operationIdSchema,
  openAccountRequestSchema,
  overdraftLimitRequestSchema,
  settlementRequestSchema,
  transferLegRequestSchema,
  transferReferenceRequestSchema,
  windowMarkRequestSchema,
} from '../../lib/contracts/account-service-contract';
import { callerOf } from './http/caller';
import { entryView, refusalMessages } from './ledger/entry-view';
import type { Ledger } from './ledger/ledger';
import type { LedgerStore } from './ledger/ledger-store';
import type { EntryDocument } from './ledger/model';
import { changeAccount, listAccounts, listEntries, openAccount, readAccount, type AccountChangeAnswer } from './use-cases/accounts';
import { listEntriesInPeriod } from './use-cases/entries-in-period';
import { credit, debit, deposit, markWindow, refund, settle, voidCredit, type Decision } from './use-cases/ledger-operations';

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.code === 'unrecognized_keys' ? issue.keys[0] : issue?.path.join('.') || undefined;
  const message = issue?.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : `${field ?? 'request'} ${issue?.message ?? 'is invalid'}`;
  throw new ApiError('VALIDATION_FAILED', message, field);
}

function accountIdOf(req: Request): string {
  return parse(idSchema, req.params.accountId);
}

/**
 * The account a write names: never a clearing account, which only the bank books (as the
 * counterpart of an interbank leg). To a caller it does not exist, so a transfer naming one is
 * refused like one naming an unknown account.
 */
function writableAccountIdOf(req: Request): string {
  const accountId = accountIdOf(req);
  if (isClearingAccountId(accountId)) throw new ApiError('ACCOUNT_NOT_FOUND', `${accountId} is the bank's clearing account, booked by the bank alone`, 'accountId');
  return accountId;
}

function sendEntry(res: Response, entry: EntryDocument, refusal?: string): void {
  if (!refusal) {
    res.status(200).json(entryView(entry));
    return;
  }
  const status = isErrorCode(refusal) ? httpStatusByCode[refusal] : 422;
  res.status(status).json({ error: { code: refusal, message: refusalMessages[refusal] ?? refusal }, entry: entryView(entry) });
}

function sendDecision(res: Response, decision: Decision): void {
  sendEntry(res, decision.entry, decision.refusal);
}

function sendChange(res: Response, answer: AccountChangeAnswer): void {
  if (answer.replayed) res.set('idempotent-replayed', 'true');
  res.status(200).json(answer.account);
}

type Handler = (req: Request, res: Response) => Promise<void>;

export interface AccountRoutesDeps {
  bankId: string;
  store: LedgerStore;
  ledger: Ledger;
  clock: () => Date;
}

const route = (handler: Handler) => (req: Request, res: Response, next: (error: unknown) => void) => {
  handler(req, res).catch(next);
};

/**
 * Routes are thin: parse, call one use case, answer. They are grouped as the scope table
 * (http/route-scopes.ts) grants them: reads, money moves, administration.
 */
export function accountRoutes(deps: AccountRoutesDeps): Router {
  const router = Router();
  // Which key the service accepted: checks a key rotation, and is the cheapest signed request (no database).
  router.get('/v1/whoami', (req, res) => {
    res.json({ bankId: deps.bankId, keyId: req.signedBy });
  });
  addReadRoutes(router, deps);
  addMoneyRoutes(router, deps);
  addAdminRoutes(router, deps);
  return router;
}

/** Scope `read`: accounts and their entries. */
function addReadRoutes(router: Router, { bankId, store, ledger }: AccountRoutesDeps): void {
  router.get(
    '/v1/accounts',
    route(async (req, res) => {
      const query = parse(accountsQuerySchema, req.query);
      res.json(await listAccounts(store, ledger, bankId, query.after, query.limit));
    }),
  );
  router.get(
    '/v1/accounts/:accountId',
    route(async (req, res) => {
      res.json(await readAccount(ledger, bankId, accountIdOf(req)));
    }),
  );
  // The entry that decided one operation, found by its id alone (the pointer's `_id`): 404 when it was never decided.
  router.get(
    '/v1/accounts/:accountId/operations/:operationId',
    route(async (req, res) => {
      const accountId = accountIdOf(req);
      const operationId = parse(operationIdSchema, req.params.operationId);
      const entry = await ledger.decided(accountId, operationId);
      if (!entry) throw new ApiError('NOT_FOUND', `no operation ${operationId} was decided on account ${accountId}`, 'operationId');
      res.json(entryView(entry));
    }),
  );
  router.get(
    '/v1/accounts/:accountId/entries',
    route(async (req, res) => {
      const accountId = accountIdOf(req);
      const query = parse(entriesQuerySchema, req.query);
      const after = query.after === undefined ? -1 : Number(query.after);
      if (query.since === undefined && query.until === undefined) {
        res.json(await listEntries(store, ledger, accountId, after, query.limit));
        return;
      }
      // Normalised, so that the search compares texts written as the entries' own `createdAt` are.
      const since = query.since === undefined ? {} : { since: new Date(query.since).toISOString() };
      const until = query.until === undefined ? {} : { until: new Date(query.until).toISOString() };
      res.json(await listEntriesInPeriod(store, ledger, accountId, { after, limit: query.limit, ...since, ...until }));
    }),
  );
}

/**
 * Scope `ledger`: the saga's legs and their undoing, each decided once per transfer id, and a
 * settlement bank's window markers and settlement moves, each decided once per its id.
 */
function addMoneyRoutes(router: Router, { ledger }: AccountRoutesDeps): void {
  const leg = (use: typeof debit) =>
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(transferLegRequestSchema, req.body);
      sendDecision(res, await use(ledger, { accountId, id: body.transferId, amountMinor: BigInt(body.amountMinor), currency: body.currency, clearing: body.clearing === true, caller: callerOf(req) }));
    });
  const undo = (use: typeof refund) =>
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      sendEntry(res, await use(ledger, accountId, parse(transferReferenceRequestSchema, req.body).transferId, callerOf(req)));
    });
  router.post('/v1/accounts/:accountId/debits', leg(debit));
  router.post('/v1/accounts/:accountId/credits', leg(credit));
  router.post('/v1/accounts/:accountId/refunds', undo(refund));
  router.post('/v1/accounts/:accountId/credit-voids', undo(voidCredit));
  router.post(
    '/v1/accounts/:accountId/windows',
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(windowMarkRequestSchema, req.body);
      sendDecision(res, await markWindow(ledger, accountId, body.windowId, callerOf(req)));
    }),
  );
  router.post(
    '/v1/accounts/:accountId/settlements',
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(settlementRequestSchema, req.body);
      sendDecision(res, await settle(ledger, { accountId, id: body.settlementId, amountMinor: BigInt(body.amountMinor), currency: body.currency, caller: callerOf(req) }));
    }),
  );
}

/** Scope `admin`: opening and funding accounts, and the replay-safe account changes. */
function addAdminRoutes(router: Router, { bankId, store, ledger, clock }: AccountRoutesDeps): void {
  router.post(
    '/v1/accounts',
    route(async (req, res) => {
      const body = parse(openAccountRequestSchema, req.body);
      if (isClearingAccountId(body.accountId)) throw new ApiError('VALIDATION_FAILED', `accountId ${body.accountId}: ids starting with clearing. are the bank's own clearing accounts`, 'accountId');
      const { dailyDebitLimitMinor, ...fields } = body;
      const command = { ...fields, overdraftLimitMinor: BigInt(body.overdraftLimitMinor ?? '0'), ...(dailyDebitLimitMinor === undefined ? {} : { dailyDebitLimitMinor: BigInt(dailyDebitLimitMinor) }) };
      const result = await openAccount(store, ledger, bankId, command, clock());
      res.status(result.created ? 201 : 200).json(result.account);
    }),
  );
  router.post(
    '/v1/accounts/:accountId/deposits',
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(depositRequestSchema, req.body);
      sendDecision(res, await deposit(ledger, { accountId, id: body.depositId, amountMinor: BigInt(body.amountMinor), currency: body.currency, caller: callerOf(req) }));
    }),
  );
  for (const action of ['freeze', 'unfreeze', 'close'] as const) {
    router.post(
      `/v1/accounts/:accountId/${action}`,
      route(async (req, res) => {
        const accountId = writableAccountIdOf(req);
        const { changeId } = parse(accountChangeRequestSchema, req.body);
        sendChange(res, await changeAccount(ledger, bankId, accountId, changeId, { action }, callerOf(req)));
      }),
    );
  }
  router.post(
    '/v1/accounts/:accountId/daily-limit',
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(dailyLimitRequestSchema, req.body);
      const dailyDebitLimitMinor = body.dailyDebitLimitMinor === null ? null : BigInt(body.dailyDebitLimitMinor);
      sendChange(res, await changeAccount(ledger, bankId, accountId, body.changeId, { action: 'limit', dailyDebitLimitMinor }, callerOf(req)));
    }),
  );
  router.post(
    '/v1/accounts/:accountId/overdraft-limit',
    route(async (req, res) => {
      const accountId = writableAccountIdOf(req);
      const body = parse(overdraftLimitRequestSchema, req.body);
      sendChange(res, await changeAccount(ledger, bankId, accountId, body.changeId, { action: 'overdraft', overdraftLimitMinor: BigInt(body.overdraftLimitMinor) }, callerOf(req)));
    }),
  );
}
