import { spawnSync } from 'node:child_process';
import { MongoClient } from 'mongodb';
import { temporalBinaryPath } from '../../../infra/binaries';
import { apiDatabaseName } from '../../../infra/cluster';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import type { TransferRecordDocument } from '../../../lib/record/transfer-record';
import { TransferRecordStore } from '../../../lib/record/transfer-record-store';
import { createTransferBodySchema } from '../../../services/transfer-api/schemas';
import { normalisedRequest, requestFingerprint, transferIdFor } from '../../../services/transfer-api/use-cases/create-transfer';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { captureWorkflowHistory } from '../../support/history-capture';
import { runCli, type CliRun } from '../../support/cli';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';

jest.setTimeout(300_000);

const approvalThresholdMinor = 1_000_000n;
const terminalStatuses = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'];

type Account = readonly [bankId: string, accountId: string];
const ada: Account = ['bank-a', 'ada'];
const abe: Account = ['bank-a', 'abe'];
const bea: Account = ['bank-b', 'bea'];
/** Frozen before any transfer: every credit to it is refused. */
const fritz: Account = ['bank-b', 'fritz'];
const cy: Account = ['bank-c', 'cy'];
const cleo: Account = ['bank-c', 'cleo'];
const funding: ReadonlyArray<readonly [Account, bigint]> = [
  [ada, 50_000_000n],
  [abe, 5_000_000n],
  [bea, 5_000_000n],
  [fritz, 0n],
  [cy, 5_000_000n],
  [cleo, 0n],
];
const totalMinor = funding.reduce((sum, [, amount]) => sum + amount, 0n);
const key = ([bankId, accountId]: Account): string => `${bankId}:${accountId}`;

interface WorkflowRun {
  runId: string;
  /** RUNNING, COMPLETED, TERMINATED, … */
  status: string;
}

interface HistoryEvent {
  eventId: string;
  eventType: string;
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string } };
  markerRecordedEventAttributes?: { markerName?: string; details?: Record<string, { payloads?: Array<{ data?: string }> }> };
}

/**
 * What an operator can do to transfer workflows in Temporal (delete, terminate, reset) and a crash
 * of the API between recording a transfer and starting it, on the real cluster with the real
 * Temporal CLI. The transfer record answers for the transfer throughout; the sweeper flags what
 * stopped; the runbook's repair finishes it; money moves exactly once, and reconciliation agrees.
 */
describe('operator actions in Temporal, on the real cluster', () => {
  /** `npm run replay:capture` keeps the history of a repair run for the replay suite. */
  const captureLatestRun = (transferId: string, name: string): Promise<void> => captureWorkflowHistory(env.cluster, transferWorkflowId(transferId), name);

  let env: TestCluster;
  let operator: ApiCaller;
  let clientA: ApiCaller;
  let mongo: MongoClient;
  let records: TransferRecordStore;
  /** Reset to the first workflow task after they were approved and completed; then approved again, rejected, or terminated and repaired. */
  const approvalRepeated: { approved?: string; rejected?: string; repaired?: string } = {};

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-operator-actions', {
      services: true,
      serviceEnv: {
        APPROVAL_THRESHOLD_MINOR: String(approvalThresholdMinor),
        TRANSFER_SWEEP_INTERVAL_MS: '500',
        TRANSFER_START_GRACE_MS: '1000',
        REFUND_ATTENTION_AFTER_ATTEMPTS: '2',
        COMPENSATION_RETRY_MAX_INTERVAL_MS: '1000',
        LOG_LEVEL: 'warn',
      },
      // Temporal removes a deleted workflow once its queues' ack levels pass its close (about 30 s
      // with the defaults); advancing them every second keeps the delete tests short.
      dynamicConfig: ['history.visibilityProcessorUpdateAckInterval="1s"', 'history.transferProcessorUpdateAckInterval="1s"'],
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    clientA = apiCaller(env.cluster.transferApiUrl, env.keyFor('client-a'));
    mongo = new MongoClient(env.cluster.apiDatabaseUrl, { useBigInt64: true });
    records = new TransferRecordStore(mongo.db(apiDatabaseName));
    for (const [[bankId, accountId], amount] of funding) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (amount > 0n) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(amount), currency: 'EUR' })).status).toBe(200);
    }
    expect((await operator.post(`/v1/banks/${fritz[0]}/accounts/${fritz[1]}/freeze`, {}, { 'idempotency-key': 'freeze-fritz' })).status).toBe(200);
  });

  afterAll(async () => {
    await mongo?.close();
    await env?.stop();
  });

  // --- the API -------------------------------------------------------------------------------

  const bodyOf = (from: Account, to: Account, amountMinor: string) => ({ source: { bankId: from[0], accountId: from[1] }, target: { bankId: to[0], accountId: to[1] }, amountMinor, currency: 'EUR' });

  function create(caller: ApiCaller, idempotencyKey: string, from: Account, to: Account, amountMinor: string): Promise<HttpAnswer> {
    return caller.post('/v1/transfers', bodyOf(from, to, amountMinor), { 'idempotency-key': idempotencyKey });
  }

  async function started(caller: ApiCaller, idempotencyKey: string, from: Account, to: Account, amountMinor: string): Promise<string> {
    const answer = await create(caller, idempotencyKey, from, to, amountMinor);
    expect(answer.status).toBe(202);
    return String(answer.body.id);
  }

  function waitFor(id: string, what: string, predicate: (transfer: HttpAnswer['body']) => boolean, timeoutMs = 60_000): Promise<HttpAnswer['body']> {
    return eventually(`${id} ${what}`, async () => {
      const answer = await operator.get(`/v1/transfers/${id}`);
      return answer.status === 200 && predicate(answer.body) ? answer.body : undefined;
    }, timeoutMs, 100);
  }

  const ended = (id: string) => waitFor(id, 'to end', (transfer) => terminalStatuses.includes(String(transfer.status)), 120_000);

  async function balances(): Promise<Record<string, string>> {
    const all: Record<string, string> = {};
    for (const [account] of funding) {
      const answer = await operator.get(`/v1/banks/${account[0]}/accounts/${account[1]}`);
      expect(answer.status).toBe(200);
      all[key(account)] = String(answer.body.balanceMinor);
    }
    return all;
  }

  /** Every account's balance is `before` plus the given changes, and the sum of all balances is what was deposited. */
  async function expectBalances(before: Record<string, string>, changes: Record<string, bigint> = {}): Promise<Record<string, string>> {
    const after = await balances();
    expect(after).toEqual(Object.fromEntries(Object.entries(before).map(([account, minor]) => [account, String(BigInt(minor) + (changes[account] ?? 0n))])));
    expect(Object.values(after).reduce((sum, minor) => sum + BigInt(minor), 0n)).toBe(totalMinor);
    return after;
  }

  /** The ledger entries naming a transfer at the given accounts, as `bank:account kind outcome`. */
  async function legsOf(id: string, ...accounts: Account[]): Promise<string[]> {
    const legs: string[] = [];
    for (const account of accounts) {
      const page = await operator.get(`/v1/banks/${account[0]}/accounts/${account[1]}/entries?limit=500`);
      expect(page.status).toBe(200);
      expect(page.body.nextCursor).toBeNull();
      for (const entry of page.body.data as Array<{ operationId: string; kind: string; outcome: string }>) {
        if (entry.operationId.startsWith(`${id}:`)) legs.push(`${key(account)} ${entry.kind} ${entry.outcome}`);
      }
    }
    return legs;
  }

  async function listedIds(caller: ApiCaller, query: string): Promise<string[]> {
    const page = await caller.get(`/v1/transfers?limit=100${query}`);
    expect(page.status).toBe(200);
    return (page.body.data as Array<{ id: string }>).map((item) => item.id);
  }

  async function needingAttentionGauge(): Promise<number> {
    const text = await (await fetch(`${env.cluster.transferApiUrl}/metrics`)).text();
    const line = /^transfers_needing_attention (\d+)$/m.exec(text);
    if (!line?.[1]) throw new Error('no transfers_needing_attention in /metrics');
    return Number(line[1]);
  }

  /** Runs `during` with the bank's account service killed; `during` restarts it when it is ready to, else this does. */
  async function whileBankDown<T>(bankId: string, during: () => Promise<T>): Promise<T> {
    const name = `account-service-${bankId}`;
    await env.cluster.kill(name);
    try {
      return await during();
    } finally {
      if (!env.cluster.component(name).process.running) await env.cluster.restart(name);
    }
  }

  const cli = (...args: string[]): CliRun => runCli(env.cluster.transferApiUrl, env.keyFor('operator'), ...args);

  // --- the Temporal CLI ----------------------------------------------------------------------

  function temporal(...args: string[]): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(temporalBinaryPath(), [...args, '--address', env.cluster.temporalAddress, '--namespace', env.cluster.namespace], { encoding: 'utf8', timeout: 60_000 });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }

  function temporalOk(...args: string[]): string {
    const result = temporal(...args);
    if (result.status !== 0) throw new Error(`temporal ${args.join(' ')} exited ${result.status}: ${result.stderr}${result.stdout}`);
    return result.stdout;
  }

  /** The workflow's latest run, or undefined when Temporal has none. */
  function describeRun(id: string): WorkflowRun | undefined {
    const result = temporal('workflow', 'describe', '--workflow-id', transferWorkflowId(id), '--output', 'json');
    if (result.status !== 0) {
      if (/not found/i.test(`${result.stderr}${result.stdout}`)) return undefined;
      throw new Error(`temporal workflow describe exited ${result.status}: ${result.stderr}`);
    }
    const info = (JSON.parse(result.stdout) as { workflowExecutionInfo: { execution: { runId: string }; status: string } }).workflowExecutionInfo;
    return { runId: info.execution.runId, status: info.status.replace(/^WORKFLOW_EXECUTION_STATUS_/, '') };
  }

  function waitForRun(id: string, what: string, predicate: (run: WorkflowRun) => boolean): Promise<WorkflowRun> {
    return eventually(`${id}: ${what}`, async () => {
      const run = describeRun(id);
      return run && predicate(run) ? run : undefined;
    }, 60_000, 200);
  }

  function history(id: string, runId: string): HistoryEvent[] {
    const shown = temporalOk('workflow', 'show', '--workflow-id', transferWorkflowId(id), '--run-id', runId, '--output', 'json');
    return (JSON.parse(shown) as { events: HistoryEvent[] }).events.map((event) => ({ ...event, eventType: event.eventType.replace(/^EVENT_TYPE_/, '') }));
  }

  /** Whether a run has recorded its debit: as an ordinary activity, or as a local activity's marker. */
  function debitRecorded(id: string, runId: string): true | undefined {
    const debitMarker = (event: HistoryEvent): boolean =>
      event.markerRecordedEventAttributes?.markerName === 'core_local_activity' &&
      Buffer.from(event.markerRecordedEventAttributes.details?.data?.payloads?.[0]?.data ?? '', 'base64').toString('utf8').includes('"activity_type":"debit"');
    return history(id, runId).some((event) => debitMarker(event) || event.activityTaskScheduledEventAttributes?.activityType?.name === 'debit') ? true : undefined;
  }

  async function deleteWorkflow(id: string): Promise<void> {
    temporalOk('workflow', 'delete', '--workflow-id', transferWorkflowId(id));
    await eventually(`${id}'s workflow to be gone`, async () => (describeRun(id) === undefined ? true : undefined));
  }

  function resetWorkflow(id: string, runId: string, to: ['--type', 'FirstWorkflowTask' | 'LastWorkflowTask']): void {
    temporalOk('workflow', 'reset', '--workflow-id', transferWorkflowId(id), '--run-id', runId, ...to, '--reason', 'operator-actions test');
  }

  async function latestWriterRunId(id: string): Promise<string | undefined> {
    return (await records.find(id))?.latest?.writer.runId;
  }

  // --- delete --------------------------------------------------------------------------------

  describe('when Temporal deletes the workflow of an ended transfer', () => {
    test.each([
      ['COMPLETED', bea, undefined],
      ['REFUNDED', fritz, 'ACCOUNT_FROZEN'],
    ] as const)(
      'when a %s transfer’s workflow is deleted, then the record still answers GET, both lists and the replay, and a reused key is refused without moving money',
      async (status, target, reason) => {
        const before = await balances();
        const idempotencyKey = `delete-${status}`;
        const id = await started(clientA, idempotencyKey, ada, target, '1000');
        const final = await ended(id);
        expect(final).toMatchObject({ status, needsAttention: false });
        expect(final.reason).toBe(reason);
        const moved = status === 'COMPLETED' ? { [key(ada)]: -1000n, [key(target)]: 1000n } : {};
        const afterTransfer = await expectBalances(before, moved);

        await deleteWorkflow(id);

        const read = await clientA.get(`/v1/transfers/${id}`);
        expect(read.status).toBe(200);
        expect(read.body).toEqual(final);
        expect(await listedIds(clientA, '')).toContain(id);
        expect(await listedIds(operator, '')).toContain(id);

        const replay = await create(clientA, idempotencyKey, ada, target, '1000');
        expect(replay.status).toBe(200);
        expect(replay.headers.get('idempotent-replayed')).toBe('true');
        expect(replay.body).toEqual(final);

        const otherAmount = await create(clientA, idempotencyKey, ada, target, '1001');
        expect(otherAmount.status).toBe(422);
        expect(otherAmount.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });
        const otherTarget = await create(clientA, idempotencyKey, ada, abe, '1000');
        expect(otherTarget.status).toBe(422);
        expect(otherTarget.body.error).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED', field: 'Idempotency-Key' });

        // Nothing started again: no workflow, no ledger entry anywhere, no balance changed.
        expect(describeRun(id)).toBeUndefined();
        await expectBalances(afterTransfer);
        expect(await legsOf(id, ada, abe, target)).toEqual(
          status === 'COMPLETED' ? [`${key(ada)} debit APPLIED`, `${key(target)} credit APPLIED`] : [`${key(ada)} debit APPLIED`, `${key(ada)} refund APPLIED`, `${key(target)} credit REFUSED`],
        );
      },
    );
    test('when the workflow of a transfer awaiting approval is deleted, then the record flags it as stopped, and the repair command ends it CANCELLED with no balance changed', async () => {
      const before = await balances();
      const id = await started(clientA, 'delete-running', ada, bea, String(approvalThresholdMinor));
      await waitFor(id, 'to await approval', (transfer) => transfer.status === 'AWAITING_APPROVAL');

      // Temporal terminates a running workflow before it deletes it.
      await deleteWorkflow(id);

      const flagged = await waitFor(id, 'to be flagged', (transfer) => transfer.needsAttention === true);
      expect(flagged.status).toBe('AWAITING_APPROVAL');
      // WORKFLOW_TERMINATED when the sweeper looked between the terminate and the delete.
      expect(['WORKFLOW_MISSING', 'WORKFLOW_TERMINATED']).toContain(flagged.attentionReason);
      // The attention set is written just after the status entry that raised the flag.
      expect(await eventually('the attention list to show it', async () => ((await listedIds(operator, '&needsAttention=true')).includes(id) ? true : undefined))).toBe(true);
      expect(cli('repair', id).status).toBe(0);
      expect(await ended(id)).toMatchObject({ status: 'CANCELLED', reason: 'WORKFLOW_TERMINATED', needsAttention: false });
      expect(await listedIds(operator, '&needsAttention=true')).not.toContain(id);
      await expectBalances(before);
      expect(await legsOf(id, ada, bea)).toEqual([`${key(ada)} void APPLIED`, `${key(bea)} void APPLIED`]);
    });
  });

  // --- terminate -----------------------------------------------------------------------------

  describe('when Temporal terminates the workflow of a running transfer', () => {
    /** Waits for the sweeper's flag, then checks that every place an operator looks shows it. */
    async function expectFlaggedTerminated(id: string, status: string): Promise<void> {
      const flagged = await waitFor(id, 'to be flagged WORKFLOW_TERMINATED', (transfer) => transfer.needsAttention === true && transfer.attentionReason === 'WORKFLOW_TERMINATED');
      expect(flagged.status).toBe(status);
      // The attention set is written just after the status entry that raised the flag.
      expect(await eventually('the attention list to show it', async () => ((await listedIds(operator, '&needsAttention=true')).includes(id) ? true : undefined))).toBe(true);
      expect(await eventually('the gauge to count it', async () => ((await needingAttentionGauge()) >= 1 ? true : undefined))).toBe(true);
    }

    async function expectRepaired(id: string, status: string, terminatedRunId: string): Promise<void> {
      const final = await ended(id);
      expect(final).toMatchObject({ status, reason: 'WORKFLOW_TERMINATED', needsAttention: false });
      // The run records its end, then closes.
      const run = await waitForRun(id, 'the repair run to complete', (found) => found.status === 'COMPLETED');
      expect(run.runId).not.toBe(terminatedRunId);
      expect(await listedIds(operator, '&needsAttention=true')).not.toContain(id);
      const again = await operator.post(`/v1/transfers/${id}/repair`, {});
      expect(again.status).toBe(409);
      expect(again.body.error?.code).toBe('TRANSFER_NOT_REPAIRABLE');
    }

    test('when a transfer awaiting approval is terminated, then it is flagged WORKFLOW_TERMINATED, and the repair command ends it CANCELLED with no balance changed', async () => {
      const before = await balances();
      const id = await started(clientA, 'terminate-awaiting', ada, bea, String(approvalThresholdMinor));
      await waitFor(id, 'to await approval', (transfer) => transfer.status === 'AWAITING_APPROVAL');
      const running = await operator.post(`/v1/transfers/${id}/repair`, {});
      expect(running.status).toBe(409);
      expect(running.body.error?.code).toBe('TRANSFER_NOT_REPAIRABLE');
      const terminated = describeRun(id);

      temporalOk('workflow', 'terminate', '--workflow-id', transferWorkflowId(id), '--reason', 'operator-actions test');

      await expectFlaggedTerminated(id, 'AWAITING_APPROVAL');
      const approve = await operator.post(`/v1/transfers/${id}/approve`, {});
      expect(approve.status).toBe(409);
      expect(approve.body.error?.code).toBe('TRANSFER_NOT_AWAITING_APPROVAL');
      const repaired = cli('repair', id);
      expect(repaired.stderr).toBe('');
      expect(repaired.status).toBe(0);
      expect(JSON.parse(repaired.stdout)).toMatchObject({ id });
      await expectRepaired(id, 'CANCELLED', String(terminated?.runId));
      await expectBalances(before);
      expect(await legsOf(id, ada, bea)).toEqual([`${key(ada)} void APPLIED`, `${key(bea)} void APPLIED`]);
    });

    test('when a debited transfer is terminated while its target bank is down, then it is flagged, its repair waits for the bank, and it ends REFUNDED with the source whole', async () => {
      const before = await balances();
      const id = await whileBankDown('bank-c', async () => {
        const id = await started(clientA, 'terminate-debited', ada, cy, '3000');
        await waitFor(id, 'to be debited', (transfer) => transfer.status === 'DEBITED');
        const terminated = describeRun(id);
        expect(terminated?.status).toBe('RUNNING');

        temporalOk('workflow', 'terminate', '--workflow-id', transferWorkflowId(id), '--reason', 'operator-actions test');

        await expectFlaggedTerminated(id, 'DEBITED');
        const repaired = cli('repair', id);
        expect(repaired.status).toBe(0);
        // The repair run waits on the target bank to void the credit's slot: it is running.
        await waitForRun(id, 'the repair run to run', (run) => run.runId !== terminated?.runId && run.status === 'RUNNING');
        const whileRunning = cli('repair', id);
        expect(whileRunning.status).toBe(1);
        expect(whileRunning.stderr).toContain('TRANSFER_NOT_REPAIRABLE');
        await env.cluster.restart('account-service-bank-c');
        await expectRepaired(id, 'REFUNDED', String(terminated?.runId));
        await captureLatestRun(id, 'repaired-refunded');
        return id;
      });
      await expectBalances(before);
      expect(await legsOf(id, ada, cy)).toEqual([`${key(ada)} debit APPLIED`, `${key(ada)} refund APPLIED`, `${key(cy)} void APPLIED`]);
      expect(await eventually('the gauge to drop to 0', async () => ((await needingAttentionGauge()) === 0 ? true : undefined))).toBe(true);
    });
  });

  // --- reset ---------------------------------------------------------------------------------

  describe('when Temporal resets the workflow of a transfer', () => {
    // The legs run in the worker (local activities), so the debit has no workflow task of its own to reset to: the second reset goes to the run's last one.
    test('when a COMPLETED transfer is reset to its first workflow task and then to its last, then each new run ends COMPLETED and the money moved once', async () => {
      const before = await balances();
      const id = await started(clientA, 'reset-completed', ada, bea, '4000');
      expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      const first = await waitForRun(id, 'the run to complete', (run) => run.status === 'COMPLETED');

      resetWorkflow(id, first.runId, ['--type', 'FirstWorkflowTask']);
      const second = await waitForRun(id, 'the reset run to complete', (run) => run.runId !== first.runId && run.status === 'COMPLETED');
      resetWorkflow(id, second.runId, ['--type', 'LastWorkflowTask']);
      const third = await waitForRun(id, 'the second reset run to complete', (run) => ![first.runId, second.runId].includes(run.runId) && run.status === 'COMPLETED');

      expect(await ended(id)).toMatchObject({ status: 'COMPLETED', needsAttention: false });
      expect(await eventually('the record to follow the newest run', async () => ((await latestWriterRunId(id)) === third.runId ? true : undefined))).toBe(true);
      await expectBalances(before, { [key(ada)]: -4000n, [key(bea)]: 4000n });
      expect(await legsOf(id, ada, bea)).toEqual([`${key(ada)} debit APPLIED`, `${key(bea)} credit APPLIED`]);
    });

    test('when a debited, running transfer is reset to its first workflow task and then to its last, then the last run completes once the bank is back, with one debit and one credit', async () => {
      const before = await balances();
      const id = await whileBankDown('bank-c', async () => {
        const id = await started(clientA, 'reset-running', abe, cleo, '5000');
        await waitFor(id, 'to be debited', (transfer) => transfer.status === 'DEBITED');
        const first = await waitForRun(id, 'the run to run', (run) => run.status === 'RUNNING');

        resetWorkflow(id, first.runId, ['--type', 'FirstWorkflowTask']);
        const second = await waitForRun(id, 'the reset run to run', (run) => run.runId !== first.runId && run.status === 'RUNNING');
        await eventually('the reset run to debit again', async () => debitRecorded(id, second.runId));
        resetWorkflow(id, second.runId, ['--type', 'LastWorkflowTask']);
        const third = await waitForRun(id, 'the second reset run to run', (run) => ![first.runId, second.runId].includes(run.runId) && run.status === 'RUNNING');
        await env.cluster.restart('account-service-bank-c');

        expect(await ended(id)).toMatchObject({ status: 'COMPLETED', needsAttention: false });
        expect((await waitForRun(id, 'the last run to complete', (run) => run.status === 'COMPLETED')).runId).toBe(third.runId);
        expect(await eventually('the record to follow the newest run', async () => ((await latestWriterRunId(id)) === third.runId ? true : undefined))).toBe(true);
        return id;
      });
      await expectBalances(before, { [key(abe)]: -5000n, [key(cleo)]: 5000n });
      expect(await legsOf(id, abe, cleo)).toEqual([`${key(abe)} debit APPLIED`, `${key(cleo)} credit APPLIED`]);
    });

    test('when an approved, COMPLETED transfer is reset to its first workflow task, then the new run awaits approval again, and approved or rejected the money stays moved once', async () => {
      const amount = approvalThresholdMinor;
      const before = await balances();
      const toApprove = await started(clientA, 'reset-approved-1', ada, bea, String(amount));
      const toReject = await started(clientA, 'reset-approved-2', ada, bea, String(amount));
      for (const id of [toApprove, toReject]) {
        await waitFor(id, 'to await approval', (transfer) => transfer.status === 'AWAITING_APPROVAL');
        expect((await operator.post(`/v1/transfers/${id}/approve`, {})).status).toBe(200);
        expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      }
      const moved = await expectBalances(before, { [key(ada)]: -2n * amount, [key(bea)]: 2n * amount });

      for (const id of [toApprove, toReject]) {
        const first = await waitForRun(id, 'the run to complete', (run) => run.status === 'COMPLETED');
        resetWorkflow(id, first.runId, ['--type', 'FirstWorkflowTask']);
        await waitFor(id, 'to await approval again', (transfer) => transfer.status === 'AWAITING_APPROVAL');
      }
      expect((await operator.post(`/v1/transfers/${toApprove}/approve`, {})).status).toBe(200);
      expect((await operator.post(`/v1/transfers/${toReject}/reject`, {})).status).toBe(200);
      expect(await ended(toApprove)).toMatchObject({ status: 'COMPLETED' });
      // A rejection closes the transfer's slots first, and finds the first run's credit: the money moved, so it is COMPLETED.
      expect(await ended(toReject)).toMatchObject({ status: 'COMPLETED' });
      approvalRepeated.approved = toApprove;
      approvalRepeated.rejected = toReject;

      await expectBalances(moved);
      for (const id of [toApprove, toReject]) expect(await legsOf(id, ada, bea)).toEqual([`${key(ada)} debit APPLIED`, `${key(bea)} credit APPLIED`]);
    });

    test('when the reset run of an ended transfer is terminated while it awaits approval again, then the sweeper flags it, and the repair finds the credit applied and ends it COMPLETED', async () => {
      const amount = approvalThresholdMinor;
      const before = await balances();
      const id = await started(clientA, 'reset-approved-3', ada, bea, String(amount));
      await waitFor(id, 'to await approval', (transfer) => transfer.status === 'AWAITING_APPROVAL');
      expect((await operator.post(`/v1/transfers/${id}/approve`, {})).status).toBe(200);
      expect(await ended(id)).toMatchObject({ status: 'COMPLETED' });
      const first = await waitForRun(id, 'the run to complete', (run) => run.status === 'COMPLETED');
      resetWorkflow(id, first.runId, ['--type', 'FirstWorkflowTask']);
      await waitFor(id, 'to await approval again', (transfer) => transfer.status === 'AWAITING_APPROVAL');
      const reset = await waitForRun(id, 'the reset run to run', (run) => run.runId !== first.runId && run.status === 'RUNNING');

      temporalOk('workflow', 'terminate', '--workflow-id', transferWorkflowId(id), '--reason', 'operator-actions test');

      const flagged = await waitFor(id, 'to be flagged WORKFLOW_TERMINATED', (transfer) => transfer.needsAttention === true && transfer.attentionReason === 'WORKFLOW_TERMINATED');
      expect(flagged.status).toBe('AWAITING_APPROVAL');
      // The attention set is written just after the status entry that raised the flag.
      expect(await eventually('the attention list to show it', async () => ((await listedIds(operator, '&needsAttention=true')).includes(id) ? true : undefined))).toBe(true);
      expect(cli('repair', id).status).toBe(0);
      const final = await ended(id);
      expect(final).toMatchObject({ status: 'COMPLETED', needsAttention: false });
      expect(final.reason).toBeUndefined();
      expect((await waitForRun(id, 'the repair run to complete', (run) => run.status === 'COMPLETED')).runId).not.toBe(reset.runId);
      expect(await listedIds(operator, '&needsAttention=true')).not.toContain(id);
      approvalRepeated.repaired = id;
      await expectBalances(before, { [key(ada)]: -amount, [key(bea)]: amount });
      expect(await legsOf(id, ada, bea)).toEqual([`${key(ada)} debit APPLIED`, `${key(bea)} credit APPLIED`]);
    });
  });

  // --- crash between the record and the start ------------------------------------------------

  describe('when the API stops between recording a transfer and starting its saga', () => {
    /** Writes the record exactly as POST /v1/transfers does before it starts the saga, and starts nothing. */
    async function recordOnly(idempotencyKey: string, from: Account, to: Account, amountMinor: string): Promise<string> {
      const body = createTransferBodySchema.parse(bodyOf(from, to, amountMinor));
      const record: TransferRecordDocument = {
        _id: transferIdFor('client-a', idempotencyKey),
        client: 'client-a',
        fingerprint: requestFingerprint(body),
        request: normalisedRequest(body),
        createdAt: new Date().toISOString(),
      };
      expect(await records.create(record)).toEqual({ outcome: 'created' });
      return record._id;
    }

    test('when nobody asks again, then the sweeper starts the saga after its grace and the transfer completes with one debit and one credit', async () => {
      const before = await balances();
      const id = await recordOnly('crash-swept', ada, cy, '6000');
      const pending = await clientA.get(`/v1/transfers/${id}`);
      expect(pending.status).toBe(200);
      expect(pending.body).toMatchObject({ id, status: 'PENDING', needsAttention: false, requestedBy: 'client-a' });

      expect(await ended(id)).toMatchObject({ status: 'COMPLETED', needsAttention: false });
      await waitForRun(id, 'the swept run to complete', (run) => run.status === 'COMPLETED');
      expect(await listedIds(clientA, '')).toContain(id);
      await expectBalances(before, { [key(ada)]: -6000n, [key(cy)]: 6000n });
      expect(await legsOf(id, ada, cy)).toEqual([`${key(ada)} debit APPLIED`, `${key(cy)} credit APPLIED`]);
    });

    test('when the client replays at once with the same key and body, then the replay answers 200 and starts the saga, which completes once', async () => {
      const before = await balances();
      const id = await recordOnly('crash-replayed', ada, cy, '7000');
      const replay = await create(clientA, 'crash-replayed', ada, cy, '7000');
      expect(replay.status).toBe(200);
      expect(replay.headers.get('idempotent-replayed')).toBe('true');
      expect(replay.body).toMatchObject({ id, amountMinor: '7000' });

      expect(await ended(id)).toMatchObject({ status: 'COMPLETED', needsAttention: false });
      await expectBalances(before, { [key(ada)]: -7000n, [key(cy)]: 7000n });
      expect(await legsOf(id, ada, cy)).toEqual([`${key(ada)} debit APPLIED`, `${key(cy)} credit APPLIED`]);
    });
  });

  // --- account changes from the CLI ---------------------------------------------------------

  test('when an operator freezes an account with the CLI, then it prints its Idempotency-Key, and a repeat with --idempotency-key answers the first decision and changes nothing', async () => {
    expect((await operator.post('/v1/banks/bank-a/accounts', { accountId: 'cliff', owner: 'cliff', currency: 'EUR' })).status).toBe(201);
    const freeze = cli('accounts', 'freeze', 'bank-a', 'cliff');
    expect([freeze.status, freeze.stderr]).toEqual([0, '']);
    const frozen = JSON.parse(freeze.stdout) as { idempotencyKey: string; replayed: boolean; account: Record<string, unknown> };
    expect(frozen).toMatchObject({ idempotencyKey: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/), replayed: false, account: { status: 'FROZEN', sequence: 1 } });
    const unfreeze = JSON.parse(cli('accounts', 'unfreeze', 'bank-a', 'cliff').stdout) as { idempotencyKey: string; account: Record<string, unknown> };
    expect(unfreeze.idempotencyKey).not.toBe(frozen.idempotencyKey);
    expect(unfreeze.account).toMatchObject({ status: 'ACTIVE', sequence: 2 });

    const repeat = cli('accounts', 'freeze', 'bank-a', 'cliff', '--idempotency-key', frozen.idempotencyKey);

    expect([repeat.status, repeat.stderr]).toEqual([0, '']);
    expect(JSON.parse(repeat.stdout)).toEqual({ ...frozen, replayed: true });
    expect((await operator.get('/v1/banks/bank-a/accounts/cliff')).body).toMatchObject({ status: 'ACTIVE', sequence: 2 });
    const reused = cli('accounts', 'close', 'bank-a', 'cliff', '--idempotency-key', frozen.idempotencyKey);
    expect(reused.status).toBe(1);
    expect(reused.stderr).toContain(`error 422 IDEMPOTENCY_KEY_REUSED`);
    expect(reused.stderr).toContain(`--idempotency-key ${frozen.idempotencyKey}`);
  });

  // --- reconciliation ------------------------------------------------------------------------

  test('when reconciliation runs after all of the above, then it knows every transfer (deleted workflows too), money is conserved, and the repeated approvals are reported', async () => {
    const startedRun = await operator.post('/v1/reconciliations', {});
    expect(startedRun.status).toBe(202);
    const run = await eventually('the reconciliation report', async () => {
      const answer = await operator.get(`/v1/reconciliations/${String(startedRun.body.reconciliationId)}`);
      return answer.body.report ? answer.body : undefined;
    }, 120_000, 500);
    const report = run.report as { conservation: Array<{ currency: string; depositsMinor: string; balancesMinor: string; inFlightMinor: string; holds: boolean }>; discrepancies: Array<{ kind: string; transferId?: string }>; discrepancyCount: number };

    expect(report.conservation).toEqual([{ currency: 'EUR', depositsMinor: String(totalMinor), balancesMinor: String(totalMinor), inFlightMinor: '0', holds: true }]);
    expect(report.discrepancies.filter((found) => found.kind === 'UNKNOWN_TRANSFER')).toEqual([]);
    const byTransfer = report.discrepancies.map((found) => `${found.kind} ${found.transferId ?? ''}`).sort();
    expect(byTransfer).toEqual(
      [
        `APPROVAL_REPEATED ${approvalRepeated.approved}`,
        `APPROVAL_REPEATED ${approvalRepeated.rejected}`,
        `APPROVAL_REPEATED ${approvalRepeated.repaired}`,
      ].sort(),
    );
    expect(report.discrepancyCount).toBe(3);
  });
});
