import type { TransferState } from '../../../lib/contracts/transfer-contract';
import type { TransferView } from '../schemas';

/** The API's shape of a transfer, from the saga's state. */
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
