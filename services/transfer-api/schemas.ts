import { z } from 'zod';
import { bankIdPattern } from '../../lib/config/env-parsers';
import {
  accountViewSchema,
  amountMinorSchema as wireAmountMinorSchema,
  currencySchema as wireCurrencySchema,
  dailyLimitRequestSchema,
  entryPageSchema as wireEntryPageSchema,
  idSchema,
  ledgerEntryViewSchema,
  openAccountRequestSchema,
  depositRequestSchema,
  entriesPageLimitMax,
  sequenceCursorSchema,
} from '../../lib/contracts/account-service-contract';
import { transferStatuses } from '../../lib/contracts/transfer-contract';
import type { TransferView } from '../../lib/contracts/transfer-view';
import { endToEndIdPattern, uetrPattern } from '../../lib/iso20022/payment-identifiers';
import { transferApiLimits } from './limits';

/**
 * The API's schemas: they validate requests and generate the OpenAPI document, so the
 * document cannot drift from what the code accepts. Objects are strict: unknown fields are refused.
 */

/** An instant on the wire: ISO 8601 in UTC, as toISOString writes it (2026-11-01T09:30:00.000Z). */
export const timestampSchema = z.iso.datetime();

export const bankIdSchema = z.string().regex(bankIdPattern, 'must be a bank id such as bank-a').meta({ example: 'bank-a' });
export const accountIdSchema = idSchema.meta({ example: 'alice-001' });
export const amountMinorSchema = wireAmountMinorSchema.meta({ description: 'Integer minor units as a decimal string (12050 = 120.50 in a currency with two decimals).', example: '12050' });
export const currencySchema = wireCurrencySchema.meta({ example: 'EUR' });

export const accountRefSchema = z.strictObject({ bankId: bankIdSchema, accountId: accountIdSchema }).meta({ id: 'AccountRef' });

export const uetrSchema = z.string().regex(uetrPattern, 'must be a UUID v4 in lower case').meta({ example: '3f2a1c5e-8b7d-4e6f-9a0b-1c2d3e4f5a6b' });
export const endToEndIdSchema = z
  .string()
  .regex(endToEndIdPattern, "must be 1-35 characters of letters, digits, space and / - ? : ( ) . , ' +, not starting or ending with a space")
  .meta({ description: 'The client\'s end-to-end id, passed unchanged into every ISO 20022 message about the transfer (SWIFT X characters, 1-35).', example: 'INV-2026-0042' });

export const createTransferBodySchema = z
  .strictObject({
    source: accountRefSchema,
    target: accountRefSchema,
    amountMinor: amountMinorSchema,
    currency: currencySchema,
    reference: z.string().min(1).max(transferApiLimits.referenceLengthMax).optional().meta({ description: 'Free text for the payer and payee; kept encrypted-at-rest friendly in the memo, never in search attributes.' }),
    uetr: uetrSchema.optional().meta({ description: 'Unique End-to-end Transaction Reference, a lower-case UUID v4; the API generates one when absent. Unique across all transfers: one another transfer has is refused (409 UETR_ALREADY_USED).' }),
    endToEndId: endToEndIdSchema.optional(),
  })
  .meta({ id: 'CreateTransferRequest' });
export type CreateTransferBody = z.infer<typeof createTransferBodySchema>;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x20-\x7e]{1,255}$/, 'must be 1-255 printable ASCII characters')
  .meta({ description: 'Chosen by the client; the same key with the same body returns the same transfer.' });

export const transferIdSchema = idSchema;

export const transferStatusSchema = z.enum(transferStatuses).meta({ id: 'TransferStatus' });

export const transferStepSchema = z
  .object({
    name: z.enum(['approval', 'debit', 'settlement-reserve', 'credit', 'settlement-credit', 'credit-void', 'settlement-release', 'refund']),
    status: z.enum(['RUNNING', 'SUCCEEDED', 'FAILED']),
    startedAt: timestampSchema,
    endedAt: timestampSchema.optional(),
    attempts: z.number().int(),
    failure: z.object({ code: z.string(), message: z.string() }).optional(),
    decidedBy: z.string().optional(),
  })
  .meta({ id: 'TransferStep' });

export const transferSchema = z
  .object({
    id: z.string(),
    uetr: uetrSchema.meta({ description: 'Unique End-to-end Transaction Reference (UUID v4, lower case): the client\'s, or generated at creation; derived from the transfer id for transfers recorded before UETRs (docs/iso20022.md).' }),
    endToEndId: z.string().nullable().meta({ description: 'The client\'s end-to-end id; null when it gave none.' }),
    status: transferStatusSchema,
    isoStatus: z.enum(['ACTC', 'ACSP', 'ACSC', 'RJCT', 'PDNG']).meta({ description: 'The status as an ISO 20022 pacs.002 transaction status (docs/iso20022.md has the table).' }),
    isoReasonCode: z
      .string()
      .nullable()
      .meta({ description: 'The reason as an ISO 20022 external status reason code (ExternalStatusReason1Code), or return reason code (ExternalReturnReason1Code) when REFUNDED; null without a reason.' }),
    source: accountRefSchema,
    target: accountRefSchema,
    amountMinor: z.string(),
    currency: z.string(),
    reference: z.string().nullable(),
    reason: z.string().optional().meta({ description: 'Why a transfer ended REJECTED, REFUNDED or CANCELLED: an account service error code or APPROVAL_REJECTED, APPROVAL_TIMED_OUT, CANCELLED_BY_OPERATOR, CREDIT_FAILED, UNKNOWN_BANK, SAME_ACCOUNT, AMOUNT_TOO_LARGE.' }),
    needsAttention: z.boolean(),
    attentionReason: z
      .string()
      .optional()
      .meta({ description: 'Set when the transfer needs an operator because its workflow stopped before it ended: WORKFLOW_TERMINATED, WORKFLOW_MISSING (deleted), WORKFLOW_FAILED, …; the repair route finishes it.' }),
    requestedBy: z.string(),
    createdAt: timestampSchema,
    updatedAt: timestampSchema,
    steps: z.array(transferStepSchema),
    settlementWindowId: z.string().optional().meta({ description: 'Deferred-net settlement: the window the transfer settles in (GET /v1/settlement/windows/{windowId}).' }),
  })
  .meta({ id: 'Transfer' });
export type { TransferView } from '../../lib/contracts/transfer-view';

/** The document describes the view the code builds, exactly: a change to one without the other does not compile. */
type SchemaView = z.infer<typeof transferSchema>;
const _transferSchemaDescribesTheView: [SchemaView] extends [TransferView] ? ([TransferView] extends [SchemaView] ? true : false) : false = true;

export const listTransfersQuerySchema = z.strictObject({
  status: transferStatusSchema.optional(),
  sourceBank: bankIdSchema.optional(),
  targetBank: bankIdSchema.optional(),
  account: accountIdSchema.optional().meta({ description: 'Matches the source or the target account.' }),
  needsAttention: z.enum(['true', 'false']).optional().meta({ description: 'true: transfers an operator must act on: a refund or credit-void that keeps failing, or a workflow that stopped before the transfer ended.' }),
  limit: z.coerce.number().int().min(1).max(transferApiLimits.transfersPageLimitMax).default(transferApiLimits.transfersPageLimitDefault),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,2048}$/, 'is not a cursor from an earlier page').optional(),
});
export type ListTransfersQuery = z.infer<typeof listTransfersQuerySchema>;

export const transferPageSchema = z
  .object({ data: z.array(transferSchema), nextCursor: z.string().nullable() })
  .meta({ id: 'TransferPage', description: 'Newest first, by creation time, from the transfer record (kept for good, whatever Temporal retains).' });

export const operatorDecisionBodySchema = z
  .strictObject({ comment: z.string().max(transferApiLimits.operatorCommentLengthMax).optional() })
  .meta({ id: 'OperatorDecision' });

export const bankSchema = z
  .object({ bankId: z.string(), url: z.string(), bic: z.string().nullable().meta({ description: 'The bank\'s BIC (BANK_BICS), as ISO 20022 messages name it; null when none is configured.', example: 'BKAADEFFXXX' }) })
  .meta({ id: 'Bank' });
export const bankListSchema = z.object({ data: z.array(bankSchema) });

/** The account service's own schemas: what the API passes on to a bank is what the bank parses. */
export const openAccountBodySchema = openAccountRequestSchema;
/** The bank's daily-limit request without its change id, which the API takes from the Idempotency-Key header. */
export const dailyLimitBodySchema = dailyLimitRequestSchema.omit({ changeId: true }).meta({ id: 'DailyLimitRequest' });
export const depositBodySchema = depositRequestSchema;
export const accountSchema = accountViewSchema;
export const ledgerEntrySchema = ledgerEntryViewSchema;
export const entryPageSchema = wireEntryPageSchema;

export const entriesQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(entriesPageLimitMax).optional(),
  cursor: sequenceCursorSchema.optional().meta({ description: 'nextCursor of the previous page.' }),
});

export const reconciliationIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, 'is not a reconciliation id');

const discrepancySchema = z
  .object({
    kind: z.string().meta({ description: 'DEBIT_WITHOUT_CREDIT_OR_REFUND, CREDIT_WITHOUT_DEBIT, REFUND_WITHOUT_DEBIT, CREDIT_AND_REFUND, AMOUNT_MISMATCH, DUPLICATE_LEG, UNKNOWN_TRANSFER, STATUS_CONTRADICTS_LEDGER, APPROVAL_REPEATED, DUPLICATE_OPERATION, CHAIN_BROKEN, BALANCE_MISMATCH, BELOW_LIMIT, CONSERVATION, CLEARING_MISMATCH, SETTLEMENT_MISMATCH, CLEARING_MIRROR or POSITIONS_NOT_ZERO' }),
    detail: z.string(),
    transferId: z.string().optional(),
    bankId: z.string().optional(),
    accountId: z.string().optional(),
  })
  .meta({ id: 'Discrepancy' });

export const reconciliationReportSchema = z
  .object({
    reconciledAt: timestampSchema,
    banks: z.array(z.string()),
    accounts: z.number().int(),
    entries: z.number().int(),
    read: z.object({ fromCut: z.number().int().nullable(), fullReadReason: z.string().nullable(), accountsRead: z.number().int(), entriesRead: z.number().int() }).meta({ description: 'What this run read: the entries after the cut it continued from, or every chain (fullReadReason says why).' }),
    transfers: z.object({ seen: z.number().int(), completed: z.number().int(), reversed: z.number().int(), inFlight: z.number().int() }),
    conservation: z.array(z.object({ currency: z.string(), depositsMinor: z.string(), balancesMinor: z.string(), inFlightMinor: z.string(), holds: z.boolean() })),
    settlement: z
      .array(z.object({ debtorBank: z.string(), creditorBank: z.string(), currency: z.string(), netMinor: z.string(), transfers: z.number().int() }))
      .meta({ description: 'Net amount each bank owes another from completed transfers, per currency.' }),
    settlementBank: z.string().nullable().meta({ description: 'The settlement bank read with the banks (judged apart from them); null when the worker has none.' }),
    clearing: z
      .array(z.object({ bankId: z.string(), currency: z.string(), clearingMinor: z.string(), settlementMinor: z.string(), inFlightMinor: z.string(), holds: z.boolean() }))
      .meta({ description: "Per bank and currency: its clearing account's balance and the sum of its transfer legs at the settlement bank, which hold when they add up to what the transfers in flight account for." }),
    windows: z
      .array(z.object({ windowId: z.string().nullable(), currency: z.string(), netMinor: z.string(), transfers: z.number().int(), inFlight: z.number().int() }))
      .meta({ description: "Per settlement window (deferred-net) and currency: the position legs of the transfers that reserved in it; 0 once none is in flight." }),
    discrepancies: z.array(discrepancySchema),
    discrepancyCount: z.number().int(),
    discrepanciesLeftOut: z.number().int().meta({ description: 'How many of discrepancyCount the list (newest first, at most 500) leaves out.' }),
  })
  .meta({ id: 'ReconciliationReport' });

export const reconciliationRunSchema = z
  .object({
    reconciliationId: z.string(),
    status: z.string().meta({ description: 'RUNNING, COMPLETED, FAILED, TERMINATED, …' }),
    requestedBy: z.string().nullable(),
    startedAt: timestampSchema,
    closedAt: timestampSchema.nullable(),
    discrepancyFound: z.boolean().nullable(),
    // A union, not .nullable(): the generator would make the ReconciliationReport component itself nullable.
    report: z.union([reconciliationReportSchema, z.null()]).optional(),
  })
  .meta({ id: 'ReconciliationRun' });

export const reconciliationPageSchema = z.object({ data: z.array(reconciliationRunSchema), nextCursor: z.string().nullable() }).meta({ id: 'ReconciliationPage' });

export const listReconciliationsQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(transferApiLimits.reconciliationsPageLimitMax).default(transferApiLimits.reconciliationsPageLimitDefault),
  cursor: z.string().regex(/^[A-Za-z0-9_-]{1,2048}$/, 'is not a cursor from an earlier page').optional(),
});
