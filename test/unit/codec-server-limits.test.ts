import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import request from 'supertest';
import { buildCodecServer } from '../../services/codec-server/app';
import { codecServerLimits } from '../../services/codec-server/limits';
import { AesGcmPayloadCodec } from '../../lib/crypto/payload-codec';

const token = 'codec-token-0123456789abcdef0123456789';

function app(requestsPerMinute: number) {
  return buildCodecServer({ codec: new AesGcmPayloadCodec([{ keyId: 'k1', key: randomBytes(32) }]), token, corsOrigins: ['http://127.0.0.1:8233'], logger: pino({ level: 'silent' }), requestsPerMinute });
}

describe('codec server request limits', () => {
  test('when an address keeps presenting wrong tokens, then it is answered 429 after the limit, even with the right token', async () => {
    const server = app(1_000);
    for (let attempt = 1; attempt <= codecServerLimits.failedAuthenticationsPerWindow; attempt += 1) {
      expect((await request(server).post(`/wrong-token-${attempt}/decode`).send({ payloads: [] })).status).toBe(401);
    }
    const blocked = await request(server).post(`/${token}/decode`).send({ payloads: [] });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
  });

  test('when the right token is used, then successful requests do not count towards the failed-authentication limit', async () => {
    const server = app(1_000);
    for (let i = 0; i < codecServerLimits.failedAuthenticationsPerWindow * 2; i += 1) expect((await request(server).post(`/${token}/decode`).send({ payloads: [] })).status).toBe(200);
    expect((await request(server).post('/wrong/decode').send({ payloads: [] })).status).toBe(401);
  });

  test('when an address makes more requests a minute than CODEC_RATE_LIMIT_PER_MINUTE, then the excess is answered 429', async () => {
    const server = app(5);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await request(server).post('/decode').set('authorization', `Bearer ${token}`).send({ payloads: [] })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});

describe('codec server error bodies', () => {
  /** Every refusal has the house shape {error: {code, message}}, with the status its code stands for. */
  function expectRefusal(answer: request.Response, status: number, code: string): void {
    expect([answer.status, answer.body.error?.code, typeof answer.body.error?.message]).toEqual([status, code, 'string']);
  }

  test('when the token is wrong, then 401 UNAUTHENTICATED', async () => {
    expectRefusal(await request(app(1_000)).post('/wrong-token/decode').send({ payloads: [] }), 401, 'UNAUTHENTICATED');
  });

  test('when the rate limit is passed, then 429 RATE_LIMITED', async () => {
    const server = app(1);
    await request(server).post(`/${token}/decode`).send({ payloads: [] });
    expectRefusal(await request(server).post(`/${token}/decode`).send({ payloads: [] }), 429, 'RATE_LIMITED');
  });

  test('when the path is neither encode nor decode, then 404 NOT_FOUND without the token in the answer', async () => {
    const answer = await request(app(1_000)).get(`/${token}/other`);
    expectRefusal(answer, 404, 'NOT_FOUND');
    expect(answer.text).not.toContain(token);
  });

  test('when a browser calls from another origin, then 403 ORIGIN_NOT_ALLOWED', async () => {
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).set('origin', 'http://evil.example').send({ payloads: [] }), 403, 'ORIGIN_NOT_ALLOWED');
  });

  test('when the body is not Payloads JSON, then 400 VALIDATION_FAILED, for a wrong shape and for broken JSON alike', async () => {
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).send({ items: [] }), 400, 'VALIDATION_FAILED');
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).set('content-type', 'application/json').send('{"payloads": ['), 400, 'VALIDATION_FAILED');
  });

  test('when the body is larger than the limit, then 413 PAYLOAD_TOO_LARGE', async () => {
    const big = JSON.stringify({ payloads: [{ data: 'A'.repeat(5 * 1024 * 1024) }] });
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).set('content-type', 'application/json').send(big), 413, 'PAYLOAD_TOO_LARGE');
  });

  test('when the body is not UTF-8, then 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).set('content-type', 'application/json; charset=latin1').send('{"payloads": []}'), 415, 'UNSUPPORTED_MEDIA_TYPE');
  });

  test('when a payload does not decrypt, then 422 PAYLOAD_NOT_DECODABLE', async () => {
    const encrypted = { metadata: { encoding: Buffer.from('binary/encrypted').toString('base64'), 'encryption-key-id': Buffer.from('unknown-key').toString('base64') }, data: Buffer.from('not a ciphertext').toString('base64') };
    expectRefusal(await request(app(1_000)).post(`/${token}/decode`).send({ payloads: [encrypted] }), 422, 'PAYLOAD_NOT_DECODABLE');
  });
});
