import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http/errors';
import type { TransferView } from '../schemas';
import { viewOf, type TransferUseCaseDeps } from './recorded-transfers';

/** A client sees its own transfers only; another client's transfer does not exist for it. */
function visibleTo(caller: Caller, requestedBy: string): boolean {
  return caller.role === 'operator' || caller.name === requestedBy;
}

/** Answers from the record: a transfer Temporal no longer has (retention, delete) reads the same. */
export async function getTransfer(deps: TransferUseCaseDeps, caller: Caller, transferId: string): Promise<TransferView> {
  const recorded = await deps.records.find(transferId);
  if (!recorded || !visibleTo(caller, recorded.record.client)) throw new ApiError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
  return viewOf(deps, recorded);
}
