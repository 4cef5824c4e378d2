import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import express, { type Express } from 'express';
import { AccountServiceClient } from '../../lib/clients/account-service-client';
import { traceRequests } from '../../lib/http/tracing';
import { startTracing, tracingConfig, tracingEnvShape, type Tracing } from '../../lib/telemetry/tracing';
import { loadConfig as loadAccountServiceConfig } from '../../services/account-service/config';
import { z } from 'zod';

async function listen(app: Express): Promise<{ url: string; server: Server }> {
  const server = await new Promise<Server>((resolve) => {
    const started = app.listen(0, '127.0.0.1', () => resolve(started));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('HTTP tracing middleware and trace context propagation', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  const servers: Server[] = [];
  let upstreamUrl = '';

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'unit', exportDelayMs: 10 }, exporter);
    const downstream = express();
    downstream.use(traceRequests(tracing.tracer));
    downstream.get('/healthz', (_req, res) => {
      res.json({ status: 'ok' });
    });
    downstream.get('/v1/things/:thingId', (_req, res) => {
      res.json({ ok: true });
    });
    downstream.get('/v1/broken', (_req, res) => {
      res.status(503).json({ error: { code: 'TEMPORARILY_UNAVAILABLE' } });
    });
    const down = await listen(downstream);
    servers.push(down.server);
    const client = new AccountServiceClient({ bankId: 'bank-a', baseUrl: down.url, signingKey: { keyId: 'k', secret: 's'.repeat(40) }, requestTimeoutMs: 5_000 });
    const upstream = express();
    upstream.use(traceRequests(tracing.tracer));
    // An await before the call: the request's span must still be the active one afterwards.
    upstream.post('/v1/relay/:thingId', async (req, res) => {
      await new Promise((resolve) => setTimeout(resolve, 5));
      const answer = await client.request('GET', `/v1/things/${String(req.params.thingId)}`);
      await client.request('GET', '/healthz');
      await client.request('GET', '/v1/broken');
      res.status(answer.status).json(answer.body);
    });
    const up = await listen(upstream);
    servers.push(up.server);
    upstreamUrl = up.url;
  });

  afterAll(async () => {
    for (const server of servers) await new Promise((resolve) => server.close(resolve));
    await tracing.shutdown();
  });

  async function finishedSpans(count: number): Promise<ReadableSpan[]> {
    for (let attempt = 0; attempt < 100 && exporter.getFinishedSpans().length < count; attempt += 1) await new Promise((resolve) => setTimeout(resolve, 20));
    return exporter.getFinishedSpans();
  }

  test('when a request carries a traceparent, then its span, the call it makes and the callee span form one trace', async () => {
    exporter.reset();
    const callerTraceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const response = await fetch(`${upstreamUrl}/v1/relay/thing-42`, { method: 'POST', headers: { traceparent: `00-${callerTraceId}-${callerSpanId}-01` } });
    expect(response.status).toBe(200);

    const spans = await finishedSpans(3);
    expect(spans.map((span) => span.name).sort()).toEqual(['GET /v1/broken', 'GET /v1/things/:thingId', 'POST /v1/relay/:thingId']);
    const relay = spans.find((span) => span.name === 'POST /v1/relay/:thingId') as ReadableSpan;
    const thing = spans.find((span) => span.name === 'GET /v1/things/:thingId') as ReadableSpan;
    const broken = spans.find((span) => span.name === 'GET /v1/broken') as ReadableSpan;
    expect(relay.spanContext().traceId).toBe(callerTraceId);
    expect(relay.parentSpanId).toBe(callerSpanId);
    expect(thing.spanContext().traceId).toBe(callerTraceId);
    expect(thing.parentSpanId).toBe(relay.spanContext().spanId);
    expect(broken.parentSpanId).toBe(relay.spanContext().spanId);
    expect(thing.attributes).toMatchObject({ 'http.route': '/v1/things/:thingId', 'http.response.status_code': 200, 'http.request.method': 'GET' });
    expect(broken.status.code).toBe(2); // SpanStatusCode.ERROR: a 5xx answer
    expect(thing.status.code).toBe(0);
  });

  test('when a request comes without a traceparent, then its span starts a new trace', async () => {
    exporter.reset();
    expect((await fetch(`${upstreamUrl}/v1/relay/thing-7`, { method: 'POST' })).status).toBe(200);
    const spans = await finishedSpans(3);
    const relay = spans.find((span) => span.name === 'POST /v1/relay/:thingId') as ReadableSpan;
    expect(relay.parentSpanId).toBeUndefined();
    expect(new Set(spans.map((span) => span.spanContext().traceId))).toEqual(new Set([relay.spanContext().traceId]));
  });
});

describe('tracing settings', () => {
  const schema = z.object(tracingEnvShape);
  const baseEnv = { BANK_ID: 'bank-a', MONGODB_URL: 'mongodb://127.0.0.1:1', SERVICE_KEYS: `k:${'s'.repeat(40)}` };

  test('when no OTLP endpoint is set, then tracing is off', () => {
    expect(tracingConfig(schema.parse({}), 'x')).toBeUndefined();
    expect(loadAccountServiceConfig(baseEnv).tracing).toBeUndefined();
  });

  test('when an OTLP endpoint is set, then the service exports to it under its own name', () => {
    expect(loadAccountServiceConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318/' }).tracing).toEqual({
      otlpEndpoint: 'http://127.0.0.1:4318',
      serviceName: 'account-service-bank-a',
      exportDelayMs: 2_000,
    });
  });

  test('when the endpoint is not an http(s) URL, then start-up fails naming the variable', () => {
    expect(() => loadAccountServiceConfig({ ...baseEnv, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTEL_EXPORTER_OTLP_ENDPOINT/);
  });
});
