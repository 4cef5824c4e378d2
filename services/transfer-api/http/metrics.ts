import type { RequestHandler } from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { httpLatencyRecorder } from '../../../lib/http-metrics';
import type { OpenTransferCounts } from '../gateways/transfer-workflows';
import type { CreateTransferResult } from '../use-cases/create-transfer';

export interface ApiMetrics {
  registry: Registry;
  /** Counts a create request: a new transfer by its banks, and every answer by whether it replayed. */
  recordCreated: (result: CreateTransferResult) => void;
  recordRequests: RequestHandler;
}

export interface ApiMetricsOptions {
  /**
   * Counts of open transfers from Temporal visibility, read when Prometheus scrapes. Every API
   * replica reports the same counts (they are global), so dashboards and alerts take max().
   */
  openTransferCounts?: () => Promise<OpenTransferCounts>;
}

/** One registry per app, so that tests can build several apps in one process. */
export function createApiMetrics(options: ApiMetricsOptions = {}): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const recordRequests = httpLatencyRecorder(registry, { name: 'transfer_api_http_request_duration_seconds', bucketsSeconds: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
  const transfersCreated = new Counter({
    name: 'transfer_api_transfers_created_total',
    help: 'Create requests answered, by whether they replayed an earlier one',
    labelNames: ['replayed'],
    registers: [registry],
  });
  const transfersStarted = new Counter({
    name: 'transfers_started_total',
    help: 'Transfer sagas started, by source and target bank',
    labelNames: ['source_bank', 'target_bank'],
    registers: [registry],
  });
  registerOpenTransferGauges(registry, options.openTransferCounts);
  return {
    registry,
    recordRequests,
    recordCreated: (result) => {
      transfersCreated.inc({ replayed: String(result.replayed) });
      if (!result.replayed) transfersStarted.inc({ source_bank: result.transfer.source.bankId, target_bank: result.transfer.target.bankId });
    },
  };
}

/**
 * Gauges read from visibility at scrape time: the truth across worker restarts, which counters
 * kept in a process cannot be. When visibility does not answer, the gauges are left out of the
 * scrape (no stale value) and the failure is counted.
 */
function registerOpenTransferGauges(registry: Registry, openTransferCounts: ApiMetricsOptions['openTransferCounts']): void {
  const visibilityErrors = new Counter({ name: 'transfer_api_visibility_errors_total', help: 'Scrapes whose open-transfer counts visibility did not answer', registers: [registry] });
  let counts: Promise<OpenTransferCounts | undefined> | undefined;
  // The three gauges are collected one after the other in one scrape: they share one read.
  const read = (): Promise<OpenTransferCounts | undefined> => {
    counts ??= (openTransferCounts ? openTransferCounts() : Promise.resolve(undefined))
      .catch(() => {
        visibilityErrors.inc();
        return undefined;
      })
      .finally(() => setTimeout(() => (counts = undefined), 1_000).unref());
    return counts;
  };
  new Gauge({
    name: 'transfers_open',
    help: 'Transfers not yet terminal, by status (from Temporal visibility)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      this.reset();
      const found = await read();
      for (const [status, count] of Object.entries(found?.byStatus ?? {})) this.set({ status }, count);
    },
  });
  new Gauge({
    name: 'transfers_needing_attention',
    help: 'Open transfers whose refund or credit-void keeps failing (NeedsAttention = true)',
    registers: [registry],
    async collect() {
      this.reset();
      const found = await read();
      if (found) this.set(found.needingAttention);
    },
  });
  new Gauge({
    name: 'transfers_overdue',
    help: 'Open transfers, other than those awaiting approval, started longer ago than TRANSFER_OVERDUE_AFTER_MS',
    registers: [registry],
    async collect() {
      this.reset();
      const found = await read();
      if (found) this.set(found.overdue);
    },
  });
}
