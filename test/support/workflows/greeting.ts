import { proxyActivities } from '@temporalio/workflow';
import type { createGreetingActivities } from '../greeting-activities';

const { composeGreeting } = proxyActivities<ReturnType<typeof createGreetingActivities>>({ startToCloseTimeout: '10 seconds' });

/** The smallest real workflow: one activity, one result. Proves a worker runs against the built dev server. */
export async function greetingWorkflow(name: string): Promise<string> {
  return await composeGreeting(name);
}
