import { ApplicationFailure, Context } from '@temporalio/activity';
import { AccountServiceClient, AccountServiceUnreachableError } from '../lib/clients/account-service-client';
import { LedgerReadError } from '../lib/reconciliation/ledger-reader';
import { reconcile, type ReconciliationReport } from '../lib/reconciliation/reconciliation';
import { CutUnreadableError, type ReconciliationCuts } from '../lib/reconciliation/cut-store';
import { readForReconciliation, type PreviousCut, type ReconciliationRead } from '../lib/reconciliation/reader';
import type { SigningKey } from '../lib/crypto/request-signing';
import type { TransferRecordReader } from '../lib/record/transfer-record';
import { bankUnavailableType } from './account-activities';

/** Where reconciliation reads what each transfer is and keeps where it stopped: the API's database. */
export interface ReconciliationSources {
  records: TransferRecordReader;
  cuts: ReconciliationCuts;
}

export interface ReconciliationActivitiesOptions {
  banks: ReadonlyArray<{ bankId: string; url: string }>;
  /** Read with the banks and judged apart (clearing mirror, settlement legs, window positions); without it those rules have nothing to read. */
  settlementBank?: { bankId: string; url: string };
  signingKey: SigningKey;
  requestTimeoutMs: number;
  /** Without them (a worker with no API database) a reconciliation fails rather than guess. */
  reconciliation?: ReconciliationSources;
  fetch?: typeof fetch;
}

/** Error type of a reconciliation on a worker that has no transfer record: not retried. */
export const reconciliationNotConfiguredType = 'RECONCILIATION_NOT_CONFIGURED';
/** Cuts whose parts are kept (older ones keep their headers only): enough to look back at a few runs. */
export const cutsKeptWhole = 10;

async function previousCut(cuts: ReconciliationCuts): Promise<PreviousCut> {
  try {
    return await cuts.latest();
  } catch (error) {
    // A cut that cannot be read whole is read past: this run reads every chain and writes the next cut.
    if (error instanceof CutUnreadableError) return { n: error.n, unreadable: error.message };
    throw error;
  }
}

async function forgetReopened(records: TransferRecordReader, transferIds: readonly string[], context: Context): Promise<void> {
  for (const transferId of transferIds) {
    await records.forgetReopened(transferId).catch((error: unknown) => context.log.warn('reopened transfer not forgotten; the next run forgets it', { transferId, error: String(error) }));
  }
}

export function createReconciliationActivities(options: ReconciliationActivitiesOptions) {
  const clientOf = (bank: { bankId: string; url: string }): AccountServiceClient =>
    new AccountServiceClient({ bankId: bank.bankId, baseUrl: bank.url, signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) });
  const clients = options.banks.map(clientOf);
  const readOptions = options.settlementBank ? { settlementBank: clientOf(options.settlementBank) } : {};

  async function readAll(sources: ReconciliationSources, previous: PreviousCut): Promise<ReconciliationRead> {
    const context = Context.current();
    try {
      // A heartbeat per page: a bank with long chains is still being read, not stuck.
      return await readForReconciliation(clients, sources.records, previous, (progress) => context.heartbeat(progress), readOptions);
    } catch (error) {
      if (error instanceof AccountServiceUnreachableError || error instanceof LedgerReadError) throw ApplicationFailure.retryable(error.message, bankUnavailableType);
      throw error;
    }
  }

  return {
    /**
     * Reconciles every bank's ledger (and the settlement bank's, when configured) from where the previous run stopped, against the transfer
     * record (never Temporal, which forgets workflows after retention), and stores where this
     * run stopped. The report is the workflow's result.
     */
    async reconcileLedgers(request: { requestedBy: string }): Promise<ReconciliationReport> {
      const sources = options.reconciliation;
      if (!sources) throw ApplicationFailure.nonRetryable('this worker has no transfer record to reconcile against', reconciliationNotConfiguredType);
      const context = Context.current();
      const previous = await previousCut(sources.cuts);
      const { report, state, forget } = reconcile({ ...(await readAll(sources, previous)), reconciledAt: new Date().toISOString() });
      const after = previous?.n ?? 0;
      // A run that lost the race for the next cut still reports truly; the winner's cut goes on.
      const stored = await sources.cuts.append(after, state);
      // Only once the cut holds their findings: a run that stops before judges them again, and one
      // that stops after is told by the cut's marks that it judged them (and forgets them then).
      if (stored) await forgetReopened(sources.records, forget, context);
      if (stored && after + 1 > cutsKeptWhole) {
        await sources.cuts.prune(after + 1 - cutsKeptWhole).catch((error: unknown) => context.log.warn('old reconciliation cuts not pruned', { error: String(error) }));
      }
      context.log.info('reconciliation finished', { requestedBy: request.requestedBy, cut: stored ? after + 1 : null, reopenedForgotten: stored ? forget.length : 0, ...report.read, accounts: report.accounts, discrepancies: report.discrepancyCount });
      return report;
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
