import { sleep } from '@temporalio/workflow';
import type { TransferInput, TransferState } from '../../../lib/contracts/transfer-contract';
import { transferWorkflow as currentTransferWorkflow } from '../../../workflows/transfer-workflow';

/**
 * The transfer workflow with a change made without patched(): a timer before everything
 * else. Replaying a recorded history against it must fail with a determinism error.
 */
export async function transferWorkflow(input: TransferInput): Promise<TransferState> {
  await sleep('1 millisecond');
  return currentTransferWorkflow(input);
}
