import { ApplicationFailure, CancelledFailure, TemporalFailure, metricMeter, workflowInfo, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import type { TransferState } from '../lib/contracts/transfer-contract';
import { transferWorkflowType } from '../lib/contracts/transfer-definitions';

/** Names of the metrics the transfer workflow emits through the worker's Prometheus exporter. */
export const transferWorkflowMetricNames = { ended: 'transfers_ended', durationSeconds: 'transfer_duration_seconds' } as const;

/**
 * Counts each transfer's end by status and reason and records how long it took, from the
 * workflow's own start time. The SDK's metricMeter emits through a sink that adds no command
 * and is silent while replaying, so histories are unaffected and a replayed transfer is not
 * counted twice. (A final workflow task that is retried on another worker can still count one
 * end twice: the counters are at least once.)
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        if (workflowInfo().workflowType !== transferWorkflowType) return next(input);
        const ended = metricMeter.createCounter(transferWorkflowMetricNames.ended, undefined, 'Transfers ended, by final status and reason');
        const duration = metricMeter.createHistogram(transferWorkflowMetricNames.durationSeconds, 'float', 's', 'Transfer saga duration from start to end, by final status');
        const record = (status: string, reason: string): void => {
          ended.add(1, { status, reason });
          duration.record(Math.max(0, Date.now() - workflowInfo().startTime.getTime()) / 1000, { status });
        };
        try {
          const state = (await next(input)) as TransferState;
          record(state.status, state.reason ?? 'NONE');
          return state;
        } catch (error) {
          // Only a failure that ends the run counts; anything else fails the workflow task, which is retried.
          if (error instanceof CancelledFailure) record('WORKFLOW_CANCELLED', 'NONE');
          else if (error instanceof TemporalFailure) record('WORKFLOW_FAILED', error instanceof ApplicationFailure && error.type ? error.type : error.name);
          throw error;
        }
      },
    },
  ],
});
