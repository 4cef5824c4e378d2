import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { closeCurrentSettlementWindowWorkflowType, settlementWindowScheduleId, type SettlementWindowInput } from '../../workflows/settlement-window-definitions';

/**
 * Closes the open settlement window every `intervalMinutes` (SETTLEMENT_WINDOW_MINUTES; 0 removes
 * the schedule, windows then close on request only). Every API instance calls it at start; the
 * first creates the schedule, the others bring it up to date.
 */
export async function ensureSettlementWindowSchedule(client: Client, taskQueue: string, intervalMinutes: number, scope: Omit<SettlementWindowInput, 'windowId' | 'requestedBy'>): Promise<'created' | 'updated' | 'removed'> {
  const handle = client.schedule.getHandle(settlementWindowScheduleId);
  if (intervalMinutes === 0) {
    await handle.delete().catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
    return 'removed';
  }
  const input: Omit<SettlementWindowInput, 'windowId'> = { ...scope, requestedBy: 'schedule' };
  const action = { type: 'startWorkflow' as const, workflowType: closeCurrentSettlementWindowWorkflowType, workflowId: 'settlement-window-close', taskQueue, args: [input] };
  const spec = { intervals: [{ every: intervalMinutes * 60_000 }] };
  try {
    await client.schedule.create({ scheduleId: settlementWindowScheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await handle.update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}
