import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { encryptedEncoding } from '../../lib/crypto/payload-codec';
import { transferPatches } from '../../workflows/transfer-patches';
import { workflowInterceptorModules } from '../../services/worker/metrics';
import { workflowsPath } from '../../services/worker/transfer-worker';
import { payloadsOutsideSearchAttributes } from '../support/history-capture';
import { quietTemporalRuntime, testDataConverter } from '../support/temporal';

jest.setTimeout(120_000);

/**
 * Every recorded path of the saga must replay against the current workflow code. A change that
 * breaks this needs patched(). `npm run replay:capture` records the paths again: end to end on
 * the real cluster, and from the workflow tests (real server, scripted activities) the paths the
 * real stack cannot produce on demand (a lost answer, a cancel from the Web UI). The
 * pre-patch-*.json histories were recorded with the code before a patch; they cannot be
 * recorded again and prove that the old branch still replays.
 */
const historiesDir = join(__dirname, 'histories');
const historyFiles = readdirSync(historiesDir).filter((file) => file.endsWith('.json')).sort();
/** Paths the committed histories must cover; a missing one means the capture was incomplete. */
const expectedPaths = 105;
/** Its payloads are checked for ciphertext below. Every history is recorded with the tests' fixed codec keys, except the pre-patch ones (recorded in plaintext before the codec existed or before their patch). */
const encryptedHistory = 'encrypted-completed';

function histories() {
  return historyFiles.map((file) => ({ workflowId: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as unknown }));
}

describe('replay of recorded transfer histories', () => {
  beforeAll(() => quietTemporalRuntime());

  // With the worker's workflow interceptors, as production runs it: the metrics interceptor must add no command.
  test(`when all ${expectedPaths} recorded histories replay against the current workflow code, then none fails`, async () => {
    expect(historyFiles).toHaveLength(expectedPaths);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath, interceptors: { workflowModules: workflowInterceptorModules }, replayName: 'current-code', dataConverter: testDataConverter }, histories())) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(expectedPaths);
  });

  test('when a patch exists, then a history recorded before it and one that took it are both replayed', () => {
    const markersIn = (file: string): string[] =>
      [...readFileSync(join(historiesDir, file), 'utf8').matchAll(/"data": "([A-Za-z0-9+/=]+)"/g)]
        .map((match) => Buffer.from(match[1] ?? '', 'base64').toString('utf8'))
        .flatMap((text) => /^\{"id":"([a-z-]+)","deprecated":/.exec(text)?.[1] ?? []);
    // A pre-patch history may take an older patch: the events-only branch lives on, for transfers started before the record, only there.
    const taken = new Set(historyFiles.flatMap(markersIn));
    expect([...taken].sort()).toEqual(Object.values(transferPatches).sort());
    expect(historyFiles.filter((file) => file.startsWith('pre-patch-')).length).toBeGreaterThanOrEqual(Object.values(transferPatches).length);
  });

  test('when a history was recorded with payload encryption, then its payloads are encrypted and it replays with the codec only', async () => {
    const [encrypted] = histories().filter((entry) => entry.workflowId === encryptedHistory);
    expect(encrypted).toBeDefined();
    // Search attributes are plaintext by design; every other payload is ciphertext.
    const payloads = payloadsOutsideSearchAttributes(encrypted?.history);
    expect(payloads.length).toBeGreaterThanOrEqual(8);
    expect(new Set(payloads.map((payload) => payload.encoding))).toEqual(new Set([encryptedEncoding]));
    expect(payloads.filter((payload) => payload.data.toString('latin1').includes('alice'))).toEqual([]);
    await Worker.runReplayHistory({ workflowsPath, replayName: 'with-codec', dataConverter: testDataConverter }, encrypted?.history);
    const withoutCodec = await Worker.runReplayHistory({ workflowsPath, replayName: 'without-codec' }, encrypted?.history).catch((caught: unknown) => caught);
    expect(withoutCodec).toBeInstanceOf(Error);
  });

  test('when the workflow changes without patched(), then replay reports a determinism violation', async () => {
    const [completed] = histories().filter((entry) => entry.workflowId === 'completed');
    expect(completed).toBeDefined();
    const error = await Worker.runReplayHistory({ workflowsPath: require.resolve('./altered-workflow'), replayName: 'altered-code', dataConverter: testDataConverter }, completed?.history).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeterminismViolationError);
  });
});
