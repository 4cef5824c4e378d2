import { loadConfig } from '../../../services/worker/config';
import { parseWorkerTuning, workerTuningOptions } from '../../../services/worker/worker-tuning';
import { localPlanFromEnv } from '../../../infra/local-plan';

const baseEnv = {
  BANKS: 'bank-a=http://127.0.0.1:4001',
  SERVICE_SIGNING_KEY: 'worker-1:0123456789abcdef0123456789abcdef',
  RECONCILIATION_SIGNING_KEY: 'reconciliation-1:0123456789abcdef0123456789abcdef',
  TRANSFER_AUTHORITY_KEYS: 'authority-1:0123456789abcdef0123456789abcdef',
  EVENTS_MONGODB_URL: 'mongodb://127.0.0.1:27100/',
};

describe('worker capacity settings', () => {
  it('leaves every SDK default in place when nothing is set', () => {
    expect(workerTuningOptions(loadConfig(baseEnv).tuning)).toEqual({});
  });

  it('maps each setting onto its worker option', () => {
    const { tuning } = loadConfig({
      ...baseEnv,
      WORKER_MAX_CACHED_WORKFLOWS: '0',
      WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
      WORKER_MAX_CONCURRENT_ACTIVITIES: '50',
      WORKER_WORKFLOW_TASK_POLLERS: 'autoscaling',
      WORKER_ACTIVITY_TASK_POLLERS: '4',
      WORKER_STICKY_QUEUE_TIMEOUT_MS: '3000',
    });
    expect(workerTuningOptions(tuning)).toEqual({
      maxCachedWorkflows: 0,
      maxConcurrentWorkflowTaskExecutions: 8,
      maxConcurrentActivityTaskExecutions: 50,
      workflowTaskPollerBehavior: { type: 'autoscaling' },
      activityTaskPollerBehavior: { type: 'simple-maximum', maximum: 4 },
      stickyQueueScheduleToStartTimeout: 3000,
    });
  });

  it.each([
    ['WORKER_MAX_CACHED_WORKFLOWS', '-1'],
    ['WORKER_MAX_CONCURRENT_WORKFLOW_TASKS', '1'],
    ['WORKER_WORKFLOW_TASK_POLLERS', 'lots'],
    ['WORKER_STICKY_QUEUE_TIMEOUT_MS', '10'],
  ])('refuses %s=%s at start, naming the variable', (name, value) => {
    expect(() => loadConfig({ ...baseEnv, [name]: value })).toThrow(new RegExp(`^Invalid ${name}`));
  });

  it('reads the benchmark variant with the same rules and refuses unknown names', () => {
    expect(workerTuningOptions(parseWorkerTuning(['WORKER_WORKFLOW_TASK_POLLERS=2']))).toEqual({ workflowTaskPollerBehavior: { type: 'simple-maximum', maximum: 2 } });
    expect(() => parseWorkerTuning(['WORKER_CACHE=5'])).toThrow(/WORKER_CACHE=5.*WORKER_MAX_CACHED_WORKFLOWS/);
    expect(() => parseWorkerTuning(['WORKER_ACTIVITY_TASK_POLLERS=0'])).toThrow(/^Invalid WORKER_ACTIVITY_TASK_POLLERS/);
  });

  it('is passed on by the launcher to the worker', () => {
    const plan = localPlanFromEnv({ WORKER_STICKY_QUEUE_TIMEOUT_MS: '3000' }, '/tmp/project');
    expect(plan.services?.env).toMatchObject({ WORKER_STICKY_QUEUE_TIMEOUT_MS: '3000' });
  });
});
