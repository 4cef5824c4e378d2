import { z } from 'zod';
import type { WorkerOptions } from '@temporalio/worker';
import { ConfigError, parseEnv } from '../../lib/config/env-parsers';

/**
 * The saga worker's capacity settings. Each is optional: unset, the Temporal SDK's default
 * applies (docs/performance.md has what each was measured to do here). The benchmark
 * takes the same names (`npm run bench:saga -- --variant NAME=VALUE`), so a setting is tried
 * exactly as an operator would set it.
 */
export const workerTuningEnvShape = {
  /** Workflows kept in memory between tasks (the sticky cache); 0 replays the history for every task. */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).optional(),
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(10_000).optional(),
  WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(10_000).optional(),
  /** A number of long polls kept open, or `autoscaling` (the server's feedback sets the number). */
  WORKER_WORKFLOW_TASK_POLLERS: z.union([z.literal('autoscaling'), z.coerce.number().int().min(2).max(1_000)]).optional(),
  WORKER_ACTIVITY_TASK_POLLERS: z.union([z.literal('autoscaling'), z.coerce.number().int().min(1).max(1_000)]).optional(),
  /** How long a task waits for this worker's sticky queue before any worker may take it. */
  WORKER_STICKY_QUEUE_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).optional(),
} as const;

const workerTuningSchema = z.object(workerTuningEnvShape);

export type WorkerTuning = z.infer<typeof workerTuningSchema>;

export type WorkerTuningOptions = Pick<
  WorkerOptions,
  'maxCachedWorkflows' | 'maxConcurrentWorkflowTaskExecutions' | 'maxConcurrentActivityTaskExecutions' | 'workflowTaskPollerBehavior' | 'activityTaskPollerBehavior' | 'stickyQueueScheduleToStartTimeout'
>;

function pollers(setting: number | 'autoscaling'): NonNullable<WorkerOptions['workflowTaskPollerBehavior']> {
  return setting === 'autoscaling' ? { type: 'autoscaling' } : { type: 'simple-maximum', maximum: setting };
}

/** The worker options for the settings given; the SDK's defaults stand for the rest. */
export function workerTuningOptions(tuning: WorkerTuning): WorkerTuningOptions {
  const options: WorkerTuningOptions = {};
  if (tuning.WORKER_MAX_CACHED_WORKFLOWS !== undefined) options.maxCachedWorkflows = tuning.WORKER_MAX_CACHED_WORKFLOWS;
  if (tuning.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS !== undefined) options.maxConcurrentWorkflowTaskExecutions = tuning.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS;
  if (tuning.WORKER_MAX_CONCURRENT_ACTIVITIES !== undefined) options.maxConcurrentActivityTaskExecutions = tuning.WORKER_MAX_CONCURRENT_ACTIVITIES;
  if (tuning.WORKER_WORKFLOW_TASK_POLLERS !== undefined) options.workflowTaskPollerBehavior = pollers(tuning.WORKER_WORKFLOW_TASK_POLLERS);
  if (tuning.WORKER_ACTIVITY_TASK_POLLERS !== undefined) options.activityTaskPollerBehavior = pollers(tuning.WORKER_ACTIVITY_TASK_POLLERS);
  if (tuning.WORKER_STICKY_QUEUE_TIMEOUT_MS !== undefined) options.stickyQueueScheduleToStartTimeout = tuning.WORKER_STICKY_QUEUE_TIMEOUT_MS;
  return options;
}

/** Reads `NAME=VALUE` pairs (the benchmark's --variant) with the worker's own rules; throws ConfigError on a bad one. */
export function parseWorkerTuning(pairs: readonly string[]): WorkerTuning {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const separator = pair.indexOf('=');
    const name = pair.slice(0, separator);
    if (separator < 1 || !(name in workerTuningEnvShape)) {
      throw new ConfigError(`"${pair}" is not NAME=VALUE with NAME one of ${Object.keys(workerTuningEnvShape).join(', ')}`);
    }
    env[name] = pair.slice(separator + 1);
  }
  return parseEnv(workerTuningSchema, env);
}
