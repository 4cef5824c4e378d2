import type { RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';

/**
 * Records each request's latency by method, route pattern and status. The matched pattern
 * (`/v1/transfers/:transferId`), never the raw URL, keeps the label set small; unmatched
 * paths share one label.
 */
export function httpLatencyRecorder(registry: Registry, options: { name: string; bucketsSeconds: readonly number[] }): RequestHandler {
  const httpDuration = new Histogram({
    name: options.name,
    help: 'HTTP request latency by route pattern, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [...options.bucketsSeconds],
    registers: [registry],
  });
  return (req, res, next) => {
    const stop = httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      stop({ method: req.method, route: route ? `${req.baseUrl}${route}` : 'unmatched', status: String(res.statusCode) });
    });
    next();
  };
}
