import type { AccountRef, TransferState, TransferStatus, TransferStep } from './transfer-contract';

/**
 * A transfer as clients see it, in the API's answers and in the events delivered to their
 * webhooks: the saga's state under the public field names. The API's OpenAPI schema describes
 * exactly this shape (services/transfer-api/schemas.ts checks it at compile time).
 */
export interface TransferView {
  id: string;
  status: TransferStatus;
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

/** The view of a transfer from the saga's state (as the workflow returns it, or the record holds it). */
export function transferView(state: TransferState): TransferView {
  return {
    id: state.transferId,
    status: state.status,
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
