import { proxyActivities } from '@temporalio/workflow';
import type { createNoopActivities } from '../noop-activities';

const { first, second } = proxyActivities<ReturnType<typeof createNoopActivities>>({ startToCloseTimeout: '10 seconds' });

/** The baseline: a workflow with two no-op activities, the shape of a saga without any ledger. */
export async function bareTwoActivityWorkflow(): Promise<void> {
  await first();
  await second();
}
