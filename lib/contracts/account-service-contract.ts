import { z } from 'zod';
import { idPattern } from './ids';
import { amountMinorPattern, currencyPattern, minorOrZeroPattern, sequenceCursorPattern, signedAmountMinorPattern, signedMinorPattern } from './money';

/**
 * The account service's HTTP contract: one zod schema per request and answer. The service parses
 * requests with them, the transfer API publishes them in its OpenAPI document (and checks what it
 * passes on), and the saga's activities and reconciliation parse the banks' answers with them.
 * Every schema describes JSON as it travels: amounts are decimal strings of minor units, turned
 * into `bigint` by whoever reads them (the service's routes, the reconciliation reader).
 */

export const idSchema = z.string().regex(idPattern, 'must be 1-64 letters, digits, dots, dashes or underscores, starting with a letter or digit');
export const amountMinorSchema = z.string().regex(amountMinorPattern, 'must be a positive whole number of minor units, as a string of at most 18 digits');
export const minorOrZeroSchema = z.string().regex(minorOrZeroPattern, 'must be a whole number of minor units, as a string of at most 18 digits');
export const signedMinorSchema = z.string().regex(signedMinorPattern, 'must be a whole number of minor units, as a string');
export const currencySchema = z.string().regex(currencyPattern, 'must be an ISO 4217 code such as EUR');
/** An operation's id in a chain: `<id>:debit`, `<id>:deposit`, `<changeId>:admin`, … */
export const operationIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}:[a-z]{1,16}$/, 'must be an operation id such as t-1:debit');
export const sequenceCursorSchema = z.string().regex(sequenceCursorPattern, 'must be a sequence number from nextCursor');

export const accountStatuses = ['ACTIVE', 'FROZEN', 'CLOSED'] as const;
export type AccountStatus = (typeof accountStatuses)[number];

/**
 * What a ledger entry records:
 * - open: the account's first entry (sequence 0)
 * - deposit, debit, credit, refund: money movements (refusals are zero-amount entries of the same kind)
 * - void: a zero-amount entry that takes a transfer's debit or credit slot before it happened,
 *   so that it never can (`<transferId>:debit` or `<transferId>:credit`)
 * - freeze, unfreeze, close: status changes, decided in the same chain
 * - limit: a change of the daily outgoing limit, decided in the same chain so it is ordered with debits
 * - overdraft: a change of the overdraft limit, decided in the same chain so it is ordered with debits
 * - window: a zero-amount settlement-window marker; every later entry carries its `windowId`
 * - settle: a settlement bank's signed move of a position or reserve, not bound by the overdraft limit
 * - clearing: on a bank's clearing account, the counterpart of an interbank customer leg, under the
 *   leg's own operation id (`<transferId>:debit` books +amount, `:credit` and `:refund` −amount)
 */
export const entryKinds = ['open', 'deposit', 'debit', 'credit', 'refund', 'void', 'freeze', 'unfreeze', 'close', 'limit', 'overdraft', 'window', 'settle', 'clearing'] as const;
export type EntryKind = (typeof entryKinds)[number];

/**
 * APPLIED: the entry did what it asked; REFUSED: decided no, with `code`;
 * NOTHING_TO_REFUND: a refund of a debit that had been refused (zero amount).
 */
export const entryOutcomes = ['APPLIED', 'REFUSED', 'NOTHING_TO_REFUND'] as const;
export type EntryOutcome = (typeof entryOutcomes)[number];

// Requests. Strict objects: an unknown field, or an object where a string belongs ({"$gt": ""}), is refused before any database call.

export const openAccountRequestSchema = z
  .strictObject({
    accountId: idSchema,
    owner: z.string().min(1).max(200),
    currency: currencySchema,
    overdraftLimitMinor: minorOrZeroSchema.optional().meta({ description: 'Overdraft allowed below zero, as a positive amount; none when absent.' }),
    dailyDebitLimitMinor: minorOrZeroSchema.optional().meta({ description: 'Most the account may send per bank day (UTC, or the bank time zone); no limit when absent.' }),
  })
  .meta({ id: 'OpenAccountRequest' });
export type OpenAccountRequest = z.infer<typeof openAccountRequestSchema>;

/** Every account change (freeze, unfreeze, close, daily limit, overdraft limit) names its change id: a replay answers the first decision. */
export const accountChangeRequestSchema = z.strictObject({ changeId: idSchema });
export type AccountChangeRequest = z.infer<typeof accountChangeRequestSchema>;

/** Body of POST …/daily-limit: the new limit, or null to remove it. */
export const dailyLimitRequestSchema = z.strictObject({
  changeId: idSchema,
  dailyDebitLimitMinor: minorOrZeroSchema.nullable().meta({ description: 'The new daily outgoing limit in minor units; null removes the limit.' }),
});
export type DailyLimitRequest = z.infer<typeof dailyLimitRequestSchema>;

/** Body of POST …/overdraft-limit: the new overdraft limit (refused while the account has drawn more than it allows). */
export const overdraftLimitRequestSchema = z.strictObject({
  changeId: idSchema,
  overdraftLimitMinor: minorOrZeroSchema.meta({ description: 'The new overdraft allowed below zero, as a positive amount in minor units; "0" allows none.' }),
});
export type OverdraftLimitRequest = z.infer<typeof overdraftLimitRequestSchema>;

export const depositRequestSchema = z.strictObject({ depositId: idSchema, amountMinor: amountMinorSchema, currency: currencySchema }).meta({ id: 'DepositRequest' });
export type DepositRequest = z.infer<typeof depositRequestSchema>;

/** Body of POST …/windows: the settlement window every entry decided after the marker belongs to. */
export const windowMarkRequestSchema = z.strictObject({ windowId: idSchema }).meta({ id: 'WindowMarkRequest' });
export type WindowMarkRequest = z.infer<typeof windowMarkRequestSchema>;

/** Body of POST …/settlements: a signed, non-zero move of the balance, applied whatever the overdraft limit. */
export const settlementRequestSchema = z
  .strictObject({
    settlementId: idSchema,
    amountMinor: z
      .string()
      .regex(signedAmountMinorPattern, 'must be a non-zero whole number of minor units, signed, as a string of at most 18 digits')
      .meta({ description: 'Signed change of the balance in minor units: negative takes money out, positive puts it in; never "0".' }),
    currency: currencySchema,
  })
  .meta({ id: 'SettlementRequest' });
export type SettlementRequest = z.infer<typeof settlementRequestSchema>;

/** Body of POST …/debits and …/credits. */
export const transferLegRequestSchema = z.strictObject({
  transferId: idSchema,
  amountMinor: amountMinorSchema,
  currency: currencySchema,
  clearing: z.boolean().optional().meta({ description: "An interbank leg: once applied, the bank books its counterpart on its clearing account for the currency (`clearing.<currency>`). The first decision's choice holds for every replay." }),
});
export type TransferLegRequest = z.infer<typeof transferLegRequestSchema>;

/** Body of POST …/refunds and …/credit-voids. */
export const transferReferenceRequestSchema = z.strictObject({ transferId: idSchema });
export type TransferReferenceRequest = z.infer<typeof transferReferenceRequestSchema>;

export const accountsPageLimitDefault = 100;
export const accountsPageLimitMax = 500;
export const entriesPageLimitDefault = 100;
export const entriesPageLimitMax = 500;

export const accountsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(accountsPageLimitMax).default(accountsPageLimitDefault),
  after: idSchema.optional(),
});

/** An instant as entries are stamped with it (`createdAt`): ISO 8601 in UTC (`2026-11-01T00:00:00.000Z`). */
export const entryInstantSchema = z.iso.datetime({ offset: false, local: false }).meta({ description: 'An ISO 8601 time in UTC, e.g. 2026-11-01T00:00:00.000Z.' });

/**
 * `since` and `until` bound the page to the entries decided in `[since, until)`, found by a search
 * of the chain's `createdAt` (the chain's order is its time order, up to the difference between the
 * clocks of the service's processes); the answer then carries `balanceBeforeMinor`, the balance at
 * the page's start, which is the balance at `since` on the first page.
 */
export const entriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(entriesPageLimitMax).default(entriesPageLimitDefault),
  after: sequenceCursorSchema.optional(),
  since: entryInstantSchema.optional(),
  until: entryInstantSchema.optional(),
});
export type EntriesQuery = z.infer<typeof entriesQuerySchema>;

// Answers. Loose objects: a service may add fields without breaking the readers that parse them.

export const accountViewSchema = z
  .looseObject({
    accountId: z.string(),
    bankId: z.string(),
    owner: z.string(),
    currency: z.string(),
    status: z.enum(accountStatuses),
    balanceMinor: signedMinorSchema,
    overdraftLimitMinor: minorOrZeroSchema.meta({ description: 'Overdraft allowed below zero, as a positive amount ("0" when none): the limit in force, after its latest change.' }),
    dailyDebitLimitMinor: minorOrZeroSchema.optional().meta({ description: 'Most the account may send per bank day; absent when it has no daily limit.' }),
    dayDebitedMinor: signedMinorSchema.meta({ description: "Debited so far on the bank's current day (refunds of today's debits taken off)." }),
    sequence: z.number().int().meta({ description: "Sequence number of the account's latest ledger entry." }),
    windowId: idSchema.optional().meta({ description: "The settlement window the account's chain is in: the latest window marker's; absent before its first." }),
  })
  .meta({ id: 'Account' });
export type AccountView = z.infer<typeof accountViewSchema>;

export const ledgerEntryViewSchema = z
  .looseObject({
    operationId: z.string().meta({ description: "`<transferId>:debit` | `:credit` | `:refund`, `<depositId>:deposit`, a change's `<changeId>:admin`, `<windowId>:window` or `<settlementId>:settle`." }),
    accountId: z.string(),
    kind: z.enum(entryKinds),
    amountMinor: signedMinorSchema.meta({ description: 'Signed change of the balance: negative for debits, "0" for refusals and voids.' }),
    balanceAfterMinor: signedMinorSchema,
    sequence: z.number().int(),
    outcome: z.enum(entryOutcomes),
    code: z.string().optional(),
    createdAt: z.string().meta({ description: 'ISO 8601 time the entry was decided.', format: 'date-time' }),
    day: z.string().optional().meta({ description: 'The bank day of the entry (absent on entries older than daily limits).' }),
    dayDebitedMinor: signedMinorSchema.optional().meta({ description: "The day's running debited total after the entry." }),
    dailyDebitLimitMinor: minorOrZeroSchema.nullable().optional().meta({ description: 'On `limit` entries: the new daily limit, null when removed.' }),
    overdraftLimitMinor: minorOrZeroSchema.optional().meta({ description: 'On `overdraft` entries: the overdraft limit in force after the entry (the one before it when the change was refused).' }),
    overdraftLimitBeforeMinor: minorOrZeroSchema.optional().meta({ description: 'On `overdraft` entries: the overdraft limit in force before the entry.' }),
    windowId: idSchema.optional().meta({ description: "The settlement window the entry was decided in (on a `window` entry: the one it opens); absent before the chain's first marker." }),
    clearingAccountId: z.string().optional().meta({ description: 'On an applied interbank customer leg (and the refund of one): the clearing account that holds its counterpart, under the same operation id.' }),
  })
  .meta({ id: 'LedgerEntry' });
export type LedgerEntryView = z.infer<typeof ledgerEntryViewSchema>;

export const entryPageSchema = z
  .object({
    data: z.array(ledgerEntryViewSchema),
    nextCursor: z.string().nullable().meta({ description: 'Pass as `after=` (with the same `since` and `until`) for the next page; null at the end of the chain, or of the period.' }),
    balanceBeforeMinor: signedMinorSchema.optional().meta({
      description: "With `since` or `until`: the balance before the page's first slot (after every entry decided earlier in the chain); on the period's first page, the balance at `since`.",
    }),
  })
  .meta({ id: 'EntryPage' });
export type EntryPage = z.infer<typeof entryPageSchema>;

/** GET /v1/accounts: every account of a bank in `accountId` order. */
export const accountPageSchema = z.object({ data: z.array(accountViewSchema), nextCursor: z.string().nullable().meta({ description: 'Pass as `after=` for the next page; null after the last account.' }) });
export type AccountPage = z.infer<typeof accountPageSchema>;

/**
 * Every answer but a success: the error body all services share, and on a refusal decided by the
 * ledger (its code's HTTP status) the zero-amount entry that records it.
 */
export const errorAnswerSchema = z.looseObject({
  error: z.looseObject({ code: z.string(), message: z.string(), field: z.string().optional() }),
  entry: ledgerEntryViewSchema.optional(),
});
export type ErrorAnswer = z.infer<typeof errorAnswerSchema>;

export function debitOperationId(transferId: string): string {
  return `${transferId}:debit`;
}

export function creditOperationId(transferId: string): string {
  return `${transferId}:credit`;
}

export function refundOperationId(transferId: string): string {
  return `${transferId}:refund`;
}

export function depositOperationId(depositId: string): string {
  return `${depositId}:deposit`;
}

export function windowOperationId(windowId: string): string {
  return `${windowId}:window`;
}

export function settlementOperationId(settlementId: string): string {
  return `${settlementId}:settle`;
}

/**
 * A bank's own account for a currency, the other side of every interbank customer leg: the bank
 * books it itself (it opens on first use) and no request names it for money or administration.
 * Its balance is what the bank owes the other banks through the scheme (negative: is owed), so
 * it mirrors the bank's position and settled amounts at the settlement bank.
 */
export const clearingAccountPrefix = 'clearing.';

export function clearingAccountId(currency: string): string {
  return `${clearingAccountPrefix}${currency}`;
}

export function isClearingAccountId(accountId: string): boolean {
  return accountId.startsWith(clearingAccountPrefix);
}
