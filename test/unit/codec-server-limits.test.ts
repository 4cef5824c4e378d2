import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import request from 'supertest';
import { buildCodecServer, failedAuthenticationsPerMinute } from '../../services/codec-server/app';
import { AesGcmPayloadCodec } from '../../lib/crypto/payload-codec';

const token = 'codec-token-0123456789abcdef0123456789';

function app(requestsPerMinute: number) {
  return buildCodecServer({ codec: new AesGcmPayloadCodec([{ keyId: 'k1', key: randomBytes(32) }]), token, corsOrigins: ['http://127.0.0.1:8233'], logger: pino({ level: 'silent' }), requestsPerMinute });
}

describe('codec server request limits', () => {
  test('when an address keeps presenting wrong tokens, then it is answered 429 after the limit, even with the right token', async () => {
    const server = app(1_000);
    for (let attempt = 1; attempt <= failedAuthenticationsPerMinute; attempt += 1) {
      expect((await request(server).post(`/wrong-token-${attempt}/decode`).send({ payloads: [] })).status).toBe(401);
    }
    const blocked = await request(server).post(`/${token}/decode`).send({ payloads: [] });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('RATE_LIMITED');
  });

  test('when the right token is used, then successful requests do not count towards the failed-authentication limit', async () => {
    const server = app(1_000);
    for (let i = 0; i < failedAuthenticationsPerMinute * 2; i += 1) expect((await request(server).post(`/${token}/decode`).send({ payloads: [] })).status).toBe(200);
    expect((await request(server).post('/wrong/decode').send({ payloads: [] })).status).toBe(401);
  });

  test('when an address makes more requests a minute than CODEC_RATE_LIMIT_PER_MINUTE, then the excess is answered 429', async () => {
    const server = app(5);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i += 1) statuses.push((await request(server).post('/decode').set('authorization', `Bearer ${token}`).send({ payloads: [] })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
  });
});
