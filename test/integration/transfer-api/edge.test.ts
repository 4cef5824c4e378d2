import { startTestCluster, type TestCluster } from '../../support/cluster';
import { apiCaller, http } from '../../support/http';

jest.setTimeout(180_000);

/**
 * The API's edge as the real server over the real cluster sets it up (its keys from the cluster's
 * secrets, Temporal and the record behind it). Authentication, roles, validation and the OpenAPI
 * document in detail: test/component/transfer-api/edge.test.ts.
 */
describe('transfer API edge on the real cluster', () => {
  let env: TestCluster;

  beforeAll(async () => {
    env = await startTestCluster('transfer-api-edge', { services: true, serviceEnv: { LOG_LEVEL: 'warn' } });
  });

  afterAll(async () => {
    await env?.stop();
  });

  test('when a transfer is posted without a key, then it is 401 UNAUTHENTICATED; with a client key, then it is 202', async () => {
    const baseUrl = env.cluster.transferApiUrl;
    const body = { source: { bankId: 'bank-a', accountId: 'edge-a' }, target: { bankId: 'bank-b', accountId: 'edge-b' }, amountMinor: '100', currency: 'EUR' };
    const anonymous = await http(`${baseUrl}/v1/transfers`, { body, headers: { 'idempotency-key': 'edge-smoke' } });
    expect([anonymous.status, anonymous.body.error?.code]).toEqual([401, 'UNAUTHENTICATED']);
    const accepted = await apiCaller(baseUrl, env.keyFor('client-a')).post('/v1/transfers', body, { 'idempotency-key': 'edge-smoke' });
    expect(accepted.status).toBe(202);
  });
});
