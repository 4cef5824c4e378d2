import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { waitUntilReady } from '../readiness';
import type { ManagedProcess } from './managed-process';

/**
 * A worker is ready when Temporal sees it polling its task queue. Pollers of a killed worker
 * linger for a while, so this looks for this process's own identity (`<pid>@<host>` by default).
 */
export async function workerPolling(worker: ManagedProcess, address: string, namespace: string, taskQueue: string, timeoutMs = 120_000): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await waitUntilReady(
      worker,
      `worker polling task queue ${taskQueue}`,
      async () => {
        const answer = await connection.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: taskQueue },
          taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        return (answer.pollers ?? []).some((poller) => poller.identity?.startsWith(`${worker.pid}@`) === true);
      },
      { timeoutMs, intervalMs: 250 },
    );
  } finally {
    await connection.close();
  }
}
