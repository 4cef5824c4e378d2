import type { RequestHandler } from 'express';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { httpLatencyRecorder } from '../../../lib/http/metrics';
import type { ReconciliationReport } from '../../../lib/reconciliation/reconciliation';
import type { ParticipantRow } from '../gateways/settlement-bank';
import type { OpenTransferCounts } from '../gateways/transfer-workflows';
import type { CreateTransferResult } from '../use-cases/create-transfer';
import { transferApiLimits } from '../limits';

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
  /** The latest completed reconciliation's report, read when Prometheus scrapes. */
  latestReconciliation?: () => Promise<ReconciliationReport | null>;
  /** The settlement participants' rows, read from the settlement bank when Prometheus scrapes. */
  settlementParticipants?: () => Promise<readonly ParticipantRow[]>;
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
  registerReconciliationGauge(registry, options.latestReconciliation);
  if (options.settlementParticipants) registerSettlementGauges(registry, options.settlementParticipants);
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
  // Each gauge is emptied at scrape and filled from the shared read; nothing is set when visibility did not answer.
  const gaugeOf = (name: string, help: string, fill: (gauge: Gauge, counts: OpenTransferCounts) => void, labelNames: string[] = []): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      async collect() {
        this.reset();
        const found = await read();
        if (found) fill(this, found);
      },
    });
  };
  gaugeOf('transfers_open', 'Transfers not yet terminal, by status (from Temporal visibility)', (gauge, found) => {
    for (const [status, count] of Object.entries(found.byStatus)) gauge.set({ status }, count);
  }, ['status']);
  gaugeOf('transfers_needing_attention', 'Transfers an operator must act on (the record\'s attention set): a refund or credit-void keeps failing, or the workflow stopped before the transfer ended', (gauge, found) => gauge.set(found.needingAttention));
  gaugeOf('transfers_overdue', 'Open transfers, other than those awaiting approval, started longer ago than TRANSFER_OVERDUE_AFTER_MS', (gauge, found) => gauge.set(found.overdue));
}


/**
 * `reconciliation_discrepancies{bank}`: what the latest completed reconciliation found, per bank
 * (`all` for findings that belong to no one bank, such as conservation). Every bank of the
 * report has a series, at 0 when it is clean, so that the alert resolves.
 */
function registerReconciliationGauge(registry: Registry, latest: ApiMetricsOptions['latestReconciliation']): void {
  let cached: { at: number; byBank: Map<string, number> } | undefined;
  const read = async (): Promise<Map<string, number> | undefined> => {
    if (!latest) return undefined;
    if (cached && Date.now() - cached.at < transferApiLimits.reconciliationReadIntervalMs) return cached.byBank;
    const report = await latest().catch(() => null);
    if (!report) return cached?.byBank;
    const byBank = new Map<string, number>([...report.banks.map((bank): [string, number] => [bank, 0]), ['all', 0]]);
    for (const discrepancy of report.discrepancies) byBank.set(discrepancy.bankId ?? 'all', (byBank.get(discrepancy.bankId ?? 'all') ?? 0) + 1);
    // The report lists at most a few hundred; the rest count as `all`.
    byBank.set('all', (byBank.get('all') ?? 0) + report.discrepancyCount - report.discrepancies.length);
    cached = { at: Date.now(), byBank };
    return byBank;
  };
  new Gauge({
    name: 'reconciliation_discrepancies',
    help: 'Discrepancies the latest completed reconciliation run found, by bank (all: not tied to one bank)',
    labelNames: ['bank'],
    registers: [registry],
    async collect() {
      this.reset();
      for (const [bank, count] of (await read()) ?? []) this.set({ bank }, count);
    },
  });
}

/**
 * Each participant's liquidity at the settlement bank, per bank and currency, read once per scrape
 * (the gauges share one read; none is set when the settlement bank does not answer):
 * `settlement_reserve_minor`, `settlement_position_minor` (what it owes, negative when owed),
 * `settlement_net_debit_cap_minor` and `settlement_net_debit_cap_used_ratio` (deferred-net).
 */
function registerSettlementGauges(registry: Registry, participants: () => Promise<readonly ParticipantRow[]>): void {
  const errors = new Counter({ name: 'transfer_api_settlement_read_errors_total', help: 'Scrapes whose settlement rows the settlement bank did not answer', registers: [registry] });
  let rows: Promise<readonly ParticipantRow[] | undefined> | undefined;
  const read = (): Promise<readonly ParticipantRow[] | undefined> => {
    rows ??= participants()
      .catch(() => {
        errors.inc();
        return undefined;
      })
      .finally(() => setTimeout(() => (rows = undefined), 1_000).unref());
    return rows;
  };
  const gaugeOf = (name: string, help: string, value: (row: ParticipantRow) => number | undefined): void => {
    new Gauge({
      name,
      help,
      labelNames: ['bank', 'currency'],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of (await read()) ?? []) {
          const found = value(row);
          if (found !== undefined) this.set({ bank: row.bankId, currency: row.currency }, found);
        }
      },
    });
  };
  gaugeOf('settlement_reserve_minor', "A participant's reserve at the settlement bank, in minor units", (row) => Number(row.reserveMinor));
  gaugeOf('settlement_position_minor', 'What a participant owes and has not settled (negative: what it is owed), in minor units', (row) => Number(row.positionMinor));
  gaugeOf('settlement_net_debit_cap_minor', "A participant's Net Debit Cap (deferred-net), in minor units", (row) => (row.netDebitCapMinor === null ? undefined : Number(row.netDebitCapMinor)));
  gaugeOf('settlement_net_debit_cap_used_ratio', 'Share of its Net Debit Cap a participant owes now (deferred-net); alerts watch it', (row) => {
    if (row.netDebitCapMinor === null) return undefined;
    const cap = Number(row.netDebitCapMinor);
    return cap === 0 ? (Number(row.positionMinor) > 0 ? 1 : 0) : Math.max(0, Number(row.positionMinor)) / cap;
  });
}
