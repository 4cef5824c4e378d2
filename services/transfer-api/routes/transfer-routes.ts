import { z } from 'zod';
import { ApiError } from '../../../lib/http/errors';
import { headerRefs } from '../http/response-headers';
import { defineRoute, type AnyRouteSpec, type RouteResult } from '../http/route-table';
import {
  createTransferBodySchema,
  type CreateTransferBody,
  idempotencyKeySchema,
  listTransfersQuerySchema,
  operatorDecisionBodySchema,
  transferIdSchema,
  transferPageSchema,
  transferSchema,
} from '../schemas';
import type { OperatorAction } from '../gateways/transfer-workflows';
import type { TransferAuthority } from '../mandates';
import { assertRequestAcceptable, assertSourceWithinMandate, assertWithinClientMaximum, createTransfer, type ClientTransferMaxima, type CreateTransferResult } from '../use-cases/create-transfer';
import { decideTransfer } from '../use-cases/decide-transfer';
import { listTransfers } from '../use-cases/list-transfers';
import { getTransfer } from '../use-cases/read-transfers';
import type { TransferUseCaseDeps } from '../use-cases/recorded-transfers';
import { repairTransfer } from '../use-cases/repair-transfer';

const transferParams = z.strictObject({ id: transferIdSchema });

export interface TransferRouteDeps extends TransferUseCaseDeps {
  /** What each client may debit, and whether approvals need a second operator. */
  authority: TransferAuthority;
  /** Per-client maximum amount per transfer; when absent every client gets the policy's maximum. */
  clientTransferMaxMinor?: ReadonlyMap<string, string>;
  /** Told of every create answered: a new transfer, or a replay of an earlier request. */
  onCreated?: (result: CreateTransferResult) => void;
  /** The currencies the settlement bank holds (SETTLEMENT_CURRENCIES), when transfers settle. */
  settlementCurrencies?: readonly string[];
}

type DecisionRefusal = 'TRANSFER_NOT_AWAITING_APPROVAL' | 'TRANSFER_NOT_CANCELLABLE';

function decisionRoute(deps: TransferRouteDeps, action: OperatorAction, summary: string, refusal: DecisionRefusal): AnyRouteSpec {
  return defineRoute({
    method: 'post',
    path: `/v1/transfers/:id/${action}`,
    operationId: `${action}Transfer`,
    summary,
    tag: 'transfers',
    roles: ['operator'],
    params: transferParams,
    body: operatorDecisionBodySchema,
    responses: { 200: { description: 'The transfer after the decision', schema: transferSchema } },
    errors: {
      ...(action === 'cancel' ? {} : { 403: { codes: ['SAME_OPERATOR'], description: 'SAME_OPERATOR: the operator who created the transfer may not decide it (APPROVAL_FOUR_EYES).' } as const }),
      404: ['TRANSFER_NOT_FOUND'],
      409: [refusal],
      503: { codes: ['TEMPORARILY_UNAVAILABLE'], description: 'The saga is not ready for the decision yet (Retry-After).' },
    },
    handler: async ({ params, body, caller }) => ({ status: 200, body: await decideTransfer({ ...deps, fourEyes: deps.authority.approvalFourEyes }, caller, params.id, action, body.comment) }),
  });
}

export function transferRoutes(deps: TransferRouteDeps): AnyRouteSpec[] {
  return [
    createTransferRoute(deps),
    defineRoute({
      method: 'get',
      path: '/v1/transfers',
      operationId: 'listTransfers',
      summary: 'List transfers',
      description:
        "From the transfer record, newest first (by creation). Clients see their own transfers; operators see every client's. A page reads a bounded number of transfers, so with a rare filter it may hold fewer than `limit` items and still have a nextCursor; nextCursor null means the end. needsAttention=true lists the transfers an operator must act on, newest first.",
      tag: 'transfers',
      roles: ['client', 'operator'],
      query: listTransfersQuerySchema,
      responses: { 200: { description: 'One page of transfers', schema: transferPageSchema } },
      handler: async ({ query, caller }) => ({ status: 200, body: await listTransfers(deps.records, caller, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/transfers/:id',
      operationId: 'getTransfer',
      summary: 'Get a transfer',
      description: 'From the transfer record, at any age; a transfer in flight shows its saga\'s live state when the worker answers at once.',
      tag: 'transfers',
      roles: ['client', 'operator'],
      params: transferParams,
      responses: { 200: { description: 'The transfer', schema: transferSchema } },
      errors: { 404: ['TRANSFER_NOT_FOUND'] },
      handler: async ({ params, caller }) => ({ status: 200, body: await getTransfer(deps, caller, params.id) }),
    }),
    decisionRoute(deps, 'approve', 'Approve a transfer awaiting approval', 'TRANSFER_NOT_AWAITING_APPROVAL'),
    decisionRoute(deps, 'reject', 'Reject a transfer awaiting approval', 'TRANSFER_NOT_AWAITING_APPROVAL'),
    decisionRoute(deps, 'cancel', 'Cancel a transfer (until its credit has succeeded)', 'TRANSFER_NOT_CANCELLABLE'),
    defineRoute({
      method: 'post',
      path: '/v1/transfers/:id/repair',
      operationId: 'repairTransfer',
      summary: 'Repair a transfer whose workflow stopped',
      description:
        'For a transfer that has not ended and whose workflow is not running (terminated or deleted in Temporal; listed with needsAttention=true): a new workflow run under the same transfer id finishes it from the ledgers. The credit is voided unless it was applied (then COMPLETED), and the source refunded (REFUNDED, or CANCELLED when no debit happened), with reason WORKFLOW_TERMINATED. Money is never moved twice: every ledger call is idempotent per transfer.',
      tag: 'transfers',
      roles: ['operator'],
      params: transferParams,
      body: operatorDecisionBodySchema,
      responses: { 202: { description: 'The repair run started', schema: transferSchema } },
      errors: { 404: ['TRANSFER_NOT_FOUND'], 409: ['TRANSFER_NOT_REPAIRABLE'] },
      handler: async ({ params }) => ({ status: 202, body: await repairTransfer(deps, params.id) }),
    }),
  ];
}

/** A transfer between two banks settles at the settlement bank: in a currency it holds no accounts in, it could only be debited and refunded. */
function assertSettles(deps: TransferRouteDeps, body: CreateTransferBody): void {
  const currencies = deps.settlementCurrencies;
  if (!deps.policy.settlement || !currencies || body.source.bankId === body.target.bankId || currencies.includes(body.currency)) return;
  throw new ApiError('CURRENCY_NOT_SETTLED', `transfers between banks settle in ${currencies.join(', ')} only (SETTLEMENT_CURRENCIES); nothing was recorded`, 'currency');
}

/** POST /v1/transfers: the mandate, the client's maximum and the settlement currency first, then the record and the saga. */
function createTransferRoute(deps: TransferRouteDeps): AnyRouteSpec {
  const maxima: ClientTransferMaxima = { byClient: deps.clientTransferMaxMinor ?? new Map(), amountMinorMaxDefault: deps.policy.amountMaxMinor };
  return defineRoute({
    method: 'post',
    path: '/v1/transfers',
    operationId: 'createTransfer',
    summary: 'Create a transfer',
    description:
      'Records the transfer, then starts its saga. The Idempotency-Key header is required and scoped to the calling client; the record of its first use is kept for good, so at any age the same key with the same body returns the same transfer (200, Idempotent-Replayed: true) and with another body it is refused (422 IDEMPOTENCY_KEY_REUSED), whether or not Temporal still holds the workflow. A repeat of a transfer whose saga never started (the API stopped right after recording it) starts it.',
    tag: 'transfers',
    roles: ['client', 'operator'],
    body: createTransferBodySchema,
    headers: z.object({ 'idempotency-key': idempotencyKeySchema }),
    responses: {
      202: { description: 'Transfer started', schema: transferSchema, headers: headerRefs.location },
      200: { description: 'Replay of an earlier identical request', schema: transferSchema, headers: headerRefs.idempotentReplayed },
    },
    errors: {
      400: { codes: ['VALIDATION_FAILED'], description: 'Also when the Idempotency-Key header is missing or malformed (field Idempotency-Key).' },
      403: { codes: ['SOURCE_NOT_ALLOWED'], description: "SOURCE_NOT_ALLOWED (field source) when a client's mandate (CLIENT_MANDATES) does not cover the source account; nothing is recorded." },
      422: {
        codes: ['IDEMPOTENCY_KEY_REUSED', 'LIMIT_EXCEEDED', 'CURRENCY_NOT_SETTLED', 'UNKNOWN_BANK', 'SAME_ACCOUNT'],
        description:
          "IDEMPOTENCY_KEY_REUSED, LIMIT_EXCEEDED (field amountMinor) when the amount is above the calling client's maximum per transfer (CLIENT_TRANSFER_MAX_MINOR, else TRANSFER_MAX_MINOR), CURRENCY_NOT_SETTLED (field currency) for a transfer between two banks in a currency the settlement bank does not hold, UNKNOWN_BANK (field source.bankId or target.bankId) for a bank not in BANKS, or SAME_ACCOUNT (field target) when source and target are one account; then nothing is recorded and no transfer is started.",
      },
    },
    handler: async ({ body, caller, request }): Promise<RouteResult> => {
      const header = request.get('idempotency-key');
      if (header === undefined) throw new ApiError('VALIDATION_FAILED', 'the Idempotency-Key header is required', 'Idempotency-Key');
      if (!idempotencyKeySchema.safeParse(header).success) throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 printable ASCII characters', 'Idempotency-Key');
      assertRequestAcceptable(deps.policy, body);
      assertSourceWithinMandate(deps.authority.clientMandates, caller, body.source);
      assertWithinClientMaximum(maxima, caller, body.amountMinor);
      assertSettles(deps, body);
      const result = await createTransfer(deps, caller, header, body);
      deps.onCreated?.(result);
      if (result.replayed) return { status: 200, body: result.transfer, headers: { 'idempotent-replayed': 'true' } };
      return { status: 202, body: result.transfer, headers: { location: `/v1/transfers/${result.transfer.id}` } };
    },
  });
}
