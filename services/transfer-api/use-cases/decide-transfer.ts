import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http/errors';
import { isErrorCode } from '../../../lib/contracts/error-codes';
import type { TransferView } from '../schemas';
import { TransferNotReadyError, TransferUpdateRefusedError, type OperatorAction } from '../gateways/transfer-workflows';
import { isTerminalStatus } from '../../../lib/contracts/transfer-contract';
import { recordedState } from '../../../lib/record/transfer-record';
import type { TransferUseCaseDeps } from './recorded-transfers';
import { transferView } from '../../../lib/contracts/transfer-view';
import { transferIdentifiers } from '../../../lib/record/transfer-identifiers';

/**
 * Approve, reject or cancel: a workflow update; the workflow's refusal becomes a 409 with its code.
 * The deciding operator is the authenticated caller; with four eyes, never the transfer's creator.
 */
export async function decideTransfer(deps: TransferUseCaseDeps & { fourEyes: boolean }, caller: Caller, transferId: string, action: OperatorAction, comment: string | undefined): Promise<TransferView> {
  const { workflows } = deps;
  const recorded = await deps.records.find(transferId);
  if (!recorded) throw new ApiError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
  if (deps.fourEyes && action !== 'cancel' && recorded.record.client === caller.name) {
    throw new ApiError('SAME_OPERATOR', `${caller.name} created transfer ${transferId}; another operator must ${action} it (APPROVAL_FOUR_EYES)`);
  }
  const ended = (why = 'has already ended') => new ApiError(action === 'cancel' ? 'TRANSFER_NOT_CANCELLABLE' : 'TRANSFER_NOT_AWAITING_APPROVAL', `transfer ${transferId} ${why}`);
  if (isTerminalStatus(recordedState(recorded).status)) throw ended();
  const workflow = await workflows.describe(transferId);
  if (!workflow?.running) throw ended('has no running workflow (see needsAttention; an operator repairs it)');
  try {
    const state = await workflows.decide(transferId, action, { operator: caller.name, ...(comment === undefined ? {} : { comment }) });
    return transferView(state, transferIdentifiers(transferId, recorded.record));
  } catch (error) {
    if (error instanceof TransferUpdateRefusedError) {
      const code = isErrorCode(error.code) && error.code.startsWith('TRANSFER_NOT_') ? error.code : action === 'cancel' ? 'TRANSFER_NOT_CANCELLABLE' : 'TRANSFER_NOT_AWAITING_APPROVAL';
      throw new ApiError(code, error.message);
    }
    // An ended transfer's workflow may still run for a moment (recording its last events); an
    // update that meets it closing fails without the workflow's refusal, so look again.
    if ((await workflows.describe(transferId).catch(() => workflow))?.running === false) throw ended();
    if (error instanceof TransferNotReadyError) throw new ApiError('TEMPORARILY_UNAVAILABLE', `${error.message}; retry shortly`, undefined, { 'retry-after': '2' });
    throw error;
  }
}
