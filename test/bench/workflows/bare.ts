import { proxyActivities, upsertSearchAttributes } from '@temporalio/workflow';
import { searchAttributes } from '../../../lib/contracts/search-attributes';
import type { createNoopActivities } from '../noop-activities';

const { first, second } = proxyActivities<ReturnType<typeof createNoopActivities>>({ startToCloseTimeout: '10 seconds' });

/** The baseline: a workflow with two no-op activities, the shape of a saga without any ledger. */
export async function bareTwoActivityWorkflow(): Promise<void> {
  await first();
  await second();
}

/**
 * The baseline plus the saga's visibility work and nothing else: started with the saga's search
 * attributes (by the benchmark), it records TransferStatus after each activity as the saga does
 * (DEBITED, COMPLETED). The gap between the two bare arms is what visibility costs the server.
 */
export async function bareWithVisibilityWorkflow(): Promise<void> {
  await first();
  upsertSearchAttributes([{ key: searchAttributes.transferStatus, value: 'DEBITED' }]);
  await second();
  upsertSearchAttributes([{ key: searchAttributes.transferStatus, value: 'COMPLETED' }]);
}
