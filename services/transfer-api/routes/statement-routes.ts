import { z } from 'zod';
import { camt053Message } from '../../../lib/iso20022/camt053';
import type { BankAccounts } from '../gateways/bank-accounts';
import { statementSources } from '../gateways/statement-sources';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import { transferApiLimits } from '../limits';
import { accountIdSchema, bankIdSchema } from '../schemas';
import { accountStatement, type TransferReferenceLookup } from '../use-cases/account-statement';

/** camt.053 names the account in `Othr/Id`, a Max34Text. */
const statementAccountIdLengthMax = 34;
const dayMs = 86_400_000;

/** A real calendar day, `YYYY-MM-DD`: 2026-02-30 is refused, not rolled into March. */
const daySchema = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((day) => !Number.isNaN(Date.parse(`${day}T00:00:00.000Z`)) && new Date(`${day}T00:00:00.000Z`).toISOString().slice(0, 10) === day, 'must be a real calendar date');

const statementParams = z.strictObject({
  bankId: bankIdSchema,
  accountId: accountIdSchema.max(statementAccountIdLengthMax, `must be at most ${statementAccountIdLengthMax} characters: a camt.053 statement names the account in 34`),
});

const statementQuery = z
  .strictObject({
    from: daySchema.meta({ description: 'First day of the statement (UTC), included.', example: '2026-11-01' }),
    to: daySchema.meta({ description: `Last day of the statement (UTC), included; at most ${transferApiLimits.statementDaysMax} days from \`from\`.`, example: '2026-11-30' }),
  })
  .superRefine(({ from, to }, context) => {
    const spanDays = (Date.parse(to) - Date.parse(from)) / dayMs + 1;
    if (spanDays < 1) context.addIssue({ code: 'custom', path: ['to'], message: 'must not be before from' });
    else if (spanDays > transferApiLimits.statementDaysMax) context.addIssue({ code: 'custom', path: ['to'], message: `must be at most ${transferApiLimits.statementDaysMax} days from from (both included)` });
  });

/** An account's ISO 20022 bank-to-customer statement, for the callers who may read its entries. */
export function statementRoutes(banks: BankAccounts, transferReferences: TransferReferenceLookup): AnyRouteSpec[] {
  const sources = statementSources(banks, transferReferences);
  return [
    defineRoute({
      method: 'get',
      path: '/v1/banks/:bankId/accounts/:accountId/statement',
      summary: "Get an account's camt.053 statement for whole UTC days",
      description:
        `A ${camt053Message} BkToCstmrStmt: the opening booked balance (OPBD) at the start of \`from\`, the closing booked balance (CLBD) at the end of \`to\`, and one booked entry per ledger entry that moved the balance in between, with its sequence as the servicer's reference and, for a transfer's leg, the transfer's references. ` +
        `A period spans at most ${transferApiLimits.statementDaysMax} days and ${transferApiLimits.statementLedgerEntriesMax} ledger entries (zero-amount decisions included); a longer one is 422 STATEMENT_TOO_LARGE. ` +
        '400 VALIDATION_FAILED (field names which) when from or to is missing or not a real calendar date, to is before from, the span is past the bound, or the accountId is longer than the 34 characters camt.053 names an account in.',
      tag: 'accounts',
      roles: ['operator'],
      params: statementParams,
      query: statementQuery,
      operationId: 'getAccountStatement',
      responses: { 200: { description: `The statement (${camt053Message})`, schema: z.string(), mediaType: 'application/xml' } },
      errors: {
        404: ['BANK_NOT_FOUND', 'ACCOUNT_NOT_FOUND'],
        422: { codes: ['STATEMENT_TOO_LARGE'], description: `The period holds more than ${transferApiLimits.statementLedgerEntriesMax} ledger entries; ask for a shorter one.` },
        503: ['BANK_UNAVAILABLE'],
      },
      handler: async ({ params, query }) => {
        const xml = await accountStatement(sources, { bankId: params.bankId, accountId: params.accountId, fromDay: query.from, toDay: query.to, now: new Date() });
        return { status: 200, body: xml, contentType: 'application/xml' };
      },
    }),
  ];
}
