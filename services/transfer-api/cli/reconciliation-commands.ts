import { Option, type Command } from 'commander';
import { formatTable } from '../../../infra/terminal';
import { bodyOf, type ApiSchemas } from './api-client';
import type { Api, Print } from './command-context';

type ReconciliationRun = ApiSchemas['ReconciliationRun'];
type ReconciliationReport = ApiSchemas['ReconciliationReport'];

/** Exit status of `reconcile` when the report lists discrepancies, so that scripts can alert on it. */
export const discrepancyExitCode = 3;
const pollIntervalMs = 1_000;

function runRows(runs: readonly ReconciliationRun[]): string {
  return formatTable(
    ['id', 'status', 'requested by', 'started', 'closed', 'discrepancy'],
    runs.map((run) => [run.reconciliationId, run.status, run.requestedBy ?? '', run.startedAt, run.closedAt ?? '', run.discrepancyFound === null ? '' : run.discrepancyFound ? 'YES' : 'no']),
  );
}

function readText(report: ReconciliationReport): string {
  // A run from before reconciliation read incrementally (still in Temporal's retention) has no `read`.
  const { read } = report as Partial<ReconciliationReport>;
  if (!read) return 'read: not recorded by this run';
  const what = `${read.entriesRead} entries of ${read.accountsRead} accounts`;
  return read.fromCut === null ? `read: every chain from its start (${read.fullReadReason ?? 'no earlier cut'}), ${what}` : `read: from cut ${read.fromCut}, ${what} since it`;
}

function discrepanciesText(report: ReconciliationReport): string {
  if (report.discrepancyCount === 0) return 'discrepancies: none';
  const leftOut = report.discrepanciesLeftOut > 0 ? ` (the newest ${report.discrepancies.length} listed, ${report.discrepanciesLeftOut} left out)` : '';
  const table = formatTable(['kind', 'transfer', 'bank', 'account', 'detail'], report.discrepancies.map((d) => [d.kind, d.transferId ?? '', d.bankId ?? '', d.accountId ?? '', d.detail]));
  return `discrepancies: ${report.discrepancyCount}${leftOut}\n${table}`;
}

/** The clearing mirror and window rows; a run from before the settlement bank was read has neither. */
function settlementBankText(report: ReconciliationReport): string {
  const { clearing, windows, settlementBank } = report as Partial<ReconciliationReport>;
  if (!clearing || !windows || !settlementBank) return 'settlement bank: not read by this run';
  const mirror = clearing.length === 0 ? 'clearing: no clearing accounts' : formatTable(['bank', 'currency', 'clearing', 'settlement legs', 'in flight', 'mirrored'], clearing.map((c) => [c.bankId, c.currency, c.clearingMinor, c.settlementMinor, c.inFlightMinor, c.holds ? 'yes' : 'NO']));
  const rows = windows.length === 0 ? 'windows: no positions moved' : formatTable(['window', 'currency', 'net', 'transfers', 'in flight'], windows.map((w) => [w.windowId ?? '(unmarked)', w.currency, w.netMinor, String(w.transfers), String(w.inFlight)]));
  return `settlement bank ${settlementBank}\n${mirror}\n\n${rows}`;
}

export function reportText(report: ReconciliationReport): string {
  const { transfers } = report;
  const lines = [
    `reconciled ${report.banks.join(', ')} at ${report.reconciledAt}: ${report.accounts} accounts, ${report.entries} entries`,
    readText(report),
    `transfers: ${transfers.seen} seen, ${transfers.completed} completed, ${transfers.reversed} reversed, ${transfers.inFlight} in flight`,
    '',
    formatTable(['currency', 'deposits', 'balances', 'in flight', 'conserved'], report.conservation.map((c) => [c.currency, c.depositsMinor, c.balancesMinor, c.inFlightMinor, c.holds ? 'yes' : 'NO'])),
    '',
    report.settlement.length === 0
      ? 'settlement: no net positions'
      : formatTable(['owes', 'to', 'currency', 'net', 'transfers'], report.settlement.map((p) => [p.debtorBank, p.creditorBank, p.currency, p.netMinor, String(p.transfers)])),
    '',
    settlementBankText(report),
    '',
    discrepanciesText(report),
  ];
  return lines.join('\n');
}

export function addReconciliationCommands(root: Command, api: Api, print: Print): void {
  root
    .command('reconcile')
    .description(`reconcile every bank ledger now and print the report (exit ${discrepancyExitCode} when it finds a discrepancy)`)
    .option('--no-wait', 'start it and print its id without waiting for the report')
    .addOption(new Option('--timeout-s <seconds>', 'give up waiting after this long').default('600'))
    .action(async (options: { wait: boolean; timeoutS: string }) => {
      const { client, flags } = api();
      const started = await bodyOf(client.POST('/v1/reconciliations'));
      if (!options.wait) {
        print(flags, started, () => runRows([started]));
        return;
      }
      const deadline = Date.now() + Number(options.timeoutS) * 1_000;
      let run: ReconciliationRun;
      for (;;) {
        run = await bodyOf(client.GET('/v1/reconciliations/{reconciliationId}', { params: { path: { reconciliationId: started.reconciliationId } } }));
        if (run.status !== 'RUNNING') break;
        if (Date.now() > deadline) throw new Error(`reconciliation ${started.reconciliationId} still running after ${options.timeoutS} s`);
        if (!flags.json) process.stderr.write(`reconciliation ${started.reconciliationId} running…\n`);
        await new Promise((resolve) => setTimeout(resolve, pollIntervalMs));
      }
      const { report } = run;
      print(flags, run, () => (report ? `${runRows([run])}\n\n${reportText(report)}` : runRows([run])));
      if (run.status !== 'COMPLETED') throw new Error(`reconciliation ${run.reconciliationId} ended ${run.status}`);
      if (run.discrepancyFound) process.exitCode = discrepancyExitCode;
    });

  const runs = root.command('reconciliations').description('list and read reconciliation runs (operator)');
  runs
    .command('list')
    .addOption(new Option('--limit <n>', 'runs per page').default('10'))
    .option('--cursor <cursor>', 'nextCursor of the previous page')
    .action(async (options: { limit: string; cursor?: string }) => {
      const { client, flags } = api();
      const page = await bodyOf(client.GET('/v1/reconciliations', { params: { query: { limit: Number(options.limit), ...(options.cursor ? { cursor: options.cursor } : {}) } } }));
      print(flags, page, () => `${runRows(page.data)}${page.nextCursor ? `\nnext page: --cursor ${page.nextCursor}` : ''}`);
    });
  runs.command('get <id>').action(async (id: string) => {
    const { client, flags } = api();
    const run = await bodyOf(client.GET('/v1/reconciliations/{reconciliationId}', { params: { path: { reconciliationId: id } } }));
    print(flags, run, () => (run.report ? `${runRows([run])}\n\n${reportText(run.report)}` : runRows([run])));
  });
}
