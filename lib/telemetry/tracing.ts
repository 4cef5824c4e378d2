import { trace, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { z } from 'zod';

/** The tracing settings every process reads (parsed in its config.ts with the rest of its environment). */
export const tracingEnvShape = {
  /** Base URL of an OTLP/HTTP collector; traces go to `<url>/v1/traces`. Unset: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  OTEL_SERVICE_NAME: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/).optional(),
  /** How long finished spans wait before a batch is exported. */
  TRACING_EXPORT_DELAY_MS: z.coerce.number().int().min(10).max(60_000).default(2_000),
};

export interface TracingConfig {
  otlpEndpoint: string;
  serviceName: string;
  exportDelayMs: number;
}

/** Tracing is off (undefined) unless an OTLP endpoint is configured. */
export function tracingConfig(
  parsed: { OTEL_EXPORTER_OTLP_ENDPOINT?: string | undefined; OTEL_SERVICE_NAME?: string | undefined; TRACING_EXPORT_DELAY_MS: number },
  defaultServiceName: string,
): TracingConfig | undefined {
  if (parsed.OTEL_EXPORTER_OTLP_ENDPOINT === undefined) return undefined;
  return Object.freeze({
    otlpEndpoint: parsed.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, ''),
    serviceName: parsed.OTEL_SERVICE_NAME ?? defaultServiceName,
    exportDelayMs: parsed.TRACING_EXPORT_DELAY_MS,
  });
}

export interface Tracing {
  tracer: Tracer;
  resource: Resource;
  /** The processor of every span, also handed to the worker's workflow span sink. */
  spanProcessor: SpanProcessor;
  /** Exports what is still buffered and stops. */
  shutdown: () => Promise<void>;
}

/** Limits of the batch exporter, so that a collector that does not answer costs bounded memory. */
const exportLimits = { queueSizeMax: 4_096, batchSizeMax: 512, exportTimeoutMs: 10_000 } as const;

/**
 * Starts the OpenTelemetry SDK for one process: W3C trace context propagation, the async-local
 * context manager, and spans exported in batches. Nothing is instrumented automatically (no
 * instrumentation covers Express 5 or the MongoDB driver 7); the project's middleware and command
 * monitoring create the HTTP and database spans.
 */
export function startTracing(config: { serviceName: string; exportDelayMs: number }, exporter: SpanExporter): Tracing {
  const resource = new Resource({ [ATTR_SERVICE_NAME]: config.serviceName });
  const spanProcessor = new BatchSpanProcessor(exporter, {
    scheduledDelayMillis: config.exportDelayMs,
    maxQueueSize: exportLimits.queueSizeMax,
    maxExportBatchSize: exportLimits.batchSizeMax,
    exportTimeoutMillis: exportLimits.exportTimeoutMs,
  });
  const sdk = new NodeSDK({ resource, autoDetectResources: false, spanProcessors: [spanProcessor], instrumentations: [] });
  sdk.start();
  return { tracer: trace.getTracer('interbank-transfers'), resource, spanProcessor, shutdown: () => sdk.shutdown() };
}

/** Tracing to the configured OTLP/HTTP collector (JSON), or undefined when tracing is off. */
export function startConfiguredTracing(config: TracingConfig | undefined): Tracing | undefined {
  if (!config) return undefined;
  return startTracing(config, new OTLPTraceExporter({ url: `${config.otlpEndpoint}/v1/traces`, timeoutMillis: exportLimits.exportTimeoutMs }));
}
