import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Worker } from '@temporalio/worker';
import { startTracing, type Tracing } from '../../lib/telemetry/tracing';
import { tracingWorkerOptions, tracingWorkflowInterceptorsPath, workflowsPath } from '../../services/worker/transfer-worker';
import { quietTemporalRuntime, testDataConverter } from '../support/temporal';

jest.setTimeout(120_000);

const historiesDir = join(__dirname, 'histories');

/**
 * The histories were recorded without tracing. With the tracing interceptors in the workflow
 * sandbox they must replay unchanged: switching tracing on (or off) for a running worker fleet
 * must not break a workflow that is in flight.
 */
describe('replay with tracing on', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;

  beforeAll(() => {
    quietTemporalRuntime();
    tracing = startTracing({ serviceName: 'replay', exportDelayMs: 10 }, exporter);
  });

  afterAll(async () => {
    await tracing.shutdown();
  });

  test('when every recorded history replays with the tracing workflow interceptors, then none fails and replay exports no workflow span', async () => {
    const files = readdirSync(historiesDir).filter((file) => file.endsWith('.json')).sort();
    expect(files.length).toBeGreaterThan(0);
    const histories = files.map((file) => ({ workflowId: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(join(historiesDir, file), 'utf8')) as unknown }));
    const { sinks } = tracingWorkerOptions(tracing);
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath, interceptors: { workflowModules: [tracingWorkflowInterceptorsPath] }, ...(sinks ? { sinks } : {}), replayName: 'with-tracing', dataConverter: testDataConverter }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(files.length);
    await tracing.spanProcessor.forceFlush();
    expect(exporter.getFinishedSpans().filter((span) => span.name.startsWith('RunWorkflow'))).toEqual([]);
  });
});
