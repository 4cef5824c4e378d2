/** The worker's workflowsPath: every workflow type the task queue runs. */
export { transferWorkflow } from './transfer-workflow';
export { reconciliationWorkflow } from './reconciliation-workflow';
export { webhookDeliveryWorkflow } from './webhook-delivery-workflow';
export { closeCurrentSettlementWindowWorkflow, settlementWindowWorkflow } from './settlement-window-workflow';
