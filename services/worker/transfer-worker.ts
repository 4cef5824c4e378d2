import {
  makeWorkflowExporter,
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
} from '@temporalio/interceptors-opentelemetry';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker, type WorkerOptions, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { createAccountActivities, type AccountActivitiesOptions } from '../../activities/account-activities';
import { createSettlementActivities } from '../../activities/settlement-activities';
import { createSettlementWindowActivities } from '../../activities/settlement-window-activities';
import type { SettlementWindowStore } from '../../lib/settlement/window-store';
import { createAuthorityActivities } from '../../activities/authority-activities';
import { createReconciliationActivities, type ReconciliationSources } from '../../activities/reconciliation-activities';
import { activityFailureMetrics, workflowInterceptorModules } from './metrics';
import type { Tracing } from '../../lib/telemetry/tracing';
import { failureConverterPath, transferDataConverter } from '../../lib/temporal/data-converter';
import type { CodecKey } from '../../lib/crypto/payload-codec';
import type { SigningKey } from '../../lib/crypto/request-signing';

import { createEventActivities, type EventActivitiesOptions } from '../../activities/event-activities';
import { workerTuningOptions, type WorkerTuning } from './worker-tuning';

export const workflowsPath = require.resolve('../../workflows/index');

/** The task queue of webhook POSTs, beside the saga's: a slow receiver never takes a saga slot. */
export function webhookTaskQueue(taskQueue: string): string {
  return `${taskQueue}-webhooks`;
}

/**
 * The tracing package's workflow interceptors: they run inside the workflow sandbox, take the
 * caller's span context from the workflow's headers and pass it on in every activity's headers, and
 * hand finished workflow spans to the `exporter` sink (sinks are not called during replay).
 */
export const tracingWorkflowInterceptorsPath = require.resolve('@temporalio/interceptors-opentelemetry/lib/workflow-interceptors');

/** Bundles the workflow code once, so that a worker starts from a prebuilt bundle; with tracing, the bundle holds its interceptors. */
export async function bundleTransferWorkflows(options: { tracing?: boolean } = {}): Promise<WorkflowBundleWithSourceMap> {
  // Webpack's statistics are noise in every start's log; warnings and errors still show.
  return bundleWorkflowCode({
    workflowsPath,
    failureConverterPath,
    logger: new DefaultLogger('WARN'),
    workflowInterceptorModules: [...workflowInterceptorModules, ...(options.tracing ? [tracingWorkflowInterceptorsPath] : [])],
  });
}

export interface TransferWorkerOptions extends AccountActivitiesOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  /** Built with `tracing: true` when `tracing` is given. */
  bundle: WorkflowBundleWithSourceMap;
  tracing?: Tracing;
  /** Payload encryption keys; see transferDataConverter. */
  codecKeys: readonly CodecKey[] | undefined;
  /** The event feed and webhook deliveries; without it transfers must start without a webhook policy. */
  events?: EventActivitiesOptions;
  /** Capacity settings; unset ones keep the SDK's defaults. */
  tuning?: WorkerTuning;
  /** The transfer record and the reconciliation cuts; without them a reconciliation run fails. */
  reconciliation?: ReconciliationSources;
  /** Reconciliation's own read-only key; an in-process test worker may leave it to signingKey. */
  reconciliationSigningKey?: SigningKey;
  /** TRANSFER_AUTHORITY_KEYS: a transfer input or operator decision none of them signed moves nothing. */
  authorityKeys: readonly SigningKey[];
  /** Where the settlement legs go (and what reconciliation reads with the banks); without it a transfer that settles retries its reservation until it gives up. */
  settlementBank?: { bankId: string; url: string };
  /** The settlement windows (deferred-net), in the API's database; with settlementBank, the window workflows run here. */
  settlementWindows?: SettlementWindowStore;
}

/** Activity spans, workflow spans through the exporter sink, and spans for the client calls activities make. */
export function tracingWorkerOptions(tracing: Tracing): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  const options = { tracer: tracing.tracer };
  return {
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, options), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
      client: { workflow: [new OpenTelemetryWorkflowClientInterceptor(options)] },
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}

/** The saga's worker: the transfer and reconciliation workflows, with activities signing every call to the banks. */
export async function createTransferWorker(options: TransferWorkerOptions): Promise<Worker> {
  const tracing = options.tracing ? tracingWorkerOptions(options.tracing) : undefined;
  const events = options.events ? createEventActivities(options.events) : undefined;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: options.bundle,
    dataConverter: transferDataConverter(options.codecKeys),
    activities: {
      ...createAccountActivities(options),
      ...(options.settlementBank ? createSettlementActivities({ ...options, settlementBank: options.settlementBank }) : {}),
      ...(options.settlementBank && options.settlementWindows ? createSettlementWindowActivities({ ...options, settlementBank: options.settlementBank, windows: options.settlementWindows }) : {}),
      ...createAuthorityActivities(options.authorityKeys),
      ...createReconciliationActivities({ ...options, signingKey: options.reconciliationSigningKey ?? options.signingKey }),
      ...(events ? { recordTransferEvent: events.recordTransferEvent, recordTransferChange: events.recordTransferChange } : {}),
    },
    ...workerTuningOptions(options.tuning ?? {}),
    // Activities are short HTTP calls; a graceful stop lets them finish.
    shutdownGraceTime: '10 seconds',
    ...(tracing ? { sinks: tracing.sinks } : {}),
    interceptors: { ...tracing?.interceptors, activity: [activityFailureMetrics, ...(tracing?.interceptors?.activity ?? [])] },
  });
}

/** Runs only the webhook POSTs, on their own task queue and slots. */
export async function createWebhookWorker(options: { connection: NativeConnection; namespace: string; taskQueue: string; events: EventActivitiesOptions; codecKeys: readonly CodecKey[] | undefined }): Promise<Worker> {
  const events = createEventActivities(options.events);
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: webhookTaskQueue(options.taskQueue),
    dataConverter: transferDataConverter(options.codecKeys),
    activities: { deliverWebhook: events.deliverWebhook },
    interceptors: { activity: [activityFailureMetrics] },
    // Each attempt is bounded by WEBHOOK_REQUEST_TIMEOUT_MS; many receivers may be slow at once.
    maxConcurrentActivityTaskExecutions: 200,
    shutdownGraceTime: '10 seconds',
  });
}
