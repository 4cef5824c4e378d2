import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { AccountServiceClient, AccountServiceUnreachableError } from '../lib/account-service-client';
import { LedgerReadError, readBankLedger } from '../lib/ledger-reader';
import { reconcile, transferIdsIn, type BankLedger, type ReconciliationReport, type TransferPresence } from '../lib/reconciliation';
import type { SigningKey } from '../lib/request-signing';
import { transferIdOfWorkflowId, transferWorkflowId } from '../lib/transfer-contract';
import { transferWorkflowType } from '../workflows/transfer-definitions';
import { bankUnavailableType } from './account-activities';

export interface ReconciliationActivitiesOptions {
  banks: ReadonlyArray<{ bankId: string; url: string }>;
  signingKey: SigningKey;
  requestTimeoutMs: number;
}

/**
 * What Temporal knew of every transfer before the ledgers were read. Visibility may lag:
 * a transfer it still shows running is treated as in flight, never as a discrepancy.
 */
async function transfersClosedBefore(client: Client): Promise<Map<string, TransferPresence>> {
  const presence = new Map<string, TransferPresence>();
  for await (const execution of client.workflow.list({ query: `WorkflowType = '${transferWorkflowType}'` })) {
    const transferId = transferIdOfWorkflowId(execution.workflowId);
    if (transferId !== undefined) presence.set(transferId, execution.status.name === 'RUNNING' ? 'RUNNING' : 'CLOSED');
  }
  return presence;
}

/** A transfer visibility did not list is asked for directly: started meanwhile (in flight) or unknown. */
async function describePresence(client: Client, transferId: string): Promise<TransferPresence> {
  try {
    await client.workflow.getHandle(transferWorkflowId(transferId)).describe();
    return 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return 'UNKNOWN';
    throw error;
  }
}

export function createReconciliationActivities(options: ReconciliationActivitiesOptions) {
  const clients = options.banks.map((bank) => new AccountServiceClient({ bankId: bank.bankId, baseUrl: bank.url, signingKey: options.signingKey, requestTimeoutMs: options.requestTimeoutMs }));

  async function readAll(): Promise<BankLedger[]> {
    const context = Context.current();
    const ledgers: BankLedger[] = [];
    for (const client of clients) {
      try {
        ledgers.push(await readBankLedger(client, (accountsRead) => context.heartbeat({ bankId: client.bankId, accountsRead })));
      } catch (error) {
        if (error instanceof AccountServiceUnreachableError || error instanceof LedgerReadError) throw ApplicationFailure.retryable(error.message, bankUnavailableType);
        throw error;
      }
    }
    return ledgers;
  }

  return {
    /** Reads every bank's ledger and reconciles them; the report is the workflow's result. */
    async reconcileLedgers(request: { requestedBy: string }): Promise<ReconciliationReport> {
      const context = Context.current();
      const temporal = context.client;
      const known = await transfersClosedBefore(temporal);
      const ledgers = await readAll();
      for (const transferId of transferIdsIn(ledgers)) {
        if (!known.has(transferId)) known.set(transferId, await describePresence(temporal, transferId));
      }
      const report = reconcile(ledgers, (transferId) => known.get(transferId) ?? 'UNKNOWN', new Date().toISOString());
      context.log.info('reconciliation finished', { requestedBy: request.requestedBy, accounts: report.accounts, entries: report.entries, discrepancies: report.discrepancyCount });
      return report;
    },
  };
}

export type ReconciliationActivities = ReturnType<typeof createReconciliationActivities>;
