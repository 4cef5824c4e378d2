import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { Worker } from '@temporalio/worker';
import { MongoClient } from 'mongodb';
import { AccountServiceClient } from '../../lib/clients/account-service-client';
import { isClearingAccountId } from '../../lib/contracts/account-service-contract';
import { readBankLedger } from '../../lib/reconciliation/ledger-reader';
import { reconcile, transferIdOf, type BankLedger, type ReconciliationReport, type RecordedView } from '../../lib/reconciliation/reconciliation';
import type { SigningKey } from '../../lib/crypto/request-signing';
import { transferIdOfWorkflowId, type TransferState, type TransferStatus } from '../../lib/contracts/transfer-contract';
import { compareWriters, type TransferStatusEntry } from '../../lib/record/transfer-record';
import { TransferRecordStore } from '../../lib/record/transfer-record-store';
import { workflowInterceptorModules } from '../../services/worker/metrics';
import { workflowsPath } from '../../services/worker/transfer-worker';
import { transferWorkflowType } from '../../lib/contracts/transfer-definitions';
import { apiCaller, type ApiCaller } from '../support/http';
import { interbankCompleted, readSettlementBank, settlementViolations } from './settlement-check';
import { mustNotComplete, untilAnswered, type IssuedTransfer, type WorkloadAccount } from './workload';

/**
 * The checker, run at quiescence: it reads the API, every bank's ledger (through the
 * account services' listings) and every workflow history, and judges each rule.
 */

export interface RuleVerdict {
  rule: string;
  pass: boolean;
  detail: string;
  /** Up to 10 examples of what broke the rule. */
  examples: string[];
}

export interface CheckInputs {
  apiUrl: string;
  operatorKey: string;
  temporalAddress: string;
  namespace: string;
  banks: ReadonlyMap<string, string>;
  signingKey: SigningKey;
  /** The converter the cluster's worker uses (payloads are encrypted). */
  dataConverter: DataConverter;
  accounts: readonly WorkloadAccount[];
  issued: readonly IssuedTransfer[];
  /** The transfer API's own database, where the transfer record is (read directly, not through the API). */
  apiDatabaseUrl: string;
  /** The settlement bank, read apart from the participants. */
  settlementBank: { bankId: string; url: string };
}

export interface CheckResult {
  verdicts: RuleVerdict[];
  statuses: Map<string, { status: string; reason?: string }>;
  reconciliation: ReconciliationReport | null;
  historiesReplayed: number;
}

function verdict(rule: string, failures: string[], passDetail: string): RuleVerdict {
  return { rule, pass: failures.length === 0, detail: failures.length === 0 ? passDetail : `${failures.length} violation(s)`, examples: failures.slice(0, 10) };
}

async function readLedgers(inputs: CheckInputs): Promise<BankLedger[]> {
  const ledgers: BankLedger[] = [];
  for (const [bankId, url] of inputs.banks) {
    ledgers.push(await readBankLedger(new AccountServiceClient({ bankId, baseUrl: url, signingKey: inputs.signingKey, requestTimeoutMs: 30_000 })));
  }
  return ledgers;
}

/** What each transfer's entries did: applied debits, credits and refunds, over every bank. */
function legsByTransfer(ledgers: readonly BankLedger[]): Map<string, { debit: number; credit: number; refund: number }> {
  const legs = new Map<string, { debit: number; credit: number; refund: number }>();
  for (const bank of ledgers) {
    for (const { entries } of bank.accounts) {
      for (const entry of entries) {
        const transferId = transferIdOf(entry);
        if (transferId === undefined || entry.outcome !== 'APPLIED' || entry.kind === 'void') continue;
        const record = legs.get(transferId) ?? { debit: 0, credit: 0, refund: 0 };
        if (entry.kind === 'debit' || entry.kind === 'credit' || entry.kind === 'refund') record[entry.kind] += 1;
        legs.set(transferId, record);
      }
    }
  }
  return legs;
}

/** The money-moving legs each final status allows, exactly. */
const legsOfStatus: Record<string, { debit: number; credit: number; refund: number }> = {
  COMPLETED: { debit: 1, credit: 1, refund: 0 },
  REFUNDED: { debit: 1, credit: 0, refund: 1 },
  CANCELLED: { debit: 0, credit: 0, refund: 0 },
  REJECTED: { debit: 0, credit: 0, refund: 0 },
};

/** Every transfer's status through the API, a few requests at a time. */
async function readStatuses(operator: ApiCaller, issued: readonly IssuedTransfer[]): Promise<Map<string, { status: string; reason?: string }>> {
  const statuses = new Map<string, { status: string; reason?: string }>();
  const ids = issued.flatMap((record) => (record.transferId ? [record.transferId] : []));
  const readersCount = 8;
  const readers = Array.from({ length: readersCount }, async (_, reader) => {
    for (let index = reader; index < ids.length; index += readersCount) {
      const id = ids[index] as string;
      const answer = await untilAnswered(() => operator.get(`/v1/transfers/${id}`), Date.now() + 30_000);
      if (answer?.status === 200) statuses.set(id, { status: String(answer.body.status), ...(answer.body.reason ? { reason: String(answer.body.reason) } : {}) });
    }
  });
  await Promise.all(readers);
  return statuses;
}

async function runReconciliation(operator: ApiCaller): Promise<ReconciliationReport | null> {
  const started = await untilAnswered(() => operator.post('/v1/reconciliations', {}), Date.now() + 30_000);
  if (started?.status !== 202) return null;
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const run = await operator.get(`/v1/reconciliations/${String(started.body.reconciliationId)}`);
    if (run.status === 200 && run.body.status !== 'RUNNING') return (run.body.report as ReconciliationReport | null) ?? null;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return null;
}

/**
 * Fetches every workflow history of the run, replays it against the current workflow code,
 * and collects each transfer workflow's own final status (its result).
 */
async function replayAll(inputs: CheckInputs): Promise<{ replayed: number; failures: string[]; workflowStatuses: Map<string, string> }> {
  const connection = await Connection.connect({ address: inputs.temporalAddress });
  try {
    const client = new Client({ connection, namespace: inputs.namespace, dataConverter: inputs.dataConverter });
    const histories: Array<{ workflowId: string; history: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['fetchHistory']>> }> = [];
    const workflowStatuses = new Map<string, string>();
    for await (const execution of client.workflow.list()) {
      if (execution.status.name === 'RUNNING') continue;
      const handle = client.workflow.getHandle(execution.workflowId, execution.runId);
      histories.push({ workflowId: execution.workflowId, history: await handle.fetchHistory() });
      const transferId = transferIdOfWorkflowId(execution.workflowId);
      if (execution.type === transferWorkflowType && execution.status.name === 'COMPLETED' && transferId !== undefined) {
        workflowStatuses.set(transferId, ((await handle.result()) as TransferState).status);
      }
    }
    const failures: string[] = [];
    let replayed = 0;
    for await (const result of Worker.runReplayHistories({ workflowsPath, replayName: 'chaos-check', dataConverter: inputs.dataConverter, interceptors: { workflowModules: workflowInterceptorModules } }, histories)) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    return { replayed, failures, workflowStatuses };
  } finally {
    await connection.close();
  }
}

/**
 * Reads every acknowledged transfer's record straight from the API's database and judges it: it
 * exists, its latest status is final and the one its workflow ended with, its entries were written
 * in writer order (a late write never rolled it back), and the ledgers hold what its status implies.
 */
async function checkRecords(
  inputs: CheckInputs,
  transferIds: readonly string[],
  legs: ReadonlyMap<string, { debit: number; credit: number; refund: number }>,
  workflowStatuses: ReadonlyMap<string, string>,
): Promise<{ verdict: RuleVerdict; statuses: Map<string, TransferStatus> }> {
  const mongo = new MongoClient(inputs.apiDatabaseUrl, { useBigInt64: true });
  const statuses = new Map<string, TransferStatus>();
  const failures: string[] = [];
  try {
    const store = new TransferRecordStore(mongo.db('transfer_api'));
    for (const id of transferIds) {
      const history = await store.history(id);
      const latest = history?.entries.at(-1);
      if (!history || !latest) {
        failures.push(`${id}: ${history ? 'no status entry' : 'no record'}`);
        continue;
      }
      const status = latest.state.status;
      statuses.set(id, status);
      const outOfOrder = history.entries.slice(1).filter((entry, index) => compareWriters((history.entries[index] as TransferStatusEntry).writer, entry.writer) >= 0);
      if (outOfOrder.length > 0) failures.push(`${id}: entries ${outOfOrder.map((entry) => entry.n).join(', ')} were written out of writer order`);
      if (status !== workflowStatuses.get(id)) failures.push(`${id}: the record says ${status}, the workflow ended ${workflowStatuses.get(id) ?? 'without a result'}`);
      const expected = legsOfStatus[status];
      const actual = legs.get(id) ?? { debit: 0, credit: 0, refund: 0 };
      if (!expected) failures.push(`${id}: the record's latest status ${status} is not final`);
      else if (expected.debit !== actual.debit || expected.credit !== actual.credit || expected.refund !== actual.refund) {
        failures.push(`${id} recorded ${status}: ledgers hold ${actual.debit} debit, ${actual.credit} credit, ${actual.refund} refund`);
      }
    }
  } finally {
    await mongo.close();
  }
  return { verdict: verdict("each transfer's record is final, agrees with its workflow and with the ledgers' legs", failures, `${transferIds.length} records read from the API's database`), statuses };
}

export async function check(inputs: CheckInputs): Promise<CheckResult> {
  const operator = apiCaller(inputs.apiUrl, inputs.operatorKey);
  const verdicts: RuleVerdict[] = [];
  const statuses = await readStatuses(operator, inputs.issued);
  const acknowledged = inputs.issued.filter((record) => record.transferId);

  const unacknowledged = inputs.issued.filter((record) => !record.transferId).map((record) => `${record.key} never acknowledged`);
  const notTerminal = acknowledged.filter((record) => !legsOfStatus[statuses.get(record.transferId as string)?.status ?? '']).map((record) => `${record.transferId} ${statuses.get(record.transferId as string)?.status ?? 'unreadable'}`);
  verdicts.push(verdict('every transfer is terminal', [...unacknowledged, ...notTerminal], `${acknowledged.length} transfers, all terminal`));

  const replay = await replayAll(inputs);
  const ledgers = await readLedgers(inputs);
  const legs = legsByTransfer(ledgers);
  const legFailures: string[] = [];
  for (const record of acknowledged) {
    const id = record.transferId as string;
    const status = replay.workflowStatuses.get(id) ?? 'no result';
    const expected = legsOfStatus[status];
    const actual = legs.get(id) ?? { debit: 0, credit: 0, refund: 0 };
    if (expected && (expected.debit !== actual.debit || expected.credit !== actual.credit || expected.refund !== actual.refund)) {
      legFailures.push(`${id} ${status}: ledgers hold ${actual.debit} debit, ${actual.credit} credit, ${actual.refund} refund`);
    }
  }
  const known = new Set(acknowledged.map((record) => record.transferId as string));
  for (const id of legs.keys()) if (!known.has(id)) legFailures.push(`${id}: money moved for a transfer the workload never created`);
  verdicts.push(verdict("per transfer, the ledgers hold exactly the legs its final status implies", legFailures, `${acknowledged.length} transfers checked against ${ledgers.length} ledgers`));
  const disagreements = acknowledged
    .map((record) => record.transferId as string)
    .filter((id) => statuses.get(id)?.status !== replay.workflowStatuses.get(id))
    .map((id) => `${id}: API says ${statuses.get(id)?.status ?? 'nothing'}, the workflow ended ${replay.workflowStatuses.get(id) ?? 'without a result'}`);
  verdicts.push(verdict("the API's status of each transfer agrees with the workflow and so with the ledgers", disagreements, `${acknowledged.length} transfers`));

  const records = await checkRecords(inputs, [...known], legs, replay.workflowStatuses);
  verdicts.push(records.verdict);
  const recordOf = (id: string): RecordedView => {
    const status = records.statuses.get(id);
    return status === undefined ? { kind: 'missing' } : { kind: 'recorded', status };
  };
  const settlement = await readSettlementBank(inputs.settlementBank, inputs.signingKey);
  const { report } = reconcile({ banks: ledgers, settlementBank: settlement, recordOf, reconciledAt: new Date().toISOString() });
  const ofKind = (...kinds: string[]) => report.discrepancies.filter((d) => kinds.includes(d.kind)).map((d) => `${d.kind} ${d.bankId ?? ''}/${d.accountId ?? ''} ${d.transferId ?? ''}: ${d.detail}`);
  verdicts.push(verdict('no operation id appears twice in any ledger', ofKind('DUPLICATE_OPERATION', 'DUPLICATE_LEG'), `${report.entries} entries`));
  verdicts.push(verdict('every balance equals the sum of its entries', ofKind('BALANCE_MISMATCH', 'CHAIN_BROKEN'), `${report.accounts} accounts`));
  verdicts.push(
    verdict(
      "every cleared leg has its counterpart and the settlement legs its outcome implies; each bank's clearing mirrors its settlement legs; every window sums to zero",
      ofKind('CLEARING_MISMATCH', 'SETTLEMENT_MISMATCH', 'CLEARING_MIRROR', 'POSITIONS_NOT_ZERO'),
      `${report.clearing.length} clearing rows, ${report.windows.length} windows`,
    ),
  );

  const belowLimit: string[] = [];
  for (const bank of ledgers) {
    for (const { account, entries } of bank.accounts) {
      // A clearing account is the bank's own: below zero whenever the bank is owed, by design.
      if (isClearingAccountId(account.accountId)) continue;
      const limit = -BigInt(account.overdraftLimitMinor);
      for (const entry of entries) if (BigInt(entry.balanceAfterMinor) < limit) belowLimit.push(`${bank.bankId}/${account.accountId} entry ${entry.sequence}: ${entry.balanceAfterMinor}`);
    }
  }
  verdicts.push(verdict('no balance was ever below its limit', belowLimit, `every entry's balance-after checked`));

  const depositsByCurrency = new Map<string, bigint>();
  for (const account of inputs.accounts) depositsByCurrency.set(account.currency, (depositsByCurrency.get(account.currency) ?? 0n) + account.depositMinor);
  const conservation = report.conservation.flatMap((c) => (BigInt(c.balancesMinor) === (depositsByCurrency.get(c.currency) ?? 0n) && c.holds ? [] : [`${c.currency}: deposits made ${depositsByCurrency.get(c.currency) ?? 0n}, ledgers' deposits ${c.depositsMinor}, balances ${c.balancesMinor}`]));
  verdicts.push(verdict('the sum of all balances equals the sum of all deposits, per currency', conservation, report.conservation.map((c) => `${c.currency} ${c.balancesMinor}`).join(', ')));

  const wrongOutcome = acknowledged
    .filter((record) => mustNotComplete.has(record.kind) && statuses.get(record.transferId as string)?.status === 'COMPLETED')
    .map((record) => `${record.transferId} (${record.kind}) COMPLETED`);
  verdicts.push(verdict('transfers that must fail never complete', wrongOutcome, `${acknowledged.filter((record) => mustNotComplete.has(record.kind)).length} such transfers`));

  const finalStatuses = new Map(acknowledged.map((record) => [record.transferId as string, replay.workflowStatuses.get(record.transferId as string)]));
  verdicts.push(
    verdict(
      'the settlement bank holds exactly the legs each final status implies; positions sum to zero; reserves hold what was paid in',
      settlementViolations(settlement, finalStatuses, interbankCompleted(ledgers, finalStatuses)),
      `${settlement.accounts.length} settlement accounts`,
    ),
  );

  const reconciliation = await runReconciliation(operator);
  const reconciliationFailures = reconciliation === null ? ['reconciliation did not finish'] : reconciliation.discrepancies.map((d) => `${d.kind} ${d.transferId ?? d.accountId ?? ''}: ${d.detail}`);
  verdicts.push(verdict('the reconciliation workflow finds no discrepancy', reconciliationFailures, reconciliation ? `${reconciliation.transfers.seen} transfers, ${reconciliation.settlement.length} settlement positions` : ''));

  verdicts.push(verdict('every workflow history of the run replays with the current code', replay.failures, `${replay.replayed} histories replayed`));
  return { verdicts, statuses, reconciliation, historiesReplayed: replay.replayed };
}
