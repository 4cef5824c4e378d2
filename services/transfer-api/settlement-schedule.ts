import type { Client } from '@temporalio/client';
import { ensureIntervalSchedule, removeSchedule } from '../../lib/temporal/interval-schedule';
import { closeCurrentSettlementWindowWorkflowType, settlementWindowScheduleId, type SettlementWindowInput } from '../../workflows/settlement-window-definitions';

/**
 * Closes the open settlement window every `intervalMinutes` (SETTLEMENT_WINDOW_MINUTES; 0 removes
 * the schedule, windows then close on request only). Every API instance calls it at start.
 */
export async function ensureSettlementWindowSchedule(client: Client, taskQueue: string, intervalMinutes: number, scope: Omit<SettlementWindowInput, 'windowId' | 'requestedBy'>): Promise<'created' | 'updated' | 'removed'> {
  if (intervalMinutes === 0) {
    await removeSchedule(client, settlementWindowScheduleId);
    return 'removed';
  }
  const input: Omit<SettlementWindowInput, 'windowId'> = { ...scope, requestedBy: 'schedule' };
  return ensureIntervalSchedule(client, settlementWindowScheduleId, intervalMinutes, { type: 'startWorkflow', workflowType: closeCurrentSettlementWindowWorkflowType, workflowId: 'settlement-window-close', taskQueue, args: [input] });
}
