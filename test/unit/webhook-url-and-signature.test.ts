import { createHmac } from 'node:crypto';
import { newWebhookSecret, webhookHeaders, webhookSecretKey } from '../../lib/crypto/webhook-signature';
import { allowedHostsSchema, webhookUrlRefusal } from '../../lib/events/webhook-url';

describe('webhook URLs and signatures', () => {
  const allowed = allowedHostsSchema.parse('127.0.0.1, LOCALHOST:8080,hooks.example.com,api.example.com:8443,dev.example.com:*');

  test.each([
    ['a bare host on the default port of http', 'http://127.0.0.1/hook', undefined],
    ['a bare host with the default port spelled out', 'http://127.0.0.1:80/hook', undefined],
    ['a bare host on https, default port', 'https://hooks.example.com/x', undefined],
    ['a bare host on another port', 'http://127.0.0.1:9000/hook', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ["a bare host on the other scheme's default port", 'http://hooks.example.com:443/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a bare host on a database port', 'https://hooks.example.com:5432/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a listed host:port', 'http://localhost:8080/x', undefined],
    ['a listed host:port, on another port', 'http://localhost:8081/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a listed host:port, on its default port', 'http://localhost/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a host:port listed on https', 'https://api.example.com:8443/x', undefined],
    ['a host:port listed, its default port', 'https://api.example.com/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['a host:* entry, any port', 'http://dev.example.com:6000/x', undefined],
    ['a host:* entry, default port', 'https://dev.example.com/x', undefined],
    ['an unlisted host', 'http://127.0.0.2/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    // URL parsing normalises numeric hosts, so 2130706434 is 127.0.0.2 and is compared as that.
    ['a numeric host', 'http://2130706434/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['another scheme', 'gopher://127.0.0.1/x', 'WEBHOOK_URL_SCHEME'],
    ['credentials', 'http://a@127.0.0.1/x', 'WEBHOOK_URL_CREDENTIALS'],
    ['a relative URL', '/relative', 'WEBHOOK_URL_INVALID'],
    ['an over-long URL', `http://127.0.0.1/${'x'.repeat(2_048)}`, 'WEBHOOK_URL_TOO_LONG'],
  ])('when the URL is %s, then the refusal is the expected one', (_case, url, code) => {
    expect(webhookUrlRefusal(url, allowed)?.code).toBe(code);
  });

  test('when an allow-list entry is not host, host:port or host:*, then the setting is refused', () => {
    expect(allowedHostsSchema.safeParse('http://127.0.0.1').success).toBe(false);
    expect(allowedHostsSchema.safeParse('127.0.0.1:8*').success).toBe(false);
    expect(allowedHostsSchema.safeParse('*:80').success).toBe(false);
  });

  test('when a delivery is signed with two secrets, then webhook-signature holds one v1 entry each, new first, over "<id>.<timestamp>.<body>"', () => {
    const [current, retiring] = ['whsec_Y3VycmVudC1zZWNyZXQtb2YtdGhyZWUtMzItYnl0', 'whsec_MGE1ZjNjOWUyYjdkNDFmODhjMDZlNGExOWQyYjcz'];
    const mac = (secret: string) => createHmac('sha256', Buffer.from(secret.slice(6), 'base64')).update('tr-1:transfer.completed.1700000000.{"a":1}').digest('base64');
    expect(webhookHeaders([current, retiring], 'tr-1:transfer.completed', '{"a":1}', 1_700_000_000)).toEqual({
      'webhook-id': 'tr-1:transfer.completed',
      'webhook-timestamp': '1700000000',
      'webhook-signature': `v1,${mac(current)} v1,${mac(retiring)}`,
    });
  });

  test('when a secret was issued before Standard Webhooks (whsec_ and 48 hex digits), then its key is those digits read as base64', () => {
    const legacy = `whsec_${'0a1b2c3d'.repeat(6)}`;
    expect(webhookSecretKey(legacy)).toEqual(Buffer.from('0a1b2c3d'.repeat(6), 'base64'));
    expect(webhookSecretKey(legacy)).toHaveLength(36);
  });

  test('when a new secret is issued, then it is whsec_ and the base64 of 32 random bytes', () => {
    const secret = newWebhookSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(webhookSecretKey(secret)).toHaveLength(32);
    expect(newWebhookSecret()).not.toBe(secret);
  });
});
