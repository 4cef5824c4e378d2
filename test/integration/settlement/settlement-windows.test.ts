import { Client, Connection } from '@temporalio/client';
import { AccountServiceClient } from '../../../lib/clients/account-service-client';
import { accountViewSchema } from '../../../lib/contracts/account-service-contract';
import { positionAccountId, reserveAccountId } from '../../../lib/contracts/settlement';
import { signingKeyOf } from '../../../infra/secrets';
import type { ReconciliationReport } from '../../../lib/reconciliation/reconciliation';
import { settlementWindowScheduleId, settlementWindowWorkflowId } from '../../../workflows/settlement-window-definitions';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { captureWorkflowHistory } from '../../support/history-capture';
import { apiCaller, eventually, type ApiCaller } from '../../support/http';

jest.setTimeout(420_000);

const finalStatuses = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'];
const openingReserve = 1_000_000n;

interface Window {
  windowId: string;
  state: string;
  transfers: number;
  inFlight: number;
  positions: Array<{ bankId: string; currency: string; netMinor: string }>;
  entries: Array<{ accountId: string; operationId: string; amountMinor: string }>;
}

/**
 * Deferred-net settlement windows on a real cluster: a window closes on request while transfers
 * run, the next one opens at once, in-flight transfers settle in the window they reserved in, the
 * settlement workflow moves each bank's net between reserves (and survives a kill of the worker),
 * and nothing is lost or counted twice.
 */
describe('settlement windows', () => {
  let env: TestCluster;
  let operator: ApiCaller;
  let settlementBank: AccountServiceClient;
  let seq = 0;

  beforeAll(async () => {
    env = await startTestCluster('settlement-windows', { banks: ['bank-a', 'bank-b'], services: true, serviceEnv: { SETTLEMENT_WINDOW_MINUTES: '1440', SETTLEMENT_OPENING_RESERVE_MINOR: String(openingReserve), SETTLEMENT_OPENING_NET_DEBIT_CAP_MINOR: String(openingReserve), APPROVAL_THRESHOLD_MINOR: '100000000', LOG_LEVEL: 'warn' } });
    operator = apiCaller(env.cluster.transferApiUrl, env.keyFor('operator'));
    const secrets = env.cluster.secrets;
    if (!secrets) throw new Error('a cluster with services has secrets');
    settlementBank = new AccountServiceClient({ bankId: env.cluster.settlementBankId, baseUrl: env.cluster.settlementBankUrl, signingKey: signingKeyOf(secrets, 'reconciliation'), requestTimeoutMs: 5_000 });
    for (const [bankId, accountId] of [['bank-a', 'alice'], ['bank-b', 'bob']] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' })).status).toBe(201);
      expect((await operator.post(`/v1/banks/${bankId}/accounts/${accountId}/deposits`, { depositId: `seed-${accountId}`, amountMinor: '10000000', currency: 'EUR' })).status).toBe(200);
    }
  });

  afterAll(async () => {
    await env?.stop();
  });

  async function balance(accountId: string): Promise<bigint> {
    return BigInt(accountViewSchema.parse((await settlementBank.request('GET', `/v1/accounts/${accountId}`)).body).balanceMinor);
  }

  /** Starts a transfer of `amount` and resolves with its final status. */
  async function transfer(from: 'bank-a' | 'bank-b', amountMinor: bigint): Promise<string> {
    seq += 1;
    const [source, target] = from === 'bank-a' ? [['bank-a', 'alice'], ['bank-b', 'bob']] : [['bank-b', 'bob'], ['bank-a', 'alice']];
    const created = await operator.post('/v1/transfers', { source: { bankId: source[0], accountId: source[1] }, target: { bankId: target[0], accountId: target[1] }, amountMinor: String(amountMinor), currency: 'EUR' }, { 'idempotency-key': `window-${seq}` });
    expect(created.status).toBe(202);
    const id = String(created.body.id);
    return eventually(`transfer ${id} to end`, async () => {
      const status = String((await operator.get(`/v1/transfers/${id}`)).body.status);
      return finalStatuses.includes(status) ? status : undefined;
    }, 180_000);
  }

  async function windowOf(windowId: string): Promise<Window> {
    const answer = await operator.get(`/v1/settlement/windows/${windowId}`);
    expect(answer.status).toBe(200);
    return answer.body as unknown as Window;
  }

  async function settled(windowId: string): Promise<Window> {
    return eventually(`window ${windowId} to settle`, async () => {
      const window = await windowOf(windowId);
      return window.state === 'SETTLED' ? window : undefined;
    }, 180_000);
  }

  const netOf = (window: Window, bankId: string): bigint => BigInt(window.positions.find((position) => position.bankId === bankId)?.netMinor ?? '0');

  const capture = (windowId: string, name: string): Promise<void> => captureWorkflowHistory(env.cluster, settlementWindowWorkflowId(windowId), name);

  test('when the first window is closed after transfers both ways, then it settles the net between the reserves and the positions are cleared', async () => {
    const listed = await operator.get('/v1/settlement/windows');
    expect((listed.body.data as Window[]).map((window) => [window.windowId, window.state])).toEqual([['w-000001', 'OPEN']]);
    const ended = await Promise.all([...Array.from({ length: 10 }, () => transfer('bank-a', 200n)), ...Array.from({ length: 4 }, () => transfer('bank-b', 200n))]);
    expect(ended.every((status) => status === 'COMPLETED')).toBe(true);
    expect(await windowOf('w-000001')).toMatchObject({ state: 'OPEN', transfers: 14, inFlight: 0 });
    const page = (await operator.get('/v1/transfers?limit=1')).body.data as Array<{ settlementWindowId?: string }>;
    expect(page[0]?.settlementWindowId).toBe('w-000001');
    const closed = await operator.post('/v1/settlement/windows/close', {});
    expect([closed.status, closed.body]).toEqual([202, { windowId: 'w-000001', nextWindowId: 'w-000002' }]);
    const window = await settled('w-000001');
    expect(window.transfers).toBe(14);
    expect([netOf(window, 'bank-a'), netOf(window, 'bank-b')]).toEqual([-1200n, 1200n]);
    expect(await balance(reserveAccountId('bank-a', 'EUR'))).toBe(openingReserve - 1200n);
    expect(await balance(reserveAccountId('bank-b', 'EUR'))).toBe(openingReserve + 1200n);
    expect([await balance(positionAccountId('bank-a', 'EUR')), await balance(positionAccountId('bank-b', 'EUR'))]).toEqual([0n, 0n]);
    expect((await windowOf('w-000002')).state).toBe('OPEN');
    await capture('w-000001', 'settlement-window-settled');
  });

  test('when a window closes while transfers run, then each settles in the window it reserved in, and nothing is lost or counted twice', async () => {
    const before = { a: await balance(reserveAccountId('bank-a', 'EUR')), b: await balance(reserveAccountId('bank-b', 'EUR')) };
    const running = Array.from({ length: 24 }, (_, n) => transfer(n % 3 === 0 ? 'bank-b' : 'bank-a', 100n + BigInt(n)));
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await operator.post('/v1/settlement/windows/close', {})).body).toEqual({ windowId: 'w-000002', nextWindowId: 'w-000003' });
    const ended = await Promise.all(running);
    expect(ended.every((status) => status === 'COMPLETED')).toBe(true);
    const second = await settled('w-000002');
    const third = await windowOf('w-000003');
    expect([third.state, third.inFlight]).toEqual(['OPEN', 0]);
    expect(second.transfers + third.transfers).toBe(24);
    // What bank-a sent less what it received, over both windows, is every transfer's amount exactly once.
    const sentByA = Array.from({ length: 24 }, (_, n) => (n % 3 === 0 ? -(100n + BigInt(n)) : 100n + BigInt(n))).reduce((sum, amount) => sum + amount, 0n);
    expect(netOf(second, 'bank-a') + netOf(third, 'bank-a')).toBe(-sentByA);
    for (const window of [second, third]) expect(netOf(window, 'bank-a') + netOf(window, 'bank-b')).toBe(0n);
    expect(await balance(reserveAccountId('bank-a', 'EUR'))).toBe(before.a + netOf(second, 'bank-a'));
    expect(await balance(reserveAccountId('bank-b', 'EUR'))).toBe(before.b + netOf(second, 'bank-b'));
    // What is left on the positions is the open window's, unsettled.
    expect(await balance(positionAccountId('bank-a', 'EUR'))).toBe(netOf(third, 'bank-a'));
  });

  test('when the worker is killed while a window settles, then the settlement resumes and every entry is written once', async () => {
    const before = { a: await balance(reserveAccountId('bank-a', 'EUR')), b: await balance(reserveAccountId('bank-b', 'EUR')) };
    const third = await windowOf('w-000003');
    expect((await operator.post('/v1/settlement/windows/close', {})).body).toEqual({ windowId: 'w-000003', nextWindowId: 'w-000004' });
    await env.cluster.kill('worker');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await env.cluster.restart('worker');
    const window = await settled('w-000003');
    expect(window.positions).toEqual(third.positions);
    expect(await balance(reserveAccountId('bank-a', 'EUR'))).toBe(before.a + netOf(window, 'bank-a'));
    expect(await balance(reserveAccountId('bank-b', 'EUR'))).toBe(before.b + netOf(window, 'bank-b'));
    const operations = window.entries.map((entry) => `${entry.accountId}/${entry.operationId}`);
    expect(new Set(operations).size).toBe(operations.length);
    expect([await balance(positionAccountId('bank-a', 'EUR')), await balance(positionAccountId('bank-b', 'EUR'))]).toEqual([0n, 0n]);
  });

  test('when the schedule fires, then it closes the window open then, which settles like one closed on request', async () => {
    expect(await transfer('bank-a', 300n)).toBe('COMPLETED');
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      await new Client({ connection, namespace: env.cluster.namespace }).schedule.getHandle(settlementWindowScheduleId).trigger();
    } finally {
      await connection.close();
    }
    const window = await settled('w-000004');
    expect([window.transfers, netOf(window, 'bank-a'), netOf(window, 'bank-b')]).toEqual([1, -300n, 300n]);
    expect((await windowOf('w-000005')).state).toBe('OPEN');
  });

  /** A reconciliation run through the API, to its report. */
  async function reconciled(): Promise<ReconciliationReport> {
    const started = await operator.post('/v1/reconciliations', {});
    expect(started.status).toBe(202);
    const id = String(started.body.reconciliationId);
    const run = await eventually(`reconciliation ${id} to finish`, async () => {
      const answer = await operator.get(`/v1/reconciliations/${id}`);
      return answer.body.status === 'RUNNING' ? undefined : answer.body;
    }, 120_000);
    expect(run.status).toBe('COMPLETED');
    return run.report as unknown as ReconciliationReport;
  }

  test('when reconciliation runs after the windows settled, then it reads the settlement bank too: nothing is reported, each clearing account holds what its bank sent net and mirrors its legs there, and every window sums to 0', async () => {
    // Every transfer above completed: what bank-a sent less what it received.
    const second = Array.from({ length: 24 }, (_, n) => (n % 3 === 0 ? -(100n + BigInt(n)) : 100n + BigInt(n))).reduce((sum, amount) => sum + amount, 0n);
    const sentByA = 10n * 200n - 4n * 200n + second + 300n;
    for (const [n, report] of [[1, await reconciled()], [2, await reconciled()]] as const) {
      expect({ n, kinds: report.discrepancies.map((d) => `${d.kind} ${d.detail}`), settlementBank: report.settlementBank }).toEqual({ n, kinds: [], settlementBank: env.cluster.settlementBankId });
      expect(report.conservation.every((row) => row.holds)).toBe(true);
      expect(report.clearing).toEqual([
        { bankId: 'bank-a', currency: 'EUR', clearingMinor: String(sentByA), settlementMinor: String(-sentByA), inFlightMinor: '0', holds: true },
        { bankId: 'bank-b', currency: 'EUR', clearingMinor: String(-sentByA), settlementMinor: String(sentByA), inFlightMinor: '0', holds: true },
      ]);
      // Each window's transfers ended: its positions sum to 0, whichever window their credits were decided in.
      expect(report.windows.filter((row) => row.netMinor !== '0' || row.inFlight !== 0)).toEqual([]);
      expect(report.windows.find((row) => row.windowId === 'w-000001')).toEqual({ windowId: 'w-000001', currency: 'EUR', netMinor: '0', transfers: 14, inFlight: 0 });
      expect(report.windows.reduce((sum, row) => sum + row.transfers, 0)).toBe(14 + 24 + 1);
    }
  });

  test('when an operator looks for a window in Temporal, then its workflow is found by its window id and state', async () => {
    const connection = await Connection.connect({ address: env.cluster.temporalAddress });
    try {
      const client = new Client({ connection, namespace: env.cluster.namespace });
      const found = await eventually('the window workflow in visibility', async () => {
        const ids: string[] = [];
        for await (const execution of client.workflow.list({ query: `SettlementWindowId = 'w-000001' AND SettlementWindowState = 'SETTLED'` })) ids.push(execution.workflowId);
        return ids.length > 0 ? ids : undefined;
      }, 30_000);
      expect(found).toEqual([settlementWindowWorkflowId('w-000001')]);
    } finally {
      await connection.close();
    }
  });
});
