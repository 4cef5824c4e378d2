import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAccountActivities, type AccountActivitiesOptions } from '../../activities/account-activities';
import { failureConverterPath, transferDataConverter } from '../../lib/data-converter';
import type { CodecKey } from '../../lib/payload-codec';

export const workflowsPath = require.resolve('../../workflows/index');

/** Bundles the workflow code once, so that a worker starts from a prebuilt bundle. */
export async function bundleTransferWorkflows(): Promise<WorkflowBundleWithSourceMap> {
  // Webpack's statistics are noise in every start's log; warnings and errors still show.
  return bundleWorkflowCode({ workflowsPath, failureConverterPath, logger: new DefaultLogger('WARN') });
}

export interface TransferWorkerOptions extends AccountActivitiesOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  bundle: WorkflowBundleWithSourceMap;
  /** Payload encryption keys; see transferDataConverter. */
  codecKeys: readonly CodecKey[] | undefined;
}

/** The saga's worker: the transfer workflow plus activities signing every call to the banks. */
export async function createTransferWorker(options: TransferWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle,
    dataConverter: transferDataConverter(options.codecKeys),
    activities: createAccountActivities(options),
    // Activities are short HTTP calls; a graceful stop lets them finish.
    shutdownGraceTime: '10 seconds',
  });
}
