import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultyProxy } from '../../chaos/faulty-proxy';
import { findFreePort } from '../../../infra/ports';

/** The chaos proxy must really do what the harness counts on: lose answers after delivery, refuse, delay. */
describe('faulty proxy', () => {
  let upstream: Server;
  let proxy: FaultyProxy;
  let received = 0;
  const url = () => `http://127.0.0.1:${proxy.port}/`;

  beforeAll(async () => {
    upstream = createServer((_req, res) => {
      received += 1;
      res.end('ok');
    });
    await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
    proxy = await FaultyProxy.start('127.0.0.1', await findFreePort('127.0.0.1'), (upstream.address() as AddressInfo).port);
  });

  afterAll(async () => {
    await proxy.stop();
    await new Promise((resolve) => upstream.close(resolve));
  });

  test('when passing, then the answer arrives', async () => {
    proxy.setMode({ kind: 'pass' });
    expect(await (await fetch(url())).text()).toBe('ok');
  });

  test('when dropping responses, then the request reaches the service but the caller gets no answer', async () => {
    proxy.setMode({ kind: 'drop-responses' });
    const before = received;
    await expect(fetch(url(), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    expect(received).toBe(before + 1);
    expect(proxy.counters.droppedResponses).toBeGreaterThanOrEqual(1);
  });

  test('when partitioned, then connections are refused and nothing reaches the service', async () => {
    proxy.setMode({ kind: 'partition' });
    const before = received;
    await expect(fetch(url(), { signal: AbortSignal.timeout(5_000) })).rejects.toThrow();
    expect(received).toBe(before);
    expect(proxy.counters.refused).toBeGreaterThanOrEqual(1);
  });

  test('when delaying, then the answer arrives after the delay', async () => {
    proxy.setMode({ kind: 'delay', delayMs: 400 });
    const startedAt = Date.now();
    expect(await (await fetch(url())).text()).toBe('ok');
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(380);
    proxy.setMode({ kind: 'pass' });
  });
});
