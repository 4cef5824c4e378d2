import { proxyActivities, sleep } from '@temporalio/workflow';

export interface CompensationRoundActivities {
  failingCompensation: () => Promise<void>;
}

/**
 * The command shape of a compensation retried in rounds by the workflow, as the transfer saga ran
 * it before compensation-retries-in-activity: a round of `attemptsPerRound` activity attempts, then
 * a pause on a timer, again and again. With 1 ms intervals it shows in seconds what a bank down for
 * hours did to a transfer's history.
 */
export async function compensationRoundsWorkflow(attemptsPerRound: number): Promise<void> {
  const { failingCompensation } = proxyActivities<CompensationRoundActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 millisecond', maximumAttempts: attemptsPerRound },
  });
  for (;;) {
    try {
      return await failingCompensation();
    } catch {
      await sleep(1);
    }
  }
}
