import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createEventActivities } from '../../../activities/event-activities';
import type { DeliveryAttemptDocument, EventStore, FeedDocument, WebhookEndpointDocument } from '../../../lib/events/event-store';
import { storedDeliveryFailure } from '../../../lib/events/delivery-failure';

/**
 * What the delivery log keeps of a failed POST: a category, never the socket's own words (which
 * name the address and port tried, and so would let a client map the worker's network).
 * Real sockets where one can be had on loopback: a closed port, a server that never answers, TLS
 * spoken to a plain HTTP server.
 */
describe('webhook delivery failures in the delivery log', () => {
  const servers: Server[] = [];

  afterAll(async () => {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  });

  async function listening(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<number> {
    const server = createServer(handler);
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function closedPort(): Promise<number> {
    const port = await listening(() => undefined);
    const server = servers.pop() as Server;
    await new Promise((resolve) => server.close(resolve));
    return port;
  }

  /** One delivery attempt to `url` over a fake store; what it logged and how the activity failed. */
  async function deliverTo(url: string, fetchImpl?: typeof fetch): Promise<{ logged: Omit<DeliveryAttemptDocument, '_id'>[]; failureType: string | undefined; failureMessage: string }> {
    const endpoint: WebhookEndpointDocument = { _id: 'we_1', client: 'client-a', url, events: null, secret: 'whsec_dGVzdC1zZWNyZXQtb2YtdGhlLWVuZHBvaW50', createdAt: '2024-01-01T00:00:00.000Z' };
    const event: FeedDocument = { _id: 'client-a:000000000001', client: 'client-a', seq: 1, eventId: 'tr-1:transfer.completed', type: 'transfer.completed', createdAt: '2024-01-01T00:00:00.000Z', transfer: {}, endpointIds: ['we_1'] };
    const logged: Omit<DeliveryAttemptDocument, '_id'>[] = [];
    const store = {
      getEndpoint: async () => endpoint,
      findEvent: async () => event,
      recordAttempt: async (attempt: Omit<DeliveryAttemptDocument, '_id'>) => {
        logged.push(attempt);
      },
    } as unknown as EventStore;
    const activities = createEventActivities({ store, allowedHosts: ['127.0.0.1:*', 'localhost'], requestTimeoutMs: 300, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
    const failure = await new MockActivityEnvironment().run(() => activities.deliverWebhook({ eventId: event.eventId, endpointId: endpoint._id })).then(
      () => undefined,
      (error: unknown) => error as { type?: string; message: string },
    );
    return { logged, failureType: failure?.type, failureMessage: failure?.message ?? '' };
  }

  test('when the receiver port is closed, then the log says CONNECTION_REFUSED and holds no address, port or errno', async () => {
    const port = await closedPort();
    const outcome = await deliverTo(`http://127.0.0.1:${port}/hook`);
    expect(outcome.logged.map(({ outcome: result, failure, httpStatus, error }) => ({ result, failure, httpStatus, error }))).toEqual([{ result: 'FAILED', failure: 'CONNECTION_REFUSED', httpStatus: undefined, error: undefined }]);
    expect(JSON.stringify(outcome.logged)).not.toMatch(new RegExp(`ECONNREFUSED|${port}`));
    // The operator's side (the activity's failure in Temporal) keeps the detail.
    expect(outcome.failureType).toBe('WEBHOOK_UNREACHABLE');
  });

  test('when the receiver never answers, then the log says TIMED_OUT', async () => {
    const port = await listening(() => undefined);
    const outcome = await deliverTo(`http://127.0.0.1:${port}/hook`);
    expect(outcome.logged.map((attempt) => attempt.failure)).toEqual(['TIMED_OUT']);
  });

  test('when https meets a receiver that does not speak TLS, then the log says TLS_FAILED', async () => {
    const port = await listening((_req, res) => res.end('plain'));
    const outcome = await deliverTo(`https://127.0.0.1:${port}/hook`);
    expect(outcome.logged.map((attempt) => attempt.failure)).toEqual(['TLS_FAILED']);
  });

  test('when the receiver answers 503, then the log holds HTTP_STATUS and the status', async () => {
    const port = await listening((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const outcome = await deliverTo(`http://127.0.0.1:${port}/hook`);
    expect(outcome.logged.map(({ failure, httpStatus }) => ({ failure, httpStatus }))).toEqual([{ failure: 'HTTP_STATUS', httpStatus: 503 }]);
    expect(outcome.failureType).toBe('WEBHOOK_REFUSED');
  });

  test('when a certificate does not verify, then the log says TLS_FAILED', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }) });
    const outcome = await deliverTo('https://localhost/hook', async () => Promise.reject(refused));
    expect(outcome.logged.map((attempt) => attempt.failure)).toEqual(['TLS_FAILED']);
  });

  test('when the host is not found, then the log says UNREACHABLE', async () => {
    const notFound = Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('getaddrinfo ENOTFOUND localhost'), { code: 'ENOTFOUND' }) });
    const outcome = await deliverTo('http://localhost/hook', async () => Promise.reject(notFound));
    expect(outcome.logged.map((attempt) => attempt.failure)).toEqual(['UNREACHABLE']);
  });

  test('when the host is no longer allowed (a bare host on another port), then the log says HOST_NOT_ALLOWED and nothing is called', async () => {
    const called: string[] = [];
    const outcome = await deliverTo('http://localhost:6379/hook', async (input) => {
      called.push(String(input));
      return new Response(null, { status: 200 });
    });
    expect(called).toEqual([]);
    expect(outcome.logged.map((attempt) => attempt.failure)).toEqual(['HOST_NOT_ALLOWED']);
    expect(outcome.failureType).toBe('WEBHOOK_HOST_NOT_ALLOWED');
  });

  test.each([
    [{ outcome: 'FAILED' as const, error: 'TypeError: fetch failed (connect ECONNREFUSED 10.0.0.5:6379)' }, 'CONNECTION_REFUSED'],
    [{ outcome: 'FAILED' as const, error: 'TimeoutError: The operation was aborted due to timeout' }, 'TIMED_OUT'],
    [{ outcome: 'FAILED' as const, httpStatus: 500 }, 'HTTP_STATUS'],
    [{ outcome: 'FAILED' as const, error: 'the host 10.0.0.5:22 is not in WEBHOOK_ALLOWED_HOSTS' }, 'HOST_NOT_ALLOWED'],
    [{ outcome: 'FAILED' as const, error: 'SocketError: other side closed' }, 'UNREACHABLE'],
    [{ outcome: 'DELIVERED' as const, httpStatus: 200 }, undefined],
  ])('when an attempt stored before categories is %j, then it is shown as %s', (attempt, expected) => {
    expect(storedDeliveryFailure(attempt)).toBe(expected);
  });
});
