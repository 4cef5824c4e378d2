import type { ReconciliationReport } from '../../../lib/reconciliation/reconciliation';
import type { ReconciliationPage, ReconciliationRun, ReconciliationRunWithReport, Reconciliations } from '../../../services/transfer-api/gateways/reconciliations';

/** No reconciliation has ever run. */
export class FakeReconciliations implements Reconciliations {
  async start(_requestedBy: string): Promise<ReconciliationRun> {
    throw new Error('the fake reconciliations start no run');
  }

  async get(_reconciliationId: string): Promise<ReconciliationRunWithReport | null> {
    return null;
  }

  async list(_pageSize: number, _pageToken: Uint8Array | null): Promise<ReconciliationPage> {
    return { runs: [], nextPageToken: null };
  }

  async latestReport(): Promise<ReconciliationReport | null> {
    return null;
  }
}
