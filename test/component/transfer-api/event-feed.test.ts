import { EventCursorExpiredError, type DeliveryAttemptDocument, type FeedDocument, type FeedPage, type WebhookEndpointDocument } from '../../../lib/events/event-store';
import { apiCaller, type ApiCaller } from '../../support/http';
import { startInProcessTransferApi, type InProcessTransferApi } from '../../support/in-process-transfer-api';

/**
 * The feed and the delivery log at the edge, over a fake event store: a cursor retention has
 * passed, a first page after retention, and what a failed attempt shows the client.
 */
describe('event feed and delivery log at the edge', () => {
  let api: InProcessTransferApi;
  let client: ApiCaller;
  const asked: Array<number | undefined> = [];
  const oldestKept = 7;
  const event: FeedDocument = { _id: 'client-a:000000000008', client: 'client-a', seq: 8, eventId: 'tr-1:transfer.completed', type: 'transfer.completed', createdAt: '2024-01-01T00:00:00.000Z', transfer: { id: 'tr-1' }, endpointIds: ['we_000000000000000000000001'] };
  const endpoint: WebhookEndpointDocument = { _id: 'we_000000000000000000000001', client: 'client-a', url: 'http://127.0.0.1:9000/hook', events: null, secret: 's', createdAt: '2024-01-01T00:00:00.000Z' };
  const attempts: DeliveryAttemptDocument[] = [
    // Stored before categories: the raw socket error, which names an internal address and port.
    { _id: 'a1', eventId: event.eventId, endpointId: endpoint._id, attempt: 1, at: '2024-01-01T00:00:01.000Z', outcome: 'FAILED', error: 'TypeError: fetch failed (connect ECONNREFUSED 10.0.0.5:6379)', durationMs: 3 },
    { _id: 'a2', eventId: event.eventId, endpointId: endpoint._id, attempt: 2, at: '2024-01-01T00:00:11.000Z', outcome: 'FAILED', failure: 'TIMED_OUT', durationMs: 5_000 },
    { _id: 'a3', eventId: event.eventId, endpointId: endpoint._id, attempt: 3, at: '2024-01-01T00:00:31.000Z', outcome: 'FAILED', httpStatus: 502, failure: 'HTTP_STATUS', durationMs: 4 },
    { _id: 'a4', eventId: event.eventId, endpointId: endpoint._id, attempt: 4, at: '2024-01-01T00:01:11.000Z', outcome: 'DELIVERED', httpStatus: 200, durationMs: 4 },
  ];

  beforeAll(async () => {
    api = await startInProcessTransferApi({
      events: {
        listEvents: async (_client: string, after: number | undefined): Promise<FeedPage> => {
          asked.push(after);
          if (after !== undefined && after < oldestKept) throw new EventCursorExpiredError(oldestKept);
          return { events: after === undefined || after < event.seq ? [event] : [], after: after ?? oldestKept };
        },
        findEvent: async () => event,
        getEndpoint: async () => endpoint,
        listAttempts: async () => attempts,
      },
    });
    client = apiCaller(api.baseUrl, api.keyFor('client-a'));
  });

  afterAll(async () => {
    await api?.stop();
  });

  test('when a cursor is older than what retention kept, then it is 410 EVENT_CURSOR_EXPIRED naming the oldest kept cursor', async () => {
    const answer = await client.get('/v1/events?after=3');
    expect([answer.status, answer.body.error?.code, answer.body.error?.field]).toEqual([410, 'EVENT_CURSOR_EXPIRED', 'after']);
    expect(answer.body.error?.message).toContain(`after=${oldestKept}`);
  });

  test('when the feed is paged with cursor, the name every list uses, then it continues after it and an expired one is 410 naming cursor', async () => {
    asked.length = 0;
    const page = await client.get(`/v1/events?cursor=${oldestKept + 1}`);
    expect([page.status, page.body.data, page.body.nextCursor]).toEqual([200, [], '8']);
    expect(asked).toEqual([oldestKept + 1]);
    const expired = await client.get('/v1/events?cursor=3');
    expect([expired.status, expired.body.error?.code, expired.body.error?.field]).toEqual([410, 'EVENT_CURSOR_EXPIRED', 'cursor']);
    expect(expired.body.error?.message).toContain(`cursor=${oldestKept}`);
  });

  test('when after, the older name of cursor, is sent, then it pages like cursor; with a different cursor beside it, then it is 400 VALIDATION_FAILED', async () => {
    asked.length = 0;
    const page = await client.get(`/v1/events?after=${oldestKept + 1}`);
    expect([page.status, page.body.nextCursor]).toEqual([200, '8']);
    expect(asked).toEqual([oldestKept + 1]);
    const both = await client.get(`/v1/events?cursor=${oldestKept + 1}&after=${oldestKept + 2}`);
    expect([both.status, both.body.error?.code, both.body.error?.field]).toEqual([400, 'VALIDATION_FAILED', 'after']);
    expect(asked).toEqual([oldestKept + 1]);
  });

  test('when the OpenAPI document describes the feed, then cursor is its paging parameter and after is deprecated', async () => {
    const document = (await client.get('/openapi.json')).body as { paths: Record<string, { get: { parameters: Array<{ name: string; deprecated?: boolean }> } }> };
    const parameters = document.paths['/v1/events']?.get.parameters ?? [];
    expect(parameters.map(({ name, deprecated }) => ({ name, deprecated: deprecated ?? false }))).toEqual([
      { name: 'cursor', deprecated: false },
      { name: 'after', deprecated: true },
      { name: 'limit', deprecated: false },
    ]);
  });

  test('when the first page is asked for after retention deleted the oldest events, then it starts at the oldest kept one', async () => {
    asked.length = 0;
    const answer = await client.get('/v1/events?limit=10');
    expect(answer.status).toBe(200);
    expect(asked).toEqual([undefined]);
    expect(answer.body).toMatchObject({ data: [{ id: event.eventId }], nextCursor: '8' });
  });

  test('when a page after the oldest kept cursor is empty, then the cursor asked for is handed back', async () => {
    const answer = await client.get(`/v1/events?after=${oldestKept + 1}`);
    expect([answer.status, answer.body.data, answer.body.nextCursor]).toEqual([200, [], '8']);
  });

  test('when the delivery log holds failed attempts, then each shows its category and sentence and never a raw error', async () => {
    const answer = await client.get(`/v1/events/${encodeURIComponent(event.eventId)}/deliveries`);
    expect(answer.status).toBe(200);
    const shown = (answer.body.data as Array<{ attempts: Array<{ failure?: string; httpStatus?: number; error?: string }> }>)[0]?.attempts;
    expect(shown?.map(({ failure, httpStatus }) => ({ failure, httpStatus }))).toEqual([
      { failure: 'CONNECTION_REFUSED', httpStatus: undefined },
      { failure: 'TIMED_OUT', httpStatus: undefined },
      { failure: 'HTTP_STATUS', httpStatus: 502 },
      { failure: undefined, httpStatus: 200 },
    ]);
    expect(shown?.[0]?.error).toBe('the receiver refused the connection');
    expect(JSON.stringify(answer.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|6379|fetch failed/);
  });
});
