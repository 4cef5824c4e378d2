import type { RequestHandler } from 'express';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { httpLatencyRecorder } from '../../../lib/http/metrics';
import { createLedgerMetrics, type LedgerMetrics } from '../ledger/ledger-metrics';

/** The account service's registry: the process, its HTTP requests, and the ledger's own counters. */
export interface AccountServiceMetrics {
  registry: Registry;
  ledger: LedgerMetrics;
  recordRequests: RequestHandler;
}

export function createAccountServiceMetrics(bankId: string): AccountServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ bank: bankId });
  collectDefaultMetrics({ register: registry });
  const recordRequests = httpLatencyRecorder(registry, { name: 'account_service_http_request_duration_seconds', bucketsSeconds: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
  return { registry, ledger: createLedgerMetrics(registry), recordRequests };
}
