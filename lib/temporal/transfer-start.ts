import { WorkflowIdConflictPolicy, WorkflowIdReusePolicy, type Client, type WorkflowHandle } from '@temporalio/client';
import { TypedSearchAttributes } from '@temporalio/common';
import { transferWorkflowType, type TransferWorkflow } from '../contracts/transfer-definitions';
import type { SigningKey } from '../crypto/request-signing';
import { searchAttributes } from '../contracts/search-attributes';
import { signTransferInput } from '../crypto/transfer-authority';
import { transferTaskQueue, transferWorkflowId, type TransferInput } from '../contracts/transfer-contract';

export interface StartTransferOptions {
  /** The transfer authority key the input is signed with; the worker refuses an input it cannot verify. */
  authorityKey: SigningKey;
  taskQueue?: string;
  /** Extra memo fields (the reference is always added); payloads, so encrypted when a codec is on. */
  memo?: Record<string, unknown>;
  /**
   * A repair run may follow a run that stopped without completing (terminated, failed, timed out,
   * cancelled); a completed transfer is never run again.
   */
  repair?: boolean;
}

/**
 * The search attributes a transfer starts with. The workflow keeps TransferStatus and
 * NeedsAttention current; the others never change. Ids and amounts only: no names, no reference.
 */
export function initialTransferSearchAttributes(input: TransferInput): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: searchAttributes.transferStatus, value: 'PENDING' },
    { key: searchAttributes.sourceBank, value: input.source.bankId },
    { key: searchAttributes.targetBank, value: input.target.bankId },
    { key: searchAttributes.sourceAccount, value: input.source.accountId },
    { key: searchAttributes.targetAccount, value: input.target.accountId },
    // An Int attribute; TRANSFER_MAX_MINOR keeps amounts within Number.MAX_SAFE_INTEGER.
    { key: searchAttributes.amountMinor, value: Number(input.amountMinor) },
    { key: searchAttributes.currency, value: input.currency },
    { key: searchAttributes.needsAttention, value: false },
    { key: searchAttributes.requestedBy, value: input.requestedBy },
  ]);
}

/**
 * Starts one transfer's saga, its input signed: workflow id from the transfer id, never reused (REJECT_DUPLICATE,
 * and FAIL while one runs: a second start throws WorkflowExecutionAlreadyStartedError), the
 * reference in the memo, the search attributes set from the start.
 */
export function startTransfer(client: Client, input: TransferInput, options: StartTransferOptions): Promise<WorkflowHandle<TransferWorkflow>> {
  return client.workflow.start<TransferWorkflow>(transferWorkflowType, {
    taskQueue: options.taskQueue ?? transferTaskQueue,
    workflowId: transferWorkflowId(input.transferId),
    args: [signTransferInput(options.authorityKey, input)],
    workflowIdReusePolicy: options.repair ? WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY : WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.FAIL,
    memo: { ...options.memo, ...(input.reference === undefined ? {} : { reference: input.reference }) },
    typedSearchAttributes: initialTransferSearchAttributes(input),
  });
}
