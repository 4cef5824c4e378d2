import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';

/** `npm run replay:capture` sets this so that tests write the histories of the paths they run. */
export const captureHistoriesDir = process.env.CAPTURE_HISTORIES_DIR;

/** Writes a workflow's history, in the JSON form `Worker.runReplayHistories` reads, when capturing. */
export async function captureHistory(handle: WorkflowHandle, name: string, dir = captureHistoriesDir): Promise<void> {
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), historyToJSON(await handle.fetchHistory()));
}

/** When capturing: connects to a cluster's Temporal and writes one workflow's history (its latest run). */
export async function captureWorkflowHistory(cluster: { temporalAddress: string; namespace: string }, workflowId: string, name: string): Promise<void> {
  if (!captureHistoriesDir) return;
  const connection = await Connection.connect({ address: cluster.temporalAddress });
  try {
    await captureHistory(new Client({ connection, namespace: cluster.namespace }).workflow.getHandle(workflowId), name);
  } finally {
    await connection.close();
  }
}

export interface HistoryPayload {
  path: string;
  encoding: string;
  data: Buffer;
}

/**
 * Every payload in a history (from fetchHistory or a JSON file) except the search attributes,
 * which Temporal indexes in plaintext by design, and patch markers' data, which the SDK core
 * writes itself (`{"id":"<patch id>","deprecated":false}`, no business data) without the data
 * converter, and the like of local activity markers (isLocalActivityMarkerData). Bytes may be Buffers, Uint8Arrays or base64.
 */
/**
 * A local activity's marker holds two payloads: `result`, the activity's answer through the data
 * converter (encrypted like any other), and `data`, which the SDK core writes itself: the activity's
 * sequence number, id, type, attempt and time (no business data), without the data converter.
 */
function isLocalActivityMarkerData(path: string, key: string): boolean {
  return key === 'data' && path.endsWith('.markerRecordedEventAttributes.details');
}

export function payloadsOutsideSearchAttributes(history: unknown): HistoryPayload[] {
  const bytes = (value: unknown): Buffer => (typeof value === 'string' ? Buffer.from(value, 'base64') : value instanceof Uint8Array ? Buffer.from(value) : Buffer.alloc(0));
  const found: HistoryPayload[] = [];
  const walk = (node: unknown, path: string): void => {
    if (Array.isArray(node)) node.forEach((item, index) => walk(item, `${path}[${index}]`));
    if (typeof node !== 'object' || node === null || node instanceof Uint8Array || Array.isArray(node)) return;
    const record = node as Record<string, unknown>;
    const metadata = record.metadata as Record<string, unknown> | undefined;
    if (metadata && typeof metadata === 'object' && 'encoding' in metadata) {
      found.push({ path, encoding: bytes(metadata.encoding).toString('utf8'), data: bytes(record.data) });
      return;
    }
    for (const [key, value] of Object.entries(record)) if (key !== 'searchAttributes' && key !== 'patch-data' && !isLocalActivityMarkerData(path, key)) walk(value, `${path}.${key}`);
  };
  walk(history, '');
  return found;
}
