import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, makeTelemetryFilterString, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalBinaryPath } from '../../infra/binaries';
import { searchAttributeKeys } from '../../lib/search-attributes';
import { bundleTransferWorkflows } from '../../services/worker/transfer-worker';

let runtimeInstalled = false;

/** Only warnings and errors from the SDK in test output. */
export function quietTemporalRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const ignore = (): void => undefined;
  const print = (message: string, meta?: Record<string, unknown>): void => {
    process.stderr.write(`${message} ${meta ? JSON.stringify(meta) : ''}\n`);
  };
  Runtime.install({
    logger: { log: (level, message, meta) => (level === 'WARN' || level === 'ERROR' ? print(message, meta) : ignore()), trace: ignore, debug: ignore, info: ignore, warn: print, error: print },
    telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
  });
}

/** A dev server from the locally built Temporal CLI, with the project's search attributes. */
export async function localTemporal(): Promise<TestWorkflowEnvironment> {
  quietTemporalRuntime();
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: temporalBinaryPath() }, ip: '127.0.0.1', searchAttributes: searchAttributeKeys },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The production workflow bundle, built once per test process. */
export function transferBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleTransferWorkflows();
  return bundle;
}
