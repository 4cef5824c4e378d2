import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime, makeTelemetryFilterString, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { temporalBinaryPath } from '../../infra/binaries';
import { transferDataConverter } from '../../lib/temporal/data-converter';
import { payloadCodecKeysSchema } from '../../lib/crypto/payload-codec';
import { searchAttributeKeys } from '../../lib/contracts/search-attributes';
import { bundleTransferWorkflows } from '../../services/worker/transfer-worker';
import { createAuthorityActivities } from '../../activities/authority-activities';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { signOperatorDecision, type DecisionAction } from '../../lib/crypto/transfer-authority';
import type { OperatorDecision } from '../../lib/contracts/transfer-contract';

/**
 * Fixed payload codec keys of the tests, committed on purpose: histories captured by tests are
 * encrypted with them, and the replay test decodes them with the same keys. Never used outside tests.
 */
export const testCodecKeysSetting = 'test-codec-2:dGVzdC1jb2RlYy1rZXktMi0wMTIzNDU2Nzg5YWJjZGU=,test-codec-1:dGVzdC1jb2RlYy1rZXktMS0wMTIzNDU2Nzg5YWJjZGU=';
export const testCodecKeys = payloadCodecKeysSchema.parse(testCodecKeysSetting);
/** The data converter of every Temporal client and worker the tests make. */
export const testDataConverter = transferDataConverter(testCodecKeys);

/** The tests' transfer authority key: the API's half signs with it, test workers verify with it. */
export const testAuthorityKey: SigningKey = { keyId: 'test-authority-1', secret: 'test-authority-secret-0123456789abcdef' };
/** The signature checks of a worker that trusts only testAuthorityKey, for workers built with scripted activities. */
export const testAuthorityActivities = createAuthorityActivities([testAuthorityKey]);

/** A decision as the transfer API sends it: signed for this transfer and action. */
export function signedDecision(transferId: string, action: DecisionAction, decision: OperatorDecision): OperatorDecision {
  return signOperatorDecision(testAuthorityKey, transferId, action, decision);
}

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
    client: { dataConverter: testDataConverter },
    server: { executable: { type: 'existing-path', path: temporalBinaryPath() }, ip: '127.0.0.1', searchAttributes: searchAttributeKeys },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The production workflow bundle, built once per test process. */
export function transferBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleTransferWorkflows();
  return bundle;
}
