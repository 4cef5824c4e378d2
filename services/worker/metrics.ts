import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import type { ActivityInterceptorsFactory, MetricsExporterConfig } from '@temporalio/worker';
import { transferWorkflowMetricNames } from '../../workflows/transfer-metrics-interceptor';

/** The workflow's interceptor module, bundled with the workflow code and given to replays alike. */
export const workflowInterceptorModules = [require.resolve('../../workflows/transfer-metrics-interceptor')];

export const activityFailuresMetricName = 'activity_failures';

/** Bucket bounds of the saga's duration: an approval can hold a transfer for a day. */
const transferDurationBucketsSeconds = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3_600, 21_600, 86_400];

/**
 * The SDK runtime's Prometheus exporter: its own metrics (temporal_*) and the project's
 * (transfers_ended_total, transfer_duration_seconds, activity_failures_total) on one endpoint.
 * Counters get the conventional _total suffix and durations are in seconds, like prom-client's.
 */
export function workerMetricsExporter(bindAddress: string): MetricsExporterConfig {
  return {
    metricPrefix: 'temporal_',
    prometheus: {
      bindAddress,
      countersTotalSuffix: true,
      useSecondsForDurations: true,
      histogramBucketOverrides: { [transferWorkflowMetricNames.durationSeconds]: transferDurationBucketsSeconds },
    },
  };
}

/** The error code of a failed attempt: a ledger's refusal code, BANK_UNAVAILABLE, or the error's name. */
function failureCode(error: unknown): string {
  if (error instanceof ApplicationFailure && error.type) return error.type;
  if (error instanceof CancelledFailure) return 'CANCELLED';
  return error instanceof Error ? error.name : 'UNKNOWN';
}

/** Counts every failed activity attempt by code (the SDK adds activityType, namespace and taskQueue). */
export const activityFailureMetrics: ActivityInterceptorsFactory = (context) => {
  const failures = context.metricMeter.createCounter(activityFailuresMetricName, undefined, 'Failed activity attempts, by activity type and error code');
  return {
    inbound: {
      async execute(input, next) {
        try {
          return await next(input);
        } catch (error) {
          failures.add(1, { code: failureCode(error) });
          throw error;
        }
      },
    },
  };
};
