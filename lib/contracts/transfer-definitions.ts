import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { OperatorDecision, TransferInput, TransferState } from './transfer-contract';

/**
 * The transfer workflow's outside surface: its type name, its query and its operator
 * updates. Clients (the transfer API, the operator CLI, tests) import these definitions,
 * the workflow implements them. Each update answers with the transfer's state after it.
 */
export const transferWorkflowType = 'transferWorkflow';

/** The transfer workflow's signature, for clients that start it by its type name. */
export type TransferWorkflow = (input: TransferInput) => Promise<TransferState>;

export const transferStateQuery = defineQuery<TransferState>('transferState');

/** Allowed only while AWAITING_APPROVAL; refused with TRANSFER_NOT_AWAITING_APPROVAL. */
export const approveUpdate = defineUpdate<TransferState, [OperatorDecision]>('approve');
/** Allowed only while AWAITING_APPROVAL; refused with TRANSFER_NOT_AWAITING_APPROVAL. */
export const rejectUpdate = defineUpdate<TransferState, [OperatorDecision]>('reject');
/** Allowed until the credit has succeeded; refused with TRANSFER_NOT_CANCELLABLE. */
export const cancelUpdate = defineUpdate<TransferState, [OperatorDecision]>('cancel');
