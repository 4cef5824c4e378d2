import { createHmac } from 'node:crypto';
import { signWebhook, verifyWebhook } from '../../lib/crypto/webhook-signature';
import { allowedHostsSchema, webhookUrlRefusal } from '../../lib/events/webhook-url';

describe('webhook URLs and signatures', () => {
  const allowed = allowedHostsSchema.parse('127.0.0.1, LOCALHOST:8080,hooks.example.com:443');

  test.each([
    ['http://127.0.0.1:9000/hook', undefined],
    ['http://localhost:8080/x', undefined],
    ['https://hooks.example.com/x', undefined],
    ['http://localhost:8081/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['http://hooks.example.com/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['http://127.0.0.2/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    // URL parsing normalises numeric hosts, so 2130706434 is 127.0.0.2 and is compared as that.
    ['http://2130706434/x', 'WEBHOOK_HOST_NOT_ALLOWED'],
    ['gopher://127.0.0.1/x', 'WEBHOOK_URL_SCHEME'],
    ['http://a@127.0.0.1/x', 'WEBHOOK_URL_CREDENTIALS'],
    ['/relative', 'WEBHOOK_URL_INVALID'],
    [`http://127.0.0.1/${'x'.repeat(2_048)}`, 'WEBHOOK_URL_TOO_LONG'],
  ])('when the URL is case %#, then the refusal is the expected one', (url, code) => {
    expect(webhookUrlRefusal(url, allowed)?.code).toBe(code);
  });

  test('when an allow-list entry is not host[:port], then the setting is refused', () => {
    expect(allowedHostsSchema.safeParse('http://127.0.0.1').success).toBe(false);
  });

  test('when a body is signed, then the header is t and the hex HMAC of "t.body", and only that body and secret verify', () => {
    const header = signWebhook('whsec_1', '{"a":1}', 1_700_000_000);
    expect(header).toBe(`t=1700000000,v1=${createHmac('sha256', 'whsec_1').update('1700000000.{"a":1}').digest('hex')}`);
    expect(verifyWebhook('whsec_1', '{"a":1}', header)).toBe(true);
    expect(verifyWebhook('whsec_1', '{"a":2}', header)).toBe(false);
    expect(verifyWebhook('whsec_2', '{"a":1}', header)).toBe(false);
    expect(verifyWebhook('whsec_1', '{"a":1}', header.replace('t=1700000000', 't=1700000001'))).toBe(false);
  });
});
