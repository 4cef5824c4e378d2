import { ApiError } from '../../../lib/http/errors';
import { isTerminalStatus } from '../../../lib/contracts/transfer-contract';
import { recordedState } from '../../../lib/record/transfer-record';
import type { TransferView } from '../schemas';
import { inputOf, startSaga, viewOf, type TransferUseCaseDeps } from './recorded-transfers';

/**
 * Finishes a transfer whose workflow stopped before it ended (terminated, or deleted) through a new
 * run under the same transfer id, which takes its facts from the ledgers: the credit's slot is voided
 * unless the credit holds it, then the source is refunded (a debit that never happened is voided).
 * A transfer whose saga never started is simply started.
 */
export async function repairTransfer(deps: TransferUseCaseDeps, transferId: string): Promise<TransferView> {
  const recorded = await deps.records.find(transferId);
  if (!recorded) throw new ApiError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
  const refuse = (why: string) => new ApiError('TRANSFER_NOT_REPAIRABLE', `transfer ${transferId} ${why}`);
  const status = recordedState(recorded).status;
  if (isTerminalStatus(status)) throw refuse(`has ended ${status}`);
  const workflow = await deps.workflows.describe(transferId);
  if (workflow?.running) throw refuse('has a running workflow');
  const { record } = recorded;
  const outcome = !recorded.latest && !workflow ? await startSaga(deps, record) : await deps.workflows.startRepair(inputOf(record, deps.policy, { repair: true }), { requestedBy: record.client, createdAt: record.createdAt });
  if (outcome === 'already-exists') throw refuse(`has a workflow that completed or is running (${workflow?.status ?? 'just started'})`);
  return viewOf(deps, recorded);
}
