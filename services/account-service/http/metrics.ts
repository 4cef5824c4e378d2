import type { RequestHandler } from 'express';
import { Counter, Registry, collectDefaultMetrics } from 'prom-client';
import { httpLatencyRecorder } from '../../../lib/http/metrics';

export interface LedgerMetrics {
  registry: Registry;
  /** New entries: applied, refused (with the refusal code) or nothing to refund. */
  decisions: Counter<'kind' | 'outcome' | 'code'>;
  /** Requests answered with an entry decided before (a retry, a duplicate, or a void that took the slot). */
  duplicates: Counter<'kind'>;
  sequenceConflicts: Counter;
  /** Refunds and credits that still move money on a closed account: operators settle them by hand. */
  closedAccountMovements: Counter<'kind'>;
  recordRequests: RequestHandler;
}

export function createLedgerMetrics(bankId: string): LedgerMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ bank: bankId });
  collectDefaultMetrics({ register: registry });
  const decisions = new Counter({
    name: 'ledger_decisions_total',
    help: 'Entries appended, by kind, outcome and refusal code (NONE when applied)',
    labelNames: ['kind', 'outcome', 'code'],
    registers: [registry],
  });
  const duplicates = new Counter({
    name: 'ledger_duplicate_requests_total',
    help: 'Requests answered with the entry an earlier decision of the same operation wrote, by that entry\'s kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const sequenceConflicts = new Counter({
    name: 'ledger_sequence_conflicts_total',
    help: 'Group-commit inserts that lost the race for a sequence number and were decided again',
    registers: [registry],
  });
  const closedAccountMovements = new Counter({
    name: 'ledger_closed_account_movements_total',
    help: 'Money moved on a closed account (a refund that landed after the close); each needs an operator',
    labelNames: ['kind'],
    registers: [registry],
  });
  const recordRequests = httpLatencyRecorder(registry, { name: 'account_service_http_request_duration_seconds', bucketsSeconds: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
  return { registry, decisions, duplicates, sequenceConflicts, closedAccountMovements, recordRequests };
}
