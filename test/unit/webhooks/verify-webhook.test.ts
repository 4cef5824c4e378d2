import { createHmac } from 'node:crypto';
import { verifyWebhook } from '../../../lib/webhooks/verify-webhook';
import { webhookHeaders } from '../../../lib/crypto/webhook-signature';

/**
 * The receiver's check of a delivery (Standard Webhooks), against vectors computed here from the
 * specification's formula, not by the signer: base64 HMAC-SHA256 of "<id>.<timestamp>.<body>"
 * keyed with the base64-decoded bytes after whsec_.
 */
describe('verifyWebhook', () => {
  // The example of the Standard Webhooks specification (and Svix's documentation).
  const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const specId = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
  const specTimestamp = 1_614_265_330;
  const specBody = '{"test": 2432232314}';
  const specSignature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
  const atSpecTime = { now: () => new Date(specTimestamp * 1000) };
  const specHeaders = { 'webhook-id': specId, 'webhook-timestamp': String(specTimestamp), 'webhook-signature': specSignature };

  const byHand = (secret: string, id: string, timestamp: number, body: string): string =>
    `v1,${createHmac('sha256', Buffer.from(secret.slice('whsec_'.length), 'base64')).update(`${id}.${timestamp}.${body}`).digest('base64')}`;

  test("when the specification's example is checked, then it verifies and hands back the parsed body", () => {
    expect(byHand(specSecret, specId, specTimestamp, specBody)).toBe(specSignature);
    expect(verifyWebhook(specHeaders, specBody, specSecret, atSpecTime)).toEqual({ ok: true, id: specId, timestamp: specTimestamp, event: { test: 2432232314 } });
  });

  test('when the signer signs, then its entry is the one computed by hand from the formula', () => {
    const headers = webhookHeaders([specSecret], specId, specBody, specTimestamp);
    expect(headers).toEqual(specHeaders);
  });

  test('when the body, the id or the timestamp differ from what was signed, then no signature matches', () => {
    expect(verifyWebhook(specHeaders, '{"test": 2432232315}', specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
    expect(verifyWebhook({ ...specHeaders, 'webhook-id': 'msg_other' }, specBody, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
    expect(verifyWebhook({ ...specHeaders, 'webhook-timestamp': String(specTimestamp + 1) }, specBody, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
    expect(verifyWebhook(specHeaders, specBody, 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
  });

  test('when a delivery carries two signatures (a rotation), then each secret alone verifies it, and a third does not', () => {
    const oldSecret = 'whsec_b2xkLXNlY3JldC1vZi10aGUtZW5kcG9pbnQtMzI=';
    const newSecret = 'whsec_bmV3LXNlY3JldC1vZi10aGUtZW5kcG9pbnQtMzI=';
    const body = '{"id":"tr-1:transfer.completed"}';
    const headers = { 'webhook-id': 'tr-1:transfer.completed', 'webhook-timestamp': String(specTimestamp), 'webhook-signature': `${byHand(newSecret, 'tr-1:transfer.completed', specTimestamp, body)} ${byHand(oldSecret, 'tr-1:transfer.completed', specTimestamp, body)}` };
    expect(verifyWebhook(headers, body, oldSecret, atSpecTime).ok).toBe(true);
    expect(verifyWebhook(headers, body, newSecret, atSpecTime).ok).toBe(true);
    expect(verifyWebhook(headers, body, [specSecret, newSecret], atSpecTime).ok).toBe(true);
    expect(verifyWebhook(headers, body, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
  });

  test.each([
    ['exactly 5 minutes old', -300, true, undefined],
    ['5 minutes and 1 s old', -301, false, 'TIMESTAMP_TOO_OLD'],
    ['exactly 5 minutes ahead', 300, true, undefined],
    ['5 minutes and 1 s ahead', 301, false, 'TIMESTAMP_TOO_NEW'],
  ])('when the timestamp is %s by the receiver clock, then the default tolerance decides', (_case, offsetSeconds, ok, reason) => {
    const now = () => new Date((specTimestamp - offsetSeconds) * 1000);
    const result = verifyWebhook(specHeaders, specBody, specSecret, { now });
    expect([result.ok, result.ok ? undefined : result.reason]).toEqual([ok, reason]);
  });

  test('when a tolerance is given, then it replaces the default both ways', () => {
    const now = () => new Date((specTimestamp + 20) * 1000);
    expect(verifyWebhook(specHeaders, specBody, specSecret, { now, toleranceSeconds: 10 })).toMatchObject({ ok: false, reason: 'TIMESTAMP_TOO_OLD' });
    expect(verifyWebhook(specHeaders, specBody, specSecret, { now, toleranceSeconds: 20 }).ok).toBe(true);
  });

  test.each([
    ['no webhook-id', { 'webhook-id': undefined }],
    ['no webhook-signature', { 'webhook-signature': undefined }],
    ['a timestamp that is not unix seconds', { 'webhook-timestamp': '2021-02-25T15:02:10Z' }],
    ['a signature without a version', { 'webhook-signature': 'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }],
    ['a signature that is not base64', { 'webhook-signature': 'v1,not base64!' }],
    ['the legacy t=…,v1=… header', { 'webhook-signature': 't=1614265330,v1=0123abcd' }],
    ['two webhook-id headers', { 'webhook-id': [specId, specId] }],
  ])('when the delivery has %s, then it is refused as malformed', (_case, change) => {
    expect(verifyWebhook({ ...specHeaders, ...change }, specBody, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'MALFORMED_HEADERS' });
  });

  test('when only entries of another version are offered, then no signature matches', () => {
    expect(verifyWebhook({ ...specHeaders, 'webhook-signature': 'v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' }, specBody, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'NO_MATCHING_SIGNATURE' });
  });

  test('when a secret is not whsec_<base64>, or none is given, then the receiver is told of its mistake by a throw, never checked with a wrong key', () => {
    expect(() => verifyWebhook(specHeaders, specBody, 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', atSpecTime)).toThrow(TypeError);
    expect(() => verifyWebhook(specHeaders, specBody, 'whsec_not base64', atSpecTime)).toThrow(TypeError);
    expect(() => verifyWebhook(specHeaders, specBody, [], atSpecTime)).toThrow(TypeError);
  });

  test('when the signed body is not JSON, then it is refused as such after the signature matched', () => {
    const body = 'not json';
    const headers = { ...specHeaders, 'webhook-signature': byHand(specSecret, specId, specTimestamp, body) };
    expect(verifyWebhook(headers, body, specSecret, atSpecTime)).toMatchObject({ ok: false, reason: 'MALFORMED_BODY' });
  });

  test('when the raw body is given as bytes with capitalised header names, then it verifies the same', () => {
    const headers = { 'Webhook-Id': specId, 'Webhook-Timestamp': String(specTimestamp), 'Webhook-Signature': specSignature };
    expect(verifyWebhook(headers, Buffer.from(specBody, 'utf8'), specSecret, atSpecTime).ok).toBe(true);
  });
});
