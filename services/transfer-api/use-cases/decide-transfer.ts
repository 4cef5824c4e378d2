import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http-errors';
import { isErrorCode } from '../../../lib/error-codes';
import type { TransferView } from '../schemas';
import { TransferNotReadyError, TransferUpdateRefusedError, type OperatorAction, type TransferWorkflows } from '../gateways/transfer-workflows';
import { transferView } from './transfer-view';

/** Approve, reject or cancel: a workflow update; the workflow's refusal becomes a 409 with its code. */
export async function decideTransfer(
  workflows: TransferWorkflows,
  caller: Caller,
  transferId: string,
  action: OperatorAction,
  comment: string | undefined,
): Promise<TransferView> {
  const record = await workflows.find(transferId);
  if (!record) throw new ApiError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
  const ended = () => new ApiError(action === 'cancel' ? 'TRANSFER_NOT_CANCELLABLE' : 'TRANSFER_NOT_AWAITING_APPROVAL', `transfer ${transferId} has already ended`);
  if (!record.running) throw ended();
  try {
    const state = await workflows.decide(transferId, action, { operator: caller.name, ...(comment === undefined ? {} : { comment }) });
    return transferView(state);
  } catch (error) {
    if (error instanceof TransferUpdateRefusedError) {
      const code = isErrorCode(error.code) && error.code.startsWith('TRANSFER_NOT_') ? error.code : action === 'cancel' ? 'TRANSFER_NOT_CANCELLABLE' : 'TRANSFER_NOT_AWAITING_APPROVAL';
      throw new ApiError(code, error.message);
    }
    // An ended transfer's workflow may still run for a moment (recording its last events); an
    // update that meets it closing fails without the workflow's refusal, so look again.
    if ((await workflows.find(transferId).catch(() => record))?.running === false) throw ended();
    if (error instanceof TransferNotReadyError) throw new ApiError('TEMPORARILY_UNAVAILABLE', `${error.message}; retry shortly`, undefined, { 'retry-after': '2' });
    throw error;
  }
}
