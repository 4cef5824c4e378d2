import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction } from '@temporalio/client';

/**
 * A Temporal schedule that starts `action` every `intervalMinutes`, one run at a time (an overlap
 * is skipped, a missed start is caught up for a minute). Every process that owns it calls this at
 * start: the first creates it, the others bring its interval and action up to date.
 */
export async function ensureIntervalSchedule(client: Client, scheduleId: string, intervalMinutes: number, action: ScheduleOptionsAction): Promise<'created' | 'updated'> {
  const spec = { intervals: [{ every: intervalMinutes * 60_000 }] };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await client.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
    return 'updated';
  }
}

/** Removes the schedule if it exists. */
export async function removeSchedule(client: Client, scheduleId: string): Promise<void> {
  await client.schedule
    .getHandle(scheduleId)
    .delete()
    .catch((error: unknown) => {
      if (!(error instanceof ScheduleNotFoundError)) throw error;
    });
}
