import { z } from 'zod';
import { pacs002Message } from '../../../lib/iso20022/pacs002';
import { pacs004Message } from '../../../lib/iso20022/pacs004';
import { defineRoute, type AnyRouteSpec } from '../http/route-table';
import { transferIdSchema } from '../schemas';
import { paymentReturn, paymentStatusReport, type PaymentMessageDeps } from '../use-cases/payment-messages';

const transferParams = z.strictObject({ id: transferIdSchema });
const visibility = 'A client reads its own transfers only (another client\'s is 404 TRANSFER_NOT_FOUND); operators read every one.';

/** A transfer's ISO 20022 messages, rendered from the record (docs/iso20022.md). */
export function iso20022Routes(deps: PaymentMessageDeps): AnyRouteSpec[] {
  return [
    defineRoute({
      method: 'get',
      path: '/v1/transfers/:id/pacs002',
      operationId: 'getTransferPacs002',
      summary: "Get a transfer's pacs.002 status report",
      description: `A ${pacs002Message} FIToFIPmtStsRpt of the transfer as GET /v1/transfers/{id} shows it: its ISO status (isoStatus) as group and transaction status, the reason code (isoReasonCode) with the project's reason, its UETR, end-to-end id and agents. ${visibility}`,
      tag: 'transfers',
      roles: ['client', 'operator'],
      params: transferParams,
      responses: { 200: { description: `The status report (${pacs002Message})`, schema: z.string(), mediaType: 'application/xml' } },
      errors: { 404: ['TRANSFER_NOT_FOUND'] },
      handler: async ({ params, caller }) => ({ status: 200, body: await paymentStatusReport(deps, caller, params.id), contentType: 'application/xml' }),
    }),
    defineRoute({
      method: 'get',
      path: '/v1/transfers/:id/pacs004',
      operationId: 'getTransferPacs004',
      summary: "Get a returned transfer's pacs.004 payment return",
      description: `A ${pacs004Message} PmtRtr of a REFUNDED transfer: its whole amount returned to the source, with the return reason code (isoReasonCode) and the project's reason. ${visibility}`,
      tag: 'transfers',
      roles: ['client', 'operator'],
      params: transferParams,
      responses: { 200: { description: `The payment return (${pacs004Message})`, schema: z.string(), mediaType: 'application/xml' } },
      errors: { 404: ['TRANSFER_NOT_FOUND'], 409: { codes: ['TRANSFER_NOT_RETURNED'], description: 'TRANSFER_NOT_RETURNED: the transfer is not REFUNDED (in flight, completed, rejected or cancelled); its pacs.002 says where it stands.' } },
      handler: async ({ params, caller }) => ({ status: 200, body: await paymentReturn(deps, caller, params.id), contentType: 'application/xml' }),
    }),
  ];
}
