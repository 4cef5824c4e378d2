import type { Caller } from '../http/auth';
import { ApiError } from '../../../lib/http-errors';
import type { ListTransfersQuery, TransferView } from '../schemas';
import { TransferNotReadyError, type TransferWorkflows } from '../gateways/transfer-workflows';
import { transferView } from './transfer-view';

/** A client sees its own transfers only; another client's transfer does not exist for it. */
function visibleTo(caller: Caller, requestedBy: string): boolean {
  return caller.role === 'operator' || caller.name === requestedBy;
}

export async function getTransfer(workflows: TransferWorkflows, caller: Caller, transferId: string): Promise<TransferView> {
  const record = await workflows.find(transferId);
  if (!record || !visibleTo(caller, record.memo.requestedBy)) throw new ApiError('TRANSFER_NOT_FOUND', `no transfer ${transferId}`);
  return transferView(await stateOrUnavailable(workflows, transferId, record.running));
}

/** A running transfer's state comes from the worker; when it does not answer, say so instead of hanging. */
async function stateOrUnavailable(workflows: TransferWorkflows, transferId: string, running: boolean) {
  try {
    return await workflows.state(transferId, running);
  } catch (error) {
    if (error instanceof TransferNotReadyError) throw new ApiError('TEMPORARILY_UNAVAILABLE', `${error.message}; retry shortly`, undefined, { 'retry-after': '2' });
    throw error;
  }
}

function encodeCursor(token: Uint8Array | null): string | null {
  return token && token.length > 0 ? Buffer.from(token).toString('base64url') : null;
}

function decodeCursor(cursor: string | undefined): Uint8Array | null {
  return cursor === undefined ? null : new Uint8Array(Buffer.from(cursor, 'base64url'));
}

export async function listTransfers(workflows: TransferWorkflows, caller: Caller, query: ListTransfersQuery): Promise<{ data: TransferView[]; nextCursor: string | null }> {
  const page = await workflows.list(
    {
      ...(query.status ? { status: query.status } : {}),
      ...(query.sourceBank ? { sourceBank: query.sourceBank } : {}),
      ...(query.targetBank ? { targetBank: query.targetBank } : {}),
      ...(query.account ? { account: query.account } : {}),
      ...(query.needsAttention ? { needsAttention: query.needsAttention === 'true' } : {}),
      ...(caller.role === 'client' ? { requestedBy: caller.name } : {}),
    },
    query.limit,
    decodeCursor(query.cursor),
  );
  const data = await Promise.all(
    page.transferIds.map(async (transferId) => {
      const record = await workflows.find(transferId);
      return record ? transferView(await stateOrUnavailable(workflows, transferId, record.running)) : undefined;
    }),
  );
  return { data: data.filter((item): item is TransferView => item !== undefined), nextCursor: encodeCursor(page.nextPageToken) };
}
