import { context, propagation, SpanKind, SpanStatusCode, trace, type Tracer } from '@opentelemetry/api';
import type { RequestHandler } from 'express';

const untracedPaths = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * One SERVER span per request, a child of the caller's W3C `traceparent` when there is one, active
 * while the request's handlers run (so that the spans they start — a workflow start, a database
 * command, a call to another service — join the same trace). The span is named by the matched route
 * (`POST /v1/transfers`), never by the raw URL, so ids stay out of span names.
 */
export function traceRequests(tracer: Tracer): RequestHandler {
  return (req, res, next) => {
    if (untracedPaths.has(req.path)) {
      next();
      return;
    }
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method } }, parent);
    res.once('finish', () => {
      const route = req.route as { path?: unknown } | undefined;
      if (typeof route?.path === 'string') {
        span.updateName(`${req.method} ${req.baseUrl}${route.path}`);
        span.setAttribute('http.route', `${req.baseUrl}${route.path}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    res.once('close', () => {
      if (!res.writableFinished) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed before the answer was sent' });
        span.end();
      }
    });
    context.with(trace.setSpan(parent, span), next);
  };
}
