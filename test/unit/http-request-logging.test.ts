import type { AddressInfo } from 'node:net';
import express from 'express';
import { pino } from 'pino';
import { commonMiddleware } from '../../lib/http/server';

describe('request logs of every HTTP service', () => {
  test('when a request carries an API key and a signature, then the log line has the request id but neither credential', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    const app = express();
    app.use(commonMiddleware(app, logger));
    app.get('/v1/thing', (_req, res) => {
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const answer = await fetch(`http://127.0.0.1:${port}/v1/thing`, {
      headers: { authorization: 'Bearer op_secret_key_123456789', 'x-signature': 'keyId=k,ts=1,sig=deadbeef', 'x-request-id': 'req-42' },
    });
    server.close();
    expect(answer.headers.get('x-request-id')).toBe('req-42');
    const logged = lines.join('');
    expect(logged).toContain('req-42');
    expect(logged).not.toContain('op_secret_key_123456789');
    expect(logged).not.toContain('deadbeef');
  });
});
