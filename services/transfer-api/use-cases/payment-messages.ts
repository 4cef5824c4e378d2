import { randomUUID } from 'node:crypto';
import { ApiError } from '../../../lib/http/errors';
import { renderPacs002 } from '../../../lib/iso20022/pacs002';
import { renderPacs004 } from '../../../lib/iso20022/pacs004';
import type { MessageHeader, ReportedTransfer } from '../../../lib/iso20022/payment-report';
import type { Caller } from '../http/auth';
import type { TransferView } from '../schemas';
import { getTransfer } from './read-transfers';
import type { TransferUseCaseDeps } from './recorded-transfers';

/** What the ISO 20022 renders of a transfer need beside the transfer use cases: the banks' BICs (BANK_BICS). */
export interface PaymentMessageDeps extends TransferUseCaseDeps {
  bicByBank: ReadonlyMap<string, string>;
}

function reported(view: TransferView): ReportedTransfer {
  return {
    transferId: view.id,
    uetr: view.uetr,
    endToEndId: view.endToEndId,
    status: view.status,
    ...(view.reason === undefined ? {} : { reason: view.reason }),
    source: view.source,
    target: view.target,
    amountMinor: BigInt(view.amountMinor),
    currency: view.currency,
    reference: view.reference,
    createdAt: view.createdAt,
    updatedAt: view.updatedAt,
  };
}

/** Each render is a message of its own: a random id (32 hex digits, within Max35Text) and the time it was made. */
function header(deps: PaymentMessageDeps, now: Date): MessageHeader {
  return { messageId: randomUUID().replace(/-/g, ''), createdAt: now.toISOString(), bicByBank: deps.bicByBank };
}

/** The transfer's pacs.002 status report, as GET /v1/transfers/{id} sees it (a client, its own transfers only). */
export async function paymentStatusReport(deps: PaymentMessageDeps, caller: Caller, transferId: string, now: Date = new Date()): Promise<string> {
  const view = await getTransfer(deps, caller, transferId);
  return renderPacs002(reported(view), header(deps, now));
}

/** The pacs.004 return of a REFUNDED transfer; any other is 409 TRANSFER_NOT_RETURNED. */
export async function paymentReturn(deps: PaymentMessageDeps, caller: Caller, transferId: string, now: Date = new Date()): Promise<string> {
  const view = await getTransfer(deps, caller, transferId);
  if (view.status !== 'REFUNDED') throw new ApiError('TRANSFER_NOT_RETURNED', `transfer ${transferId} is ${view.status}: only a REFUNDED transfer has a payment return`);
  return renderPacs004(reported(view), header(deps, now));
}
