import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { workflowsPath } from '../../services/worker/transfer-worker';
import { quietTemporalRuntime } from '../support/temporal';

jest.setTimeout(120_000);

/**
 * Every recorded path of the saga (captured from real runs by `npm run replay:capture`)
 * must replay against the current workflow code. A change that breaks this needs patched().
 */
const historiesDir = join(__dirname, 'histories');
const historyFiles = readdirSync(historiesDir).filter((file) => file.endsWith('.json')).sort();
/** Paths the committed histories must cover; a missing one means the capture was incomplete. */
const expectedPaths = 14;

function histories() {
  return historyFiles.map((file) => ({ workflowId: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as unknown }));
}

describe('replay of recorded transfer histories', () => {
  beforeAll(() => quietTemporalRuntime());

  test(`when all ${expectedPaths} recorded histories replay against the current workflow code, then none fails`, async () => {
    expect(historyFiles).toHaveLength(expectedPaths);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath, replayName: 'current-code' }, histories())) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(expectedPaths);
  });

  test('when the workflow changes without patched(), then replay reports a determinism violation', async () => {
    const [completed] = histories().filter((entry) => entry.workflowId === 'completed');
    expect(completed).toBeDefined();
    const error = await Worker.runReplayHistory({ workflowsPath: require.resolve('./altered-workflow'), replayName: 'altered-code' }, completed?.history).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeterminismViolationError);
  });
});
