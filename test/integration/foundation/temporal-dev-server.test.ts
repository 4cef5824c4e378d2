import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { temporalBinaryPath } from '../../../infra/binaries';
import { createGreetingActivities } from '../../support/greeting-activities';
import { greetingWorkflow } from '../../support/workflows/greeting';

jest.setTimeout(120_000);

describe('Temporal dev server built by the infra script', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: temporalBinaryPath() }, ip: '127.0.0.1' },
    });
  });

  afterAll(async () => {
    await env?.teardown();
  });

  test('when a worker runs a workflow with one activity, then the client gets its result', async () => {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: 'foundation-greeting',
      workflowsPath: require.resolve('../../support/workflows/greeting'),
      activities: createGreetingActivities('Hello'),
    });
    const result = await worker.runUntil(
      env.client.workflow.execute(greetingWorkflow, { taskQueue: 'foundation-greeting', workflowId: 'greeting-1', args: ['bank-a'] }),
    );
    expect(result).toBe('Hello, bank-a');
  });
});
