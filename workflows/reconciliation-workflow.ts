import { proxyActivities, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import type { ReconciliationActivities } from '../activities/reconciliation-activities';
import type { ReconciliationReport } from '../lib/reconciliation/reconciliation';
import { searchAttributes } from '../lib/contracts/search-attributes';
import { reconciliationReportQuery, type ReconciliationInput } from './reconciliation-definitions';

// Reading the ledgers takes a while on a big bank (all of them when no cut can be continued): the activity heartbeats per page.
const { reconcileLedgers } = proxyActivities<ReconciliationActivities>({
  startToCloseTimeout: '30 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 20 },
});

/** Reads every bank's ledger and reports conservation, settlement positions and discrepancies. */
export async function reconciliationWorkflow(input: ReconciliationInput): Promise<ReconciliationReport> {
  let report: ReconciliationReport | null = null;
  setHandler(reconciliationReportQuery, () => report);
  report = await reconcileLedgers({ requestedBy: input.requestedBy });
  // The starter sets the flag false; operators find the runs that found something by it.
  if (report.discrepancyCount > 0) upsertSearchAttributes([{ key: searchAttributes.reconciliationDiscrepancy, value: true }]);
  return report;
}
