import { z } from 'zod';
import { ApiError } from '../../../lib/http/errors';
import type { Reconciliations } from '../gateways/reconciliations';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import { listReconciliationsQuerySchema, reconciliationIdSchema, reconciliationPageSchema, reconciliationRunSchema } from '../schemas';

const runParams = z.strictObject({ reconciliationId: reconciliationIdSchema });

/** Operators start a reconciliation on demand and read its report; the schedule starts the others. */
export function reconciliationRoutes(reconciliations: Reconciliations): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'post',
      path: '/v1/reconciliations',
      operationId: 'startReconciliation',
      summary: 'Start a reconciliation of every bank ledger',
      description: 'Runs the reconciliation workflow now. Poll GET /v1/reconciliations/{reconciliationId} for its report.',
      tag: 'reconciliation',
      roles: ['operator'],
      responses: { 202: { description: 'Started', schema: reconciliationRunSchema } },
      handler: async ({ caller }) => ({ status: 202, body: await reconciliations.start(caller.name) }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/reconciliations',
      operationId: 'listReconciliations',
      summary: 'List reconciliation runs, scheduled and on demand',
      tag: 'reconciliation',
      roles: ['operator'],
      query: listReconciliationsQuerySchema,
      responses: { 200: { description: 'One page of runs, without their reports', schema: reconciliationPageSchema } },
      handler: async ({ query }) => {
        const page = await reconciliations.list(query.limit, query.cursor === undefined ? null : new Uint8Array(Buffer.from(query.cursor, 'base64url')));
        return { status: 200, body: { data: page.runs, nextCursor: page.nextPageToken ? Buffer.from(page.nextPageToken).toString('base64url') : null } };
      },
    }),
    defineRoute({
      method: 'get',
      path: '/v1/reconciliations/:reconciliationId',
      operationId: 'getReconciliation',
      summary: 'Get a reconciliation run and, once it has finished, its report',
      tag: 'reconciliation',
      roles: ['operator'],
      params: runParams,
      responses: { 200: { description: 'The run', schema: reconciliationRunSchema } },
      errors: { 404: ['NOT_FOUND'] },
      handler: async ({ params }) => {
        const run = await reconciliations.get(params.reconciliationId);
        if (!run) throw new ApiError('NOT_FOUND', `no reconciliation ${params.reconciliationId}`, 'reconciliationId');
        return { status: 200, body: run };
      },
    }),
  ];
}
