import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller, type HttpAnswer } from '../../support/http';
import { queriedMetrics } from '../../support/promql-metrics';
import { parsePrometheusText, queryableNames, sampleValue, scrape, scrapeText, type Sample } from '../../support/prometheus-text';

/**
 * Metrics the dashboard or alerts use that no process of this cluster exports: `up` is made by
 * Prometheus; reconciliation_discrepancies appears once a reconciliation has completed (its
 * values are tested with the reconciliation).
 */
const notExportedHere = new Map([
  ['up', 'written by Prometheus for every scrape'],
  ['reconciliation_discrepancies', 'exported by the API after the first completed reconciliation (test/integration/reconciliation)'],
]);

jest.setTimeout(300_000);

/**
 * Every process's /metrics on the real local cluster: transfers that end COMPLETED, REJECTED
 * and REFUNDED (one of them after needing attention) move each counter by exactly what
 * happened, with the labels operators filter by.
 */
describe('metrics of every process', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let n = 0;
  const before = new Map<string, Sample[]>();
  const after = new Map<string, Sample[]>();
  const exported = new Set<string>();

  const endpoints = () => ({
    api: `${env.cluster.transferApiUrl}/metrics`,
    worker: env.cluster.workerMetricsUrl,
    'bank-a': `${env.cluster.accountServiceUrls.get('bank-a')}/metrics`,
    'bank-b': `${env.cluster.accountServiceUrls.get('bank-b')}/metrics`,
    'bank-c': `${env.cluster.accountServiceUrls.get('bank-c')}/metrics`,
  });
  const delta = (process: string, name: string, labels: Record<string, string> = {}): number =>
    sampleValue(after.get(process) ?? [], name, labels) - sampleValue(before.get(process) ?? [], name, labels);

  async function start(source: string, target: string, amountMinor: string, key = `metrics-${(n += 1)}`): Promise<HttpAnswer> {
    const [sourceBank, sourceAccount] = source.split(':') as [string, string];
    const [targetBank, targetAccount] = target.split(':') as [string, string];
    return operator.post('/v1/transfers', { source: { bankId: sourceBank, accountId: sourceAccount }, target: { bankId: targetBank, accountId: targetAccount }, amountMinor, currency: 'EUR' }, { 'idempotency-key': key });
  }
  const waitFor = (id: string, predicate: (transfer: HttpAnswer['body']) => boolean, what: string): Promise<HttpAnswer['body']> =>
    eventually(`${id} ${what}`, async () => {
      const transfer = (await operator.get(`/v1/transfers/${id}`)).body;
      return predicate(transfer) ? transfer : undefined;
    }, 120_000, 200);
  const ended = (id: string) => waitFor(id, (transfer) => ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'].includes(String(transfer.status)), 'to end');
  /** Visibility is eventually consistent: the gauges follow the workflows within a few seconds. */
  const apiGauge = (name: string, labels: Record<string, string>, expected: number) =>
    eventually(`${name} ${JSON.stringify(labels)} to read ${expected}`, async () => (sampleValue(await scrape(endpoints().api), name, labels) === expected ? true : undefined), 30_000, 500);

  beforeAll(async () => {
    env = await startTestCluster('metrics', {
      services: true,
      serviceEnv: { CREDIT_GIVE_UP_AFTER_MS: '2000', DEBIT_GIVE_UP_AFTER_MS: '2000', REFUND_ATTENTION_AFTER_ATTEMPTS: '1', LOG_LEVEL: 'warn' },
    });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    for (const [bankId, accountId, funds] of [['bank-a', 'alice', '1000000'], ['bank-a', 'pat', '100'], ['bank-b', 'bob', ''], ['bank-c', 'carl', '']] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      if (funds) expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: funds, currency: 'EUR' })).status).toBe(200);
    }
    for (const [process, url] of Object.entries(endpoints())) before.set(process, await scrape(url));

    // A repeated deposit is answered from its first decision: a duplicate at bank-a.
    expect((await operator.post('/v1/banks/bank-a/accounts/pat/deposits', { depositId: 'seed-pat', amountMinor: '100', currency: 'EUR' })).status).toBe(200);
    const completed = await start('bank-a:alice', 'bank-b:bob', '2500', 'metrics-completed');
    expect(completed.status).toBe(202);
    expect((await start('bank-a:alice', 'bank-b:bob', '2500', 'metrics-completed')).status).toBe(200);
    const rejected = await start('bank-a:pat', 'bank-b:bob', '200');
    const refunded = await start('bank-a:alice', 'bank-b:nobody', '300');
    expect(await ended(String(completed.body.id))).toMatchObject({ status: 'COMPLETED' });
    expect(await ended(String(rejected.body.id))).toMatchObject({ status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' });
    expect(await ended(String(refunded.body.id))).toMatchObject({ status: 'REFUNDED', reason: 'ACCOUNT_NOT_FOUND' });
    await apiGauge('transfers_needing_attention', {}, 0);

    // The target bank is down past the credit's give-up time: its credit-void keeps failing.
    await env.cluster.kill('account-service-bank-c');
    const stuck = String((await start('bank-a:alice', 'bank-c:carl', '900')).body.id);
    await waitFor(stuck, (transfer) => transfer.needsAttention === true, 'to need attention');
    await apiGauge('transfers_needing_attention', {}, 1);
    await apiGauge('transfers_open', { status: 'DEBITED' }, 1);
    await env.cluster.restart('account-service-bank-c');
    expect(await ended(stuck)).toMatchObject({ status: 'REFUNDED', reason: 'CREDIT_FAILED', needsAttention: false });
    await apiGauge('transfers_needing_attention', {}, 0);
    await apiGauge('transfers_open', { status: 'DEBITED' }, 0);

    for (const [process, url] of Object.entries(endpoints())) {
      const text = await scrapeText(url);
      after.set(process, parsePrometheusText(text));
      for (const name of queryableNames(text)) exported.add(name);
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  test('when transfers start, then the API counts each new one by its banks and a replayed create only as a replay', () => {
    expect(delta('api', 'transfers_started_total', { source_bank: 'bank-a', target_bank: 'bank-b' })).toBe(3);
    expect(delta('api', 'transfers_started_total', { source_bank: 'bank-a', target_bank: 'bank-c' })).toBe(1);
    expect(delta('api', 'transfer_api_transfers_created_total', { replayed: 'false' })).toBe(4);
    expect(delta('api', 'transfer_api_transfers_created_total', { replayed: 'true' })).toBe(1);
    expect(sampleValue(after.get('api') ?? [], 'transfers_overdue')).toBe(0);
    expect(sampleValue(after.get('api') ?? [], 'transfer_api_visibility_errors_total')).toBe(0);
  });

  test('when transfers end, then the worker counts each by status and reason and records its duration', () => {
    expect(delta('worker', 'transfers_ended_total', { status: 'COMPLETED', reason: 'NONE', workflowType: 'transferWorkflow' })).toBe(1);
    expect(delta('worker', 'transfers_ended_total', { status: 'REJECTED', reason: 'INSUFFICIENT_FUNDS' })).toBe(1);
    expect(delta('worker', 'transfers_ended_total', { status: 'REFUNDED', reason: 'ACCOUNT_NOT_FOUND' })).toBe(1);
    expect(delta('worker', 'transfers_ended_total', { status: 'REFUNDED', reason: 'CREDIT_FAILED' })).toBe(1);
    expect(delta('worker', 'transfers_ended_total')).toBe(4);
    expect(delta('worker', 'transfer_duration_seconds_count', { status: 'REFUNDED' })).toBe(2);
    expect(delta('worker', 'transfer_duration_seconds_count', { status: 'COMPLETED' })).toBe(1);
    // The stuck transfer waited 2 s for its credit alone.
    expect(delta('worker', 'transfer_duration_seconds_bucket', { status: 'REFUNDED', le: '1' })).toBeLessThanOrEqual(1);
    expect(delta('worker', 'transfer_duration_seconds_bucket', { status: 'REFUNDED', le: '+Inf' })).toBe(2);
  });

  test('when activities fail, then the worker counts the attempts by activity type and code', () => {
    expect(delta('worker', 'activity_failures_total', { activityType: 'debit', code: 'INSUFFICIENT_FUNDS' })).toBe(1);
    expect(delta('worker', 'activity_failures_total', { activityType: 'credit', code: 'ACCOUNT_NOT_FOUND' })).toBe(1);
    expect(delta('worker', 'activity_failures_total', { activityType: 'voidCredit', code: 'ACCOUNT_NOT_FOUND' })).toBe(1);
    expect(delta('worker', 'activity_failures_total', { activityType: 'credit', code: 'BANK_UNAVAILABLE' })).toBeGreaterThanOrEqual(1);
    expect(delta('worker', 'activity_failures_total', { activityType: 'voidCredit', code: 'BANK_UNAVAILABLE' })).toBeGreaterThanOrEqual(1);
    expect(delta('worker', 'activity_failures_total', { activityType: 'debit', code: 'BANK_UNAVAILABLE' })).toBe(0);
  });

  test("when the worker runs, then the SDK runtime's own metrics are on the same endpoint", () => {
    expect(delta('worker', 'temporal_workflow_completed_total', { workflow_type: 'transferWorkflow' })).toBe(4);
    // The legs run in the worker: the debit's and the credit's refusals are counted among the local activities, and no debit went through the server.
    expect(delta('worker', 'temporal_local_activity_execution_failed_total', { activity_type: 'debit' })).toBe(1);
    expect(delta('worker', 'temporal_activity_execution_failed_total', { activity_type: 'debit' })).toBe(0);
    expect(delta('worker', 'temporal_local_activity_execution_failed_total', { activity_type: 'credit' })).toBeGreaterThanOrEqual(1);
    expect((after.get('worker') ?? []).some((sample) => sample.name === 'temporal_workflow_task_schedule_to_start_latency_bucket')).toBe(true);
  });

  test('when the ledgers decide, then each bank counts applied entries, refusals by code and duplicates', () => {
    expect(delta('bank-a', 'ledger_decisions_total', { kind: 'debit', outcome: 'APPLIED', code: 'NONE' })).toBe(3);
    expect(delta('bank-a', 'ledger_decisions_total', { kind: 'debit', outcome: 'REFUSED', code: 'INSUFFICIENT_FUNDS' })).toBe(1);
    expect(delta('bank-a', 'ledger_decisions_total', { kind: 'refund', outcome: 'APPLIED' })).toBe(2);
    expect(delta('bank-a', 'ledger_duplicate_requests_total', { kind: 'deposit' })).toBe(1);
    expect(delta('bank-b', 'ledger_decisions_total', { kind: 'credit', outcome: 'APPLIED', code: 'NONE' })).toBe(1);
    // bank-c restarted: its counters began again, with the void of the credit that never happened.
    expect(sampleValue(after.get('bank-c') ?? [], 'ledger_decisions_total', { kind: 'void', bank: 'bank-c' })).toBe(1);
    expect(sampleValue(after.get('bank-c') ?? [], 'ledger_decisions_total', { kind: 'credit' })).toBe(0);
    for (const bank of ['bank-a', 'bank-b', 'bank-c']) expect((after.get(bank) ?? []).some((sample) => sample.name === 'ledger_sequence_conflicts_total')).toBe(true);
  });

  test('when HTTP requests are served, then latency is recorded by route pattern, never by raw URL', () => {
    expect(delta('api', 'transfer_api_http_request_duration_seconds_count', { method: 'POST', route: '/v1/transfers', status: '202' })).toBe(4);
    expect(delta('api', 'transfer_api_http_request_duration_seconds_count', { method: 'GET', route: '/v1/transfers/:id', status: '200' })).toBeGreaterThanOrEqual(4);
    expect(delta('bank-a', 'account_service_http_request_duration_seconds_count', { method: 'POST', route: '/v1/accounts/:accountId/debits', status: '200' })).toBe(3);
    expect(delta('bank-a', 'account_service_http_request_duration_seconds_count', { method: 'POST', route: '/v1/accounts/:accountId/debits', status: '422' })).toBe(1);
    for (const process of ['api', 'bank-a', 'bank-b', 'bank-c']) {
      const routes = (after.get(process) ?? []).flatMap((sample) => (sample.labels.route === undefined ? [] : [sample.labels.route]));
      expect(routes.length).toBeGreaterThan(0);
      expect(routes.filter((route) => /tr-[0-9a-f]{8}|alice|carl|bob|pat/.test(route))).toEqual([]);
    }
  });

  test('when the Grafana dashboard and the alert rules query a metric, then some process exports it', () => {
    const missing = [...queriedMetrics()].filter(([name]) => !exported.has(name) && !notExportedHere.has(name)).map(([name, where]) => `${name} (${where.join(', ')})`);
    expect(missing).toEqual([]);
    expect(queriedMetrics().size).toBeGreaterThanOrEqual(15);
  });
});
