import { transferIdOfWorkflowId, transferWorkflowId } from '../../../lib/contracts/transfer-contract';

describe('transfer workflow ids', () => {
  it.each(['t-1', 'transfer-2', 'a:b', ''])('gives back the transfer id %p from its workflow id', (transferId) => {
    expect(transferIdOfWorkflowId(transferWorkflowId(transferId))).toBe(transferId);
  });

  it.each(['reconciliation-5', 'webhook-t-1:transfer.completed:e1', 'Transfer-1', 'xtransfer-1'])('names no transfer for workflow id %p', (workflowId) => {
    expect(transferIdOfWorkflowId(workflowId)).toBeUndefined();
  });
});
