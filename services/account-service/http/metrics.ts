import type { RequestHandler } from 'express';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface LedgerMetrics {
  registry: Registry;
  decisions: Counter<'kind' | 'outcome'>;
  sequenceConflicts: Counter;
  /** Refunds and credits that still move money on a closed account: operators settle them by hand. */
  closedAccountMovements: Counter<'kind'>;
  recordRequests: RequestHandler;
}

export function createLedgerMetrics(bankId: string): LedgerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ bank: bankId });
  collectDefaultMetrics({ register: registry });
  const decisions = new Counter({ name: 'ledger_decisions_total', help: 'Entries appended, by kind and outcome', labelNames: ['kind', 'outcome'], registers: [registry] });
  const sequenceConflicts = new Counter({ name: 'ledger_sequence_conflicts_total', help: 'Inserts that lost the race for a sequence number and were decided again', registers: [registry] });
  const closedAccountMovements = new Counter({
    name: 'ledger_closed_account_movements_total',
    help: 'Money moved on a closed account (a refund that landed after the close); each needs an operator',
    labelNames: ['kind'],
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'account_service_http_request_duration_seconds',
    help: 'HTTP request latency by route, method and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const recordRequests: RequestHandler = (req, res, next) => {
    const stop = httpDuration.startTimer();
    res.on('finish', () => {
      const route = (req.route as { path?: string } | undefined)?.path;
      stop({ method: req.method, route: route ?? 'unmatched', status: String(res.statusCode) });
    });
    next();
  };
  return { registry, decisions, sequenceConflicts, closedAccountMovements, recordRequests };
}
