import { Connection } from '@temporalio/client';
import { searchAttributeKeys } from '../../../lib/contracts/search-attributes';
import { namespaceRetentionHoursDefault } from '../../../infra/processes/temporal-dev-server';
import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, eventually, type ApiCaller } from '../../support/http';

/**
 * The cluster profile: Temporal's frontend, history, matching and worker services as four
 * processes over PostgreSQL (infra/temporal/config/cluster.yaml), serving the real saga. Each
 * of history, matching and PostgreSQL is killed with SIGKILL and restarted; transfers started
 * around each crash still end COMPLETED with exact balances.
 */
jest.setTimeout(300_000);

const endedStatuses = ['COMPLETED', 'REJECTED', 'REFUNDED', 'CANCELLED'];

describe('the cluster profile (Temporal on PostgreSQL, four services)', () => {
  let system: TestCluster;
  let operator: ApiCaller;
  let transfers = 0;
  /** Every answer to a create that was not 200/202, while a component was down. */
  const refusals: string[] = [];

  beforeAll(async () => {
    system = await startTestCluster('temporal-cluster', { services: true, temporalCluster: true, ui: true, banks: ['bank-a', 'bank-b'] });
    operator = apiCaller(system.cluster.transferApiUrl, system.keyFor('operator'));
    for (const [bankId, accountId] of [['bank-a', 'payer'], ['bank-b', 'payee']] as const) {
      expect((await operator.post(`/v1/banks/${bankId}/accounts`, { accountId, owner: accountId, currency: 'EUR' }, { 'idempotency-key': `open-${accountId}` })).status).toBe(201);
    }
    expect((await operator.post('/v1/banks/bank-a/accounts/payer/deposits', { depositId: 'seed', amountMinor: '100000', currency: 'EUR' }, { 'idempotency-key': 'seed' })).status).toBe(200);
  });

  afterAll(async () => {
    await system?.stop();
  });

  async function transferAndWait(amountMinor: string): Promise<string> {
    transfers += 1;
    const created = await eventually('the transfer accepted', async () => {
      const answer = await operator.post('/v1/transfers', { source: { bankId: 'bank-a', accountId: 'payer' }, target: { bankId: 'bank-b', accountId: 'payee' }, amountMinor, currency: 'EUR' }, { 'idempotency-key': `cluster-${transfers}` });
      if (answer.status === 202 || answer.status === 200) return answer;
      refusals.push(`${answer.status} ${answer.body.error?.code ?? answer.text.slice(0, 80)}`);
      return undefined;
    }, 120_000, 500);
    const id = String(created.body.id);
    const ended = await eventually(`transfer ${id} ended`, async () => {
      const answer = await operator.get(`/v1/transfers/${id}`);
      return endedStatuses.includes(String(answer.body.status)) ? answer.body : undefined;
    }, 120_000);
    expect(ended).toMatchObject({ status: 'COMPLETED' });
    return id;
  }

  async function balances(): Promise<[string, string]> {
    const payer = await operator.get('/v1/banks/bank-a/accounts/payer');
    const payee = await operator.get('/v1/banks/bank-b/accounts/payee');
    return [String(payer.body.balanceMinor), String(payee.body.balanceMinor)];
  }

  test('when it starts, then the four services and PostgreSQL are components of their own, the namespace has its retention and the search attributes are registered', async () => {
    const names = system.cluster.components().map((component) => component.name);
    expect(names).toEqual(expect.arrayContaining(['temporal', 'temporal-history', 'temporal-matching', 'temporal-worker', 'temporal-postgres', 'temporal-ui']));
    const connection = await Connection.connect({ address: system.cluster.temporalAddress });
    try {
      const described = await connection.workflowService.describeNamespace({ namespace: system.cluster.namespace });
      expect(Number(described.config?.workflowExecutionRetentionTtl?.seconds)).toBe(namespaceRetentionHoursDefault * 3_600);
      const attributes = await connection.operatorService.listSearchAttributes({ namespace: system.cluster.namespace });
      expect(Object.keys(attributes.customAttributes ?? {}).sort()).toEqual(expect.arrayContaining(searchAttributeKeys.map((key) => key.name).sort()));
    } finally {
      await connection.close();
    }
  });

  test('when a transfer is made, then it completes end to end', async () => {
    await transferAndWait('1000');
    expect(await balances()).toEqual(['99000', '1000']);
  });

  test('when the Web UI is opened, then it serves the cluster on loopback, hands browsers the codec endpoint and lists the transfer workflows through the frontend', async () => {
    const ui = system.cluster.webUiUrl as string;
    expect(ui).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(ui)).status).toBe(200);
    const settings = (await (await fetch(`${ui}/api/v1/settings`)).json()) as { Codec?: { Endpoint?: string } };
    expect(settings.Codec?.Endpoint).toBe(system.cluster.codecEndpoint);
    const listed = await eventually('the transfer workflow in the UI', async () => {
      const answer = (await (await fetch(`${ui}/api/v1/namespaces/${system.cluster.namespace}/workflows?query=${encodeURIComponent("WorkflowType='transferWorkflow'")}`)).json()) as { executions?: unknown[] };
      return (answer.executions?.length ?? 0) > 0 ? answer.executions : undefined;
    });
    expect(listed.length).toBeGreaterThan(0);
  });

  test.each(['temporal-history', 'temporal-matching', 'temporal-postgres'])('when %s is killed with SIGKILL and restarted, then a transfer started while it was down completes and the balances are exact', async (component) => {
    const before = await balances();
    await system.cluster.kill(component);
    const during = transferAndWait('500');
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await system.cluster.restart(component);
    await during;
    await transferAndWait('250');
    expect(await balances()).toEqual([String(BigInt(before[0]) - 750n), String(BigInt(before[1]) + 750n)]);
  });

  test('when creates were refused during the outages above, then each was 503 TEMPORARILY_UNAVAILABLE (retry with the same key), never a 500', () => {
    expect(refusals.filter((refusal) => refusal !== '503 TEMPORARILY_UNAVAILABLE')).toEqual([]);
  });
});
