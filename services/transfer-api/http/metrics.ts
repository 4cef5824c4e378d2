import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface ApiMetrics {
  registry: Registry;
  transfersCreated: Counter<'replayed'>;
  recordRequests: RequestHandler;
}

/** One registry per app, so that tests can build several apps in one process. */
export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'transfer_api_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const transfersCreated = new Counter({
    name: 'transfer_api_transfers_created_total',
    help: 'Create requests answered, by whether they replayed an earlier one',
    labelNames: ['replayed'],
    registers: [registry],
  });
  const recordRequests: RequestHandler = (req, res, next) => {
    const stop = httpDuration.startTimer();
    res.on('finish', () => {
      // The matched route pattern keeps the label set small; unmatched paths share one label.
      const route = (req.route as { path?: string } | undefined)?.path;
      stop({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    next();
  };
  return { registry, transfersCreated, recordRequests };
}
