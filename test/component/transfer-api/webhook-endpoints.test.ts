import { localWebhookAllowedHosts } from '../../../infra/cluster';
import { apiCaller, type ApiCaller } from '../../support/http';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * Registering a webhook endpoint, refused at the edge: every URL a client could use to make the
 * worker call somewhere it should not is refused with 400 and its code before the event store is
 * touched (the fake store throws on any call), with the hosts the local cluster allows.
 */
describe('webhook endpoint registration at the edge', () => {
  let api: InProcessTransferApi;
  let operator: ApiCaller;
  let client: ApiCaller;
  const allowedUrl = 'http://127.0.0.1:8080/hook';

  beforeAll(async () => {
    api = await startInProcessTransferApi({ allowedWebhookHosts: localWebhookAllowedHosts.split(',') });
    operator = apiCaller(api.baseUrl, api.keyFor('operator'));
    client = apiCaller(api.baseUrl, api.keyFor('client-a'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  test.each([
    ['another scheme', 'ftp://127.0.0.1/hook', 'WEBHOOK_URL_SCHEME'],
    ['a javascript: URL', 'javascript:alert(1)', 'WEBHOOK_URL_SCHEME'],
    ['a file: URL', 'file:///etc/passwd', 'WEBHOOK_URL_SCHEME'],
    ['credentials', 'http://user:secret@127.0.0.1:8080/hook', 'WEBHOOK_URL_CREDENTIALS'],
    ['a cloud metadata address', 'http://169.254.169.254/latest/meta-data', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a private address', 'http://10.0.0.1/hook', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a host that only starts like an allowed one', 'http://127.0.0.1.nip.io/hook', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['IPv6 loopback (not listed)', 'http://[::1]:8080/hook', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['an over-long URL', `http://127.0.0.1:8080/${'a'.repeat(2_100)}`, 'WEBHOOK_URL_TOO_LONG'],
    ['no URL at all', 'not a url', 'WEBHOOK_URL_INVALID'],
  ])('when an endpoint URL has %s, then it is refused with 400 and its code', async (_name, url, code) => {
    const answer = await client.post('/v1/webhook-endpoints', { url });
    expect(answer.status).toBe(400);
    expect(answer.body.error).toMatchObject({ code, field: 'url' });
  });

  test('when an operator registers an endpoint, then it is 403 FORBIDDEN; an unknown event type is 400 VALIDATION_FAILED', async () => {
    const byOperator = await operator.post('/v1/webhook-endpoints', { url: allowedUrl });
    expect([byOperator.status, byOperator.body.error?.code]).toEqual([403, 'FORBIDDEN']);
    const unknownType = await client.post('/v1/webhook-endpoints', { url: allowedUrl, events: ['transfer.exploded'] });
    expect([unknownType.status, unknownType.body.error?.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  test('when an allowed URL passes every check, then the route goes on to the event store (here a fake that refuses to be called: 500)', async () => {
    const answer = await client.post('/v1/webhook-endpoints', { url: allowedUrl });
    expect([answer.status, answer.body.error?.code]).toEqual([500, 'INTERNAL']);
  });
});
