import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** `npm run replay:capture` sets this so that tests write the histories of the paths they run. */
export const captureHistoriesDir = process.env.CAPTURE_HISTORIES_DIR;

/** Writes a workflow's history, in the JSON form `Worker.runReplayHistories` reads, when capturing. */
export async function captureHistory(handle: WorkflowHandle, name: string, dir = captureHistoriesDir): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}
