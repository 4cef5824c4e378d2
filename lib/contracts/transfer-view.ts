import type { AccountRef, TransferState, TransferStatus, TransferStep } from './transfer-contract';
import { isoReasonCode, isoTransactionStatus, type IsoTransactionStatus } from '../iso20022/status-codes';

/**
 * A transfer as clients see it, in the API's answers and in the events delivered to their
 * webhooks: the saga's state under the public field names. The API's OpenAPI schema describes
 * exactly this shape (services/transfer-api/schemas.ts checks it at compile time).
 */
export interface TransferView {
  id: string;
  /** Unique End-to-end Transaction Reference (UUID v4, lower case). */
  uetr: string;
  /** The client's end-to-end id, null when it gave none. */
  endToEndId: string | null;
  status: TransferStatus;
  /** The status as pacs.002 reports it (lib/iso20022/status-codes.ts). */
  isoStatus: IsoTransactionStatus;
  /** The reason's external status reason code (its return reason code when REFUNDED); null without a reason. */
  isoReasonCode: string | null;
  source: AccountRef;
  target: AccountRef;
  amountMinor: string;
  currency: string;
  reference: string | null;
  reason?: string;
  needsAttention: boolean;
  attentionReason?: string;
  requestedBy: string;
  createdAt: string;
  updatedAt: string;
  steps: TransferStep[];
  settlementWindowId?: string;
}

/** The payment identifiers the record holds for a transfer (lib/record/transfer-identifiers.ts); the saga's state has none. */
export interface ViewIdentifiers {
  uetr: string;
  endToEndId: string | null;
}

/** The view of a transfer from the saga's state (as the workflow returns it, or the record holds it) and its record's identifiers. */
export function transferView(state: TransferState, identifiers: ViewIdentifiers): TransferView {
  return {
    id: state.transferId,
    uetr: identifiers.uetr,
    endToEndId: identifiers.endToEndId,
    status: state.status,
    isoStatus: isoTransactionStatus(state.status),
    isoReasonCode: isoReasonCode(state.status, state.reason),
    source: state.source,
    target: state.target,
    amountMinor: state.amountMinor,
    currency: state.currency,
    reference: state.reference ?? null,
    ...(state.reason === undefined ? {} : { reason: state.reason }),
    needsAttention: state.needsAttention,
    ...(state.attentionReason === undefined ? {} : { attentionReason: state.attentionReason }),
    requestedBy: state.requestedBy,
    createdAt: state.createdAt,
    updatedAt: state.updatedAt,
    steps: state.steps,
    ...(state.settlementWindowId === undefined ? {} : { settlementWindowId: state.settlementWindowId }),
  };
}
