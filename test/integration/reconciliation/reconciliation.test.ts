import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { MongoClient } from 'mongodb';
import { databaseName } from '../../../infra/cluster';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { reconciliationScheduleId, reconciliationWorkflowType } from '../../../workflows/reconciliation-definitions';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { testDataConverter } from '../../support/temporal';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';

jest.setTimeout(300_000);

const projectRoot = join(__dirname, '..', '..', '..');
const initialMinor = 100_000n;

interface Run {
  reconciliationId: string;
  status: string;
  discrepancyFound: boolean | null;
  report: {
    discrepancyCount: number;
    discrepancies: Array<{ kind: string; transferId?: string; bankId?: string; accountId?: string }>;
    conservation: Array<{ currency: string; depositsMinor: string; balancesMinor: string; inFlightMinor: string; holds: boolean }>;
    settlement: Array<{ debtorBank: string; creditorBank: string; currency: string; netMinor: string; transfers: number }>;
    transfers: { seen: number; completed: number; reversed: number; inFlight: number };
    accounts: number;
    read: { fromCut: number | null; fullReadReason: string | null; accountsRead: number; entriesRead: number };
    discrepanciesLeftOut: number;
    settlementBank: string | null;
    clearing: Array<{ bankId: string; currency: string; clearingMinor: string; settlementMinor: string; inFlightMinor: string; holds: boolean }>;
  } | null;
}

/**
 * Every account a run reads: the 4 customer accounts, the clearing account (EUR) of each of the 3
 * banks, and at the settlement bank a reserve and a position per bank and settlement currency (2).
 */
const accountsInAllChains = 4 + 3 + 3 * 2 * 2;

/**
 * Reconciliation on the real cluster: clean ledgers give a clean report with the right
 * settlement positions; an entry written straight into a bank's database is reported; each run
 * reads only what follows the previous run's cut, and judges transfers from their record, so a
 * transfer whose workflow Temporal no longer has is judged like any other, and one that a later
 * run (a reset) recorded again is judged again without any new ledger entry.
 */
describe('reconciliation', () => {
  let env: TestCluster;
  let operator: ApiCaller;

  const accounts = [
    ['bank-a', 'alice', 'EUR'],
    ['bank-b', 'bob', 'EUR'],
    ['bank-c', 'carol', 'EUR'],
    ['bank-c', 'cuthbert', 'USD'],
  ] as const;

  async function transfer(key: string, from: readonly [string, string], to: readonly [string, string], amountMinor: string): Promise<HttpAnswer['body']> {
    const created = await operator.post(
      '/v1/transfers',
      { source: { bankId: from[0], accountId: from[1] }, target: { bankId: to[0], accountId: to[1] }, amountMinor, currency: 'EUR' },
      { 'idempotency-key': key },
    );
    expect(created.status).toBe(202);
    return eventually(`transfer ${key} to end`, async () => {
      const answer = await operator.get(`/v1/transfers/${String(created.body.id)}`);
      return ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(answer.body.status)) ? answer.body : undefined;
    }, 120_000);
  }

  async function reconcileThroughApi(): Promise<Run> {
    const started = await operator.post('/v1/reconciliations', {});
    expect(started.status).toBe(202);
    const id = String(started.body.reconciliationId);
    return eventually(`reconciliation ${id} to finish`, async () => {
      const answer = await operator.get(`/v1/reconciliations/${id}`);
      expect(answer.status).toBe(200);
      return answer.body.status === 'RUNNING' ? undefined : (answer.body as unknown as Run);
    }, 120_000);
  }

  function cli(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ['--import', 'tsx', join(projectRoot, 'services/transfer-api/cli/main.ts'), '--api-url', env.cluster.transferApiUrl, '--api-key', env.keyFor('operator'), ...args], {
      cwd: projectRoot,
      encoding: 'utf8',
      timeout: 120_000,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  beforeAll(async () => {
    env = await startTestCluster('reconciliation', { services: true, serviceEnv: { LOG_LEVEL: 'warn', RECONCILIATION_INTERVAL_MINUTES: '30', APPROVAL_THRESHOLD_MINOR: '10000000' } });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    for (const [bankId, accountId, currency] of accounts) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency })).status).toBe(201);
      expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(initialMinor), currency })).status).toBe(200);
    }
    expect((await transfer('r-1', ['bank-a', 'alice'], ['bank-b', 'bob'], '300')).status).toBe('COMPLETED');
    expect((await transfer('r-2', ['bank-b', 'bob'], ['bank-c', 'carol'], '100')).status).toBe('COMPLETED');
    expect((await transfer('r-3', ['bank-c', 'carol'], ['bank-a', 'alice'], '40')).status).toBe('COMPLETED');
    expect((await transfer('r-4', ['bank-a', 'alice'], ['bank-c', 'cuthbert'], '55')).status).toBe('REFUNDED');
    expect((await transfer('r-5', ['bank-a', 'alice'], ['bank-b', 'nobody'], '66')).status).toBe('REFUNDED');
    expect((await transfer('r-6', ['bank-b', 'bob'], ['bank-a', 'alice'], '5000000')).status).toBe('REJECTED');
  });

  afterAll(async () => {
    await env?.stop();
  });

  test('when the worker starts, then it has put the reconciliation schedule in place, and a triggered run reports like an operator\'s', async () => {
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      const handle = new Client({ connection, dataConverter: testDataConverter }).schedule.getHandle(reconciliationScheduleId);
      const schedule = await handle.describe();
      expect(schedule.action).toMatchObject({ type: 'startWorkflow', workflowType: reconciliationWorkflowType });
      expect(schedule.spec.intervals?.[0]?.every).toBe(30 * 60_000);
      await handle.trigger();
      const scheduled = await eventually('the scheduled run to finish', async () => {
        const page = await operator.get('/v1/reconciliations?limit=10');
        const runs = page.body.data as Array<{ reconciliationId: string; status: string; discrepancyFound: boolean | null }>;
        return runs.find((run) => run.reconciliationId.startsWith('scheduled') && run.status === 'COMPLETED');
      }, 60_000);
      const run = await operator.get(`/v1/reconciliations/${scheduled.reconciliationId}`);
      expect(run.body).toMatchObject({ discrepancyFound: false, report: { discrepancyCount: 0, accounts: accountsInAllChains } });
    } finally {
      await connection.close();
    }
  });

  test('when the ledgers are whole, then the report conserves every currency, nets the banks and finds nothing', async () => {
    const run = await reconcileThroughApi();
    expect(run.status).toBe('COMPLETED');
    expect(run.discrepancyFound).toBe(false);
    const report = run.report;
    expect(report?.discrepancies).toEqual([]);
    // The scheduled run before it read every chain; this one continues from its cut and finds nothing new.
    expect(report?.read).toEqual({ fromCut: expect.any(Number), fullReadReason: null, accountsRead: 0, entriesRead: 0 });
    expect(report?.accounts).toBe(accountsInAllChains);
    // Each bank's clearing account mirrors its legs at the settlement bank, read in the same run.
    expect(report?.settlementBank).toBe(env.cluster.settlementBankId);
    expect(report?.clearing.map((row) => [row.bankId, row.currency, row.holds])).toEqual([['bank-a', 'EUR', true], ['bank-b', 'EUR', true], ['bank-c', 'EUR', true]]);
    expect(report?.transfers).toEqual({ seen: 6, completed: 3, reversed: 2, inFlight: 0 });
    expect(report?.conservation).toEqual([
      { currency: 'EUR', depositsMinor: String(3n * initialMinor), balancesMinor: String(3n * initialMinor), inFlightMinor: '0', holds: true },
      { currency: 'USD', depositsMinor: String(initialMinor), balancesMinor: String(initialMinor), inFlightMinor: '0', holds: true },
    ]);
    expect(report?.settlement).toEqual([
      { debtorBank: 'bank-a', creditorBank: 'bank-b', currency: 'EUR', netMinor: '300', transfers: 1 },
      { debtorBank: 'bank-b', creditorBank: 'bank-c', currency: 'EUR', netMinor: '100', transfers: 1 },
      { debtorBank: 'bank-c', creditorBank: 'bank-a', currency: 'EUR', netMinor: '40', transfers: 1 },
    ]);
  });

  test('when an entry is written straight into a bank database, then reconciliation reports it, flags the run and the CLI exits 3', async () => {
    const bob = await operator.get('/v1/banks/bank-b/accounts/bob');
    const head = Number(bob.body.sequence);
    const balance = BigInt(String(bob.body.balanceMinor));
    const mongo = await MongoClient.connect(env.cluster.databaseUrls.get('bank-b') as string, { useBigInt64: true });
    try {
      await mongo
        .db(databaseName('bank-b'))
        .collection('entries')
        .insertOne({
          _id: `bob:${head + 1}` as never,
          accountId: 'bob',
          seq: head + 1,
          operationId: 'ghost-1:credit',
          kind: 'credit',
          amountMinor: 77n,
          balanceAfterMinor: balance + 77n,
          statusAfter: 'ACTIVE',
          outcome: 'APPLIED',
          requestedAmountMinor: 77n,
          requestedCurrency: 'EUR',
          createdAt: new Date().toISOString(),
        });
    } finally {
      await mongo.close();
    }

    const result = cli('reconcile');
    expect(result.stderr).not.toMatch(/^error/m);
    expect(result.status).toBe(3);
    expect(result.stdout).toMatch(/UNKNOWN_TRANSFER\s+ghost-1\s+bank-b\s+bob/);
    expect(result.stdout).toMatch(/CONSERVATION/);

    const run = await reconcileThroughApi();
    expect(run.discrepancyFound).toBe(true);
    expect(run.report?.discrepancies.map((d) => d.kind).sort()).toEqual(['CONSERVATION', 'UNKNOWN_TRANSFER']);
    expect(run.report?.conservation.find((c) => c.currency === 'EUR')).toMatchObject({ depositsMinor: String(3n * initialMinor), balancesMinor: String(3n * initialMinor + 77n), holds: false });

    const listed = await operator.get('/v1/reconciliations?limit=10');
    const runs = listed.body.data as Array<{ reconciliationId: string; discrepancyFound: boolean | null }>;
    expect(runs.find((entry) => entry.reconciliationId === run.reconciliationId)?.discrepancyFound).toBe(true);

    // The alert's gauge, read by the API from the latest completed run.
    const metrics = await (await fetch(`${env.cluster.transferApiUrl}/metrics`)).text();
    expect(metrics).toMatch(/^reconciliation_discrepancies\{bank="bank-b"\} 1$/m);
    expect(metrics).toMatch(/^reconciliation_discrepancies\{bank="all"\} 1$/m);
    expect(metrics).toMatch(/^reconciliation_discrepancies\{bank="bank-a"\} 0$/m);

    // The runbook's commands: list the runs, read one report.
    const cliRuns = JSON.parse(cli('--json', 'reconciliations', 'list').stdout) as { data: Array<{ reconciliationId: string; discrepancyFound: boolean | null }> };
    expect(cliRuns.data).toContainEqual(expect.objectContaining({ reconciliationId: run.reconciliationId, discrepancyFound: true }));
    const shown = cli('reconciliations', 'get', run.reconciliationId);
    expect(shown.status).toBe(0);
    expect(shown.stdout).toMatch(/discrepancies: 2/);
    expect(shown.stdout).toMatch(/bank-a\s+bank-b\s+EUR\s+300/);
  });

  test("when a transfer's workflow was deleted from Temporal, then the next run judges it from the record and reads only the entries since the cut", async () => {
    const before = (await reconcileThroughApi()).report;
    const done = await transfer('r-7', ['bank-a', 'alice'], ['bank-b', 'bob'], '10');
    expect(done.status).toBe('COMPLETED');
    const transferId = String(done.id);
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      const client = new Client({ connection, namespace: env.cluster.namespace, dataConverter: testDataConverter });
      await client.workflowService.deleteWorkflowExecution({ namespace: env.cluster.namespace, workflowExecution: { workflowId: transferWorkflowId(transferId) } });
      await eventually('the workflow to be deleted', async () => {
        try {
          await client.workflow.getHandle(transferWorkflowId(transferId)).describe();
          return undefined;
        } catch (error) {
          return error instanceof WorkflowNotFoundError ? true : undefined;
        }
      }, 60_000);
    } finally {
      await connection.close();
    }

    const after = (await reconcileThroughApi()).report;
    // The debit at alice and the credit at bob, their counterparts on both banks' clearing accounts, the
    // reservation and the credit at the settlement bank: nothing else was written since the last run's cut.
    expect(after?.read).toEqual({ fromCut: (before?.read.fromCut ?? 0) + 1, fullReadReason: null, accountsRead: 6, entriesRead: 6 });
    expect(after?.discrepancies.filter((d) => d.transferId === transferId)).toEqual([]);
    expect(after?.discrepancies.map((d) => d.kind).sort()).toEqual(['CONSERVATION', 'UNKNOWN_TRANSFER']);
    expect(after?.transfers).toEqual({ ...before?.transfers, seen: (before?.transfers.seen ?? 0) + 1, completed: (before?.transfers.completed ?? 0) + 1 });
    expect(after?.settlement.find((p) => p.debtorBank === 'bank-a' && p.creditorBank === 'bank-b')).toMatchObject({ netMinor: '310', transfers: 2 });
    expect(after?.discrepanciesLeftOut).toBe(0);
  });

  test('when a later workflow run records REFUNDED for a COMPLETED transfer, then the next run reports STATUS_CONTRADICTS_LEDGER for it alone and the gauge counts it for the credited bank', async () => {
    const done = await transfer('r-8', ['bank-b', 'bob'], ['bank-a', 'alice'], '20');
    expect(done.status).toBe('COMPLETED');
    const transferId = String(done.id);
    const before = (await reconcileThroughApi()).report;
    expect(before?.discrepancies.filter((d) => d.transferId === transferId)).toEqual([]);

    const mongo = await MongoClient.connect(env.cluster.apiDatabaseUrl, { useBigInt64: true });
    try {
      const store = new TransferRecordStore(mongo.db('transfer_api'));
      const latest = (await store.find(transferId))?.latest;
      if (!latest) throw new Error(`transfer ${transferId} has no status entry`);
      // What a reset run that contradicts the ledgers writes: its own run, started after the first; the ledgers' barrier gave it the original entries.
      const reset = { transferId, writer: { runId: 'reset-run', changedAtMs: Date.now(), revision: 1 }, state: { ...latest.state, status: 'REFUNDED' as const, updatedAt: new Date().toISOString() } };
      expect(await store.appendStatus(reset)).toBe(true);
      expect(await store.reopenedTransfers()).toContain(transferId);

      const after = (await reconcileThroughApi()).report;
      expect(after?.read).toEqual({ fromCut: (before?.read.fromCut ?? 0) + 1, fullReadReason: null, accountsRead: 0, entriesRead: 0 });
      expect(after?.discrepancies.filter((d) => d.kind === 'STATUS_CONTRADICTS_LEDGER')).toEqual([expect.objectContaining({ transferId, bankId: 'bank-a', accountId: 'alice' })]);
      expect(after?.discrepancyCount).toBe((before?.discrepancyCount ?? 0) + 1);
      // Judged and stored in the cut: out of the set, and not reported twice.
      expect(await store.reopenedTransfers()).not.toContain(transferId);
      expect((await reconcileThroughApi()).report?.discrepancyCount).toBe(after?.discrepancyCount);
    } finally {
      await mongo.close();
    }

    // The API reads the latest report at most once a minute for the gauge.
    const credited = await eventually('the gauge to count the finding at bank-a', async () => {
      const metrics = await (await fetch(`${env.cluster.transferApiUrl}/metrics`)).text();
      const count = Number(/^reconciliation_discrepancies\{bank="bank-a"\} (\d+)$/m.exec(metrics)?.[1] ?? 0);
      return count >= 1 ? count : undefined;
    }, 90_000, 1_000);
    expect(credited).toBeGreaterThanOrEqual(1);
  });

  test('when a reconciliation id is unknown, then it is 404; a client key may not start one', async () => {
    expect((await operator.get('/v1/reconciliations/no-such-run')).status).toBe(404);
    const client = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    expect((await client.post('/v1/reconciliations', {})).status).toBe(403);
  });
});
