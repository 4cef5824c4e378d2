import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAccountActivities, type AccountActivitiesOptions } from '../../activities/account-activities';
import { createEventActivities, type EventActivitiesOptions } from '../../activities/event-activities';

export const workflowsPath = require.resolve('../../workflows/index');

/** The task queue of webhook POSTs, beside the saga's: a slow receiver never takes a saga slot. */
export function webhookTaskQueue(taskQueue: string): string {
  return `${taskQueue}-webhooks`;
}

/** Bundles the workflow code once, so that a worker starts from a prebuilt bundle. */
export async function bundleTransferWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  // Webpack's statistics are noise in every start's log; warnings and errors still show.
  return bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('WARN') });
}

export interface TransferWorkerOptions extends AccountActivitiesOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  bundle: WorkflowBundleWithSourceMap;
  /** The event feed and webhook deliveries; without it transfers must start without a webhook policy. */
  events?: EventActivitiesOptions;
}

/** The saga's worker: the transfer workflow plus activities signing every call to the banks. */
export async function createTransferWorker(options: TransferWorkerOptions): Promise<Worker> {
  const events = options.events ? createEventActivities(options.events) : undefined;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle,
    activities: { ...createAccountActivities(options), ...(events ? { recordTransferEvent: events.recordTransferEvent } : {}) },
    // Activities are short HTTP calls; a graceful stop lets them finish.
    shutdownGraceTime: '10 seconds',
  });
}

/** Runs only the webhook POSTs, on their own task queue and slots. */
export async function createWebhookWorker(options: { connection: NativeConnection; namespace: string; taskQueue: string; events: EventActivitiesOptions }): Promise<Worker> {
  const events = createEventActivities(options.events);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: webhookTaskQueue(options.taskQueue),
    activities: { deliverWebhook: events.deliverWebhook },
    // Each attempt is bounded by WEBHOOK_REQUEST_TIMEOUT_MS; many receivers may be slow at once.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '10 seconds',
  });
}
