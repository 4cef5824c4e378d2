/** The settlement window workflow's outside surface, shared by the worker, the API and the schedule. */
export const settlementWindowWorkflowType = 'settlementWindowWorkflow';
export const closeCurrentSettlementWindowWorkflowType = 'closeCurrentSettlementWindowWorkflow';
export const settlementWindowScheduleId = 'settlement-window-close';

export function settlementWindowWorkflowId(windowId: string): string {
  return `settlement-window-${windowId}`;
}

export interface SettlementWindowInput {
  windowId: string;
  participants: string[];
  currencies: string[];
  /** Who closed it: an operator's name, or `schedule`. */
  requestedBy: string;
}
