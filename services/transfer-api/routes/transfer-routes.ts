import { z } from 'zod';
import type { TransferPolicy } from '../../../lib/transfer-contract';
import { ApiError } from '../../../lib/http-errors';
import { defineRoute, type AnyRouteSpec, type RouteResult } from '../http/route-table';
import {
  createTransferBodySchema,
  errorBodySchema,
  idempotencyKeySchema,
  listTransfersQuerySchema,
  operatorDecisionBodySchema,
  transferIdSchema,
  transferPageSchema,
  transferSchema,
} from '../schemas';
import type { OperatorAction, TransferWorkflows } from '../gateways/transfer-workflows';
import { assertWithinClientMaximum, createTransfer, type ClientTransferMaxima, type CreateTransferResult } from '../use-cases/create-transfer';
import { decideTransfer } from '../use-cases/decide-transfer';
import { getTransfer, listTransfers } from '../use-cases/read-transfers';

const transferParams = z.strictObject({ id: transferIdSchema });
const error = (description: string) => ({ description, schema: errorBodySchema });

export interface TransferRouteDeps {
  workflows: TransferWorkflows;
  policy: TransferPolicy;
  /** Per-client maximum amount per transfer; when absent every client gets the policy's maximum. */
  clientTransferMaxMinor?: ReadonlyMap<string, string>;
  /** Told of every create answered: a new transfer, or a replay of an earlier request. */
  onCreated?: (result: CreateTransferResult) => void;
}

function decisionRoute(deps: TransferRouteDeps, action: OperatorAction, summary: string, refusal: string): AnyRouteSpec {
  return defineRoute({
    method: 'post',
    path: `/v1/transfers/:id/${action}`,
    summary,
    tag: 'transfers',
    roles: ['operator'],
    params: transferParams,
    body: operatorDecisionBodySchema,
    responses: { 200: { description: 'The transfer after the decision', schema: transferSchema }, 404: error('TRANSFER_NOT_FOUND'), 409: error(refusal) },
    handler: async ({ params, body, caller }) => ({ status: 200, body: await decideTransfer(deps.workflows, caller, params.id, action, body.comment) }),
  });
}

export function transferRoutes(deps: TransferRouteDeps): AnyRouteSpec[] {
  const maxima: ClientTransferMaxima = { byClient: deps.clientTransferMaxMinor ?? new Map(), defaultMaxMinor: deps.policy.amountMaxMinor };
  return [
    defineRoute({
      method: 'post',
      path: '/v1/transfers',
      summary: 'Create a transfer',
      description:
        'Starts the transfer saga. The Idempotency-Key header is required and scoped to the calling client: the same key with the same body returns the same transfer (200, Idempotent-Replayed: true); with another body it is refused (422 IDEMPOTENCY_KEY_REUSED); while the first request is still being created a duplicate gets 409 REQUEST_IN_PROGRESS.',
      tag: 'transfers',
      roles: ['client', 'operator'],
      body: createTransferBodySchema,
      headers: z.object({ 'idempotency-key': idempotencyKeySchema }),
      responses: {
        202: { description: 'Transfer started', schema: transferSchema },
        200: { description: 'Replay of an earlier identical request', schema: transferSchema, headers: { 'Idempotent-Replayed': { description: 'true', schema: { type: 'string' } } } },
        409: error('REQUEST_IN_PROGRESS'),
        422: error("IDEMPOTENCY_KEY_REUSED, or LIMIT_EXCEEDED (field amountMinor) when the amount is above the calling client's maximum per transfer (CLIENT_TRANSFER_MAX_MINOR, else TRANSFER_MAX_MINOR); then no transfer is started"),
      },
      handler: async ({ body, caller, request }): Promise<RouteResult> => {
        const header = request.get('idempotency-key');
        if (header === undefined) throw new ApiError('VALIDATION_FAILED', 'the Idempotency-Key header is required', 'Idempotency-Key');
        if (!idempotencyKeySchema.safeParse(header).success) throw new ApiError('VALIDATION_FAILED', 'Idempotency-Key must be 1-255 printable ASCII characters', 'Idempotency-Key');
        assertWithinClientMaximum(maxima, caller, body.amountMinor);
        const result = await createTransfer(deps.workflows, deps.policy, caller, header, body);
        deps.onCreated?.(result);
        if (result.replayed) return { status: 200, body: result.transfer, headers: { 'idempotent-replayed': 'true' } };
        return { status: 202, body: result.transfer, headers: { location: `/v1/transfers/${result.transfer.id}` } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/transfers',
      summary: 'List transfers',
      description: 'From Temporal visibility. Clients see their own transfers; operators see all.',
      tag: 'transfers',
      roles: ['client', 'operator'],
      query: listTransfersQuerySchema,
      responses: { 200: { description: 'One page of transfers', schema: transferPageSchema } },
      handler: async ({ query, caller }) => ({ status: 200, body: await listTransfers(deps.workflows, caller, query) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/transfers/:id',
      summary: 'Get a transfer',
      description: 'Live state of a running transfer, or the final state of an ended one.',
      tag: 'transfers',
      roles: ['client', 'operator'],
      params: transferParams,
      responses: { 200: { description: 'The transfer', schema: transferSchema }, 404: error('TRANSFER_NOT_FOUND') },
      handler: async ({ params, caller }) => ({ status: 200, body: await getTransfer(deps.workflows, caller, params.id) }),
    }),
    decisionRoute(deps, 'approve', 'Approve a transfer awaiting approval', 'TRANSFER_NOT_AWAITING_APPROVAL'),
    decisionRoute(deps, 'reject', 'Reject a transfer awaiting approval', 'TRANSFER_NOT_AWAITING_APPROVAL'),
    decisionRoute(deps, 'cancel', 'Cancel a transfer (until its credit has succeeded)', 'TRANSFER_NOT_CANCELLABLE'),
  ];
}
