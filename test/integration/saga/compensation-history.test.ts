import { Client, Connection, type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { tsToMs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { NativeConnection, Worker } from '@temporalio/worker';
import { transferWorkflowId } from '../../../lib/contracts/transfer-contract';
import { compensationRoundPauseMs } from '../../../workflows/transfer-policies';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';
import { quietTemporalRuntime, testDataConverter } from '../../support/temporal';
import { compensationRoundsWorkflow } from '../../support/workflows/compensation-rounds';

jest.setTimeout(300_000);

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

/**
 * Temporal terminates a workflow whose history reaches limit.historyCount.error (51,200 by default).
 * Lowered to 120 here (this transfer's whole history is under 80 events), a refund retried in rounds
 * by the workflow (11 events every ~6 s) is terminated after about 45 s of its bank being down; one
 * retried inside its activity must not be, however long the bank stays down.
 */
const historyCountLimit = 120;
const attentionAfterAttempts = 2;
/** How long the source bank stays down once the refund is flagged: past what 120 events held in rounds. */
const outageAfterAttentionMs = 60_000;
/** Events a transfer adds once its refund answers (record changes, status, completion): none depend on the outage. */
const eventsAfterRefundMax = 25;
/** When the history is first measured during the outage; it must not grow after that. */
const firstMeasureAfterMs = 20_000;

/**
 * The old design on a transfer, from its own history and the control's measured round: the events
 * before the refund's first attempt, then one round of `eventsPerRound` events every (first round's
 * duration + the 5 s pause) for as long as the bank was down. Measured in this test (one run): 29
 * events before the refund, rounds of 11 events every 1.0 + 5 s; the bank down 61 s → 10 rounds →
 * 29 + 10 × 11 = 139 events > 120, terminated after ~45 s; it could have recorded at most
 * (⌊(120 − 29) / 11⌋ + 1) × 2 = 18 attempts, where the refund in one activity recorded 65 (its
 * history: 39 events after 20 s of attention, 39 after 60 s, 49 at the end).
 */
function oldDesignFigures(events: readonly HistoryEvent[], bankBackAtMs: number, eventsPerRound: number) {
  const firstRefund = events.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED && event.activityTaskScheduledEventAttributes?.activityType?.name === 'refund');
  const firstRefundFailed = events.find((event) => Number(event.activityTaskFailedEventAttributes?.scheduledEventId ?? -1) === Number(firstRefund?.eventId));
  if (!firstRefund || !firstRefundFailed) throw new Error('the history holds no failed first round of the refund');
  const baseEvents = Number(firstRefund.eventId) - 1;
  const firstRoundMs = tsToMs(firstRefundFailed.eventTime) - tsToMs(firstRefund.eventTime);
  const failingMs = bankBackAtMs - tsToMs(firstRefund.eventTime);
  const rounds = Math.floor(failingMs / (firstRoundMs + compensationRoundPauseMs));
  return {
    baseEvents,
    firstRoundMs,
    failingMs,
    rounds,
    events: baseEvents + rounds * eventsPerRound,
    /** The most attempts it could record before its termination at the limit (the round that reaches it included). */
    attemptsMax: (Math.floor((historyCountLimit - baseEvents) / eventsPerRound) + 1) * attentionAfterAttempts,
  };
}

interface RoundsControl {
  eventsPerRound: number;
  terminatedAtEvents: number;
  reason: string;
}

/**
 * A transfer's refund after its bank has been down past its first round: the history stays small and
 * flat however long the bank stays down, while a compensation in rounds is terminated at the same limit.
 */
describe('compensation history under a lowered history limit (real cluster)', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let client: Client;
  let connection: Connection;
  let roundsControl: Promise<RoundsControl> | undefined;

  const accounts: Array<[string, string, bigint]> = [
    ['bank-a', 'alice', 1_000_000n],
    ['bank-a', 'pat', 5_000n],
    ['bank-b', 'bob', 0n],
  ];

  beforeAll(async () => {
    quietTemporalRuntime();
    env = await startTestCluster('compensation-history', {
      banks: ['bank-a', 'bank-b'],
      services: true,
      dynamicConfig: [`limit.historyCount.error=${historyCountLimit}`, `limit.historyCount.warn=${historyCountLimit / 2}`],
      serviceEnv: {
        REFUND_ATTENTION_AFTER_ATTEMPTS: String(attentionAfterAttempts),
        COMPENSATION_RETRY_MAX_INTERVAL_MS: '500',
        // Long enough that the credit is still being retried when the target bank comes back and refuses it.
        CREDIT_GIVE_UP_AFTER_MS: '60000',
        DEBIT_GIVE_UP_AFTER_MS: '3000',
        LOG_LEVEL: 'warn',
      },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    connection = await Connection.connect({ address: env.cluster.temporalAddress });
    client = new Client({ connection, dataConverter: testDataConverter });
    for (const [bankId, accountId, funds] of accounts) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (funds > 0n) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: String(funds), currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await connection?.close();
    await env?.stop();
  });

  async function balances(): Promise<Record<string, string>> {
    const all: Record<string, string> = {};
    for (const [bankId, accountId] of accounts) all[`${bankId}:${accountId}`] = String((await operator.get(`/v1/banks/${bankId}/accounts/${accountId}`)).body.balanceMinor);
    return all;
  }

  async function waitFor(id: string, predicate: (transfer: HttpAnswer['body']) => boolean, what: string, timeoutMs = 60_000): Promise<HttpAnswer['body']> {
    return eventually(`${id} ${what}`, async () => {
      const transfer = (await operator.get(`/v1/transfers/${id}`)).body;
      return predicate(transfer) ? transfer : undefined;
    }, timeoutMs, 100);
  }

  /**
   * The negative control, run once: the old design's command shape (a round of attempts, then a
   * timer) on a worker of the test's own, against the same limit. Measures the events a round adds.
   */
  function runRoundsControl(): Promise<RoundsControl> {
    roundsControl ??= (async () => {
      const taskQueue = 'compensation-rounds';
      const workerConnection = await NativeConnection.connect({ address: env.cluster.temporalAddress });
      try {
        const worker = await Worker.create({
          connection: workerConnection,
          taskQueue,
          workflowsPath: require.resolve('../../support/workflows/compensation-rounds'),
          activities: { failingCompensation: async () => Promise.reject(ApplicationFailure.retryable('bank did not answer', 'BANK_UNAVAILABLE')) },
          dataConverter: testDataConverter,
        });
        const handle = await worker.runUntil(async () => {
          const started = await client.workflow.start(compensationRoundsWorkflow, { taskQueue, workflowId: 'compensation-rounds', args: [attentionAfterAttempts] });
          await eventually('the rounds workflow to be terminated', async () => ((await started.describe()).status.name === 'TERMINATED' ? true : undefined), 120_000, 200);
          return started;
        });
        const events = (await handle.fetchHistory()).events ?? [];
        const scheduled = events.filter((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED).map((event) => Number(event.eventId));
        const gaps = new Set(scheduled.slice(1).map((eventId, index) => eventId - (scheduled[index] as number)));
        expect(gaps.size).toBe(1);
        const terminated = events.at(-1);
        return { eventsPerRound: [...gaps][0] as number, terminatedAtEvents: events.length, reason: String(terminated?.workflowExecutionTerminatedEventAttributes?.reason) };
      } finally {
        await workerConnection.close();
      }
    })();
    return roundsControl;
  }

  test('when a compensation is retried in rounds by the workflow, as before compensation-retries-in-activity, then Temporal terminates it at the lowered limit', async () => {
    const control = await runRoundsControl();
    console.log(`rounds control: ${control.eventsPerRound} events a round, terminated at ${control.terminatedAtEvents} events (${control.reason})`);
    expect(control.eventsPerRound).toBe(11);
    // Terminated in the round that reached the limit, its termination event included.
    expect(control.terminatedAtEvents).toBeGreaterThan(historyCountLimit - control.eventsPerRound);
    expect(control.terminatedAtEvents).toBeLessThanOrEqual(historyCountLimit + control.eventsPerRound);
    expect(control.reason).toMatch(/history count exceeds limit/i);
  });

  test('when the source bank stays down long past the first round of the refund, then the history stays flat and far below the limit, and the transfer ends REFUNDED once the bank is back', async () => {
    const before = await balances();
    // The target bank is down first, so that the transfer holds at DEBITED (its credit retried) while the
    // source bank is stopped; back, the target refuses the credit (no such account) and the refund begins.
    await env.cluster.kill('account-service-bank-b');
    const answer = await operator.post(
      '/v1/transfers',
      { source: { bankId: 'bank-a', accountId: 'alice' }, target: { bankId: 'bank-b', accountId: 'nobody' }, amountMinor: '700', currency: 'EUR' },
      { 'idempotency-key': 'compensation-history-1' },
    );
    expect(answer.status).toBe(202);
    const id = String(answer.body.id);
    const handle: WorkflowHandle = client.workflow.getHandle(transferWorkflowId(id));
    await waitFor(id, (transfer) => transfer.status === 'DEBITED', 'to be debited');
    await env.cluster.kill('account-service-bank-a');
    await env.cluster.restart('account-service-bank-b');

    const flagged = await waitFor(id, (transfer) => transfer.needsAttention === true, 'to need attention');
    const attentionAt = Date.now();
    expect(flagged).toMatchObject({ status: 'COMPENSATING', reason: 'ACCOUNT_NOT_FOUND' });
    expect((flagged.steps as Array<Record<string, unknown>>).at(-1)).toMatchObject({ name: 'refund', status: 'RUNNING', attempts: attentionAfterAttempts, failure: { code: 'BANK_UNAVAILABLE' } });

    await new Promise((resolve) => setTimeout(resolve, firstMeasureAfterMs));
    const early = await handle.describe();
    expect(early.status.name).toBe('RUNNING');
    await new Promise((resolve) => setTimeout(resolve, outageAfterAttentionMs - firstMeasureAfterMs));
    const late = await handle.describe();
    expect((await operator.get(`/v1/transfers/${id}`)).body).toMatchObject({ status: 'COMPENSATING', needsAttention: true });
    const bankBackAt = Date.now();
    await env.cluster.restart('account-service-bank-a');

    const ended = await waitFor(id, (transfer) => transfer.status === 'REFUNDED', 'to be refunded', 120_000);
    expect(ended).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_NOT_FOUND', needsAttention: false });
    await handle.result();
    const final = await handle.describe();
    expect(final.status.name).toBe('COMPLETED');
    expect(await balances()).toEqual(before);
    const entries = (await operator.get(`/v1/banks/bank-a/accounts/alice/entries?limit=500`)).body.data as Array<{ operationId: string; kind: string; amountMinor: string }>;
    expect(entries.filter((entry) => entry.operationId.startsWith(`${id}:`)).map((entry) => [entry.kind, entry.amountMinor]).sort()).toEqual([['debit', '-700'], ['refund', '700']]);

    const refund = (ended.steps as Array<{ name: string; status: string; attempts: number }>).find((step) => step.name === 'refund');
    expect(refund?.status).toBe('SUCCEEDED');
    const refundAttempts = refund?.attempts ?? 0;

    const control = await runRoundsControl();
    const old = oldDesignFigures((await handle.fetchHistory()).events ?? [], bankBackAt, control.eventsPerRound);
    console.log(
      [
        `history events: ${early.historyLength} after ${firstMeasureAfterMs / 1000} s of attention, ${late.historyLength} after ${Math.round((bankBackAt - attentionAt) / 1000)} s, ${final.historyLength} at the end (limit ${historyCountLimit})`,
        `refund attempts: ${refundAttempts} over ${Math.round(old.failingMs / 1000)} s of failure`,
        `old design: ${old.baseEvents} events before the refund + ${old.rounds} rounds × ${control.eventsPerRound} (a round: ${old.firstRoundMs} ms + ${compensationRoundPauseMs} ms pause) = ${old.events} events; at most ${old.attemptsMax} attempts before its termination`,
      ].join('\n'),
    );
    // Flat: nothing is written to the history while the activity retries; the end adds a constant.
    expect(late.historyLength).toBe(early.historyLength);
    expect(final.historyLength - late.historyLength).toBeLessThanOrEqual(eventsAfterRefundMax);
    // The refund, however long its bank was down, added at most a constant to the events before it
    // (how many those are depends on the saga's legs: the settlement legs added 13).
    expect(final.historyLength).toBeLessThanOrEqual(old.baseEvents + eventsAfterRefundMax);
    expect(final.historyLength).toBeLessThan(historyCountLimit);
    expect(old.events).toBeGreaterThan(historyCountLimit);
    expect(refundAttempts).toBeGreaterThan(old.attemptsMax);
  });
});
