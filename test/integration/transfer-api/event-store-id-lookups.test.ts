import { MongoClient, type CommandStartedEvent, type Db, type Document } from 'mongodb';
import type { TransferEventRecord } from '../../../lib/contracts/event-contract';
import { EventRetention } from '../../../lib/events/event-retention';
import { activeSecrets, EventCursorExpiredError, EventStore, WebhookRequestRefusedError, type FeedDocument, type WebhookEndpointDocument } from '../../../lib/events/event-store';
import { secretSealer } from '../../../lib/crypto/secret-sealing';
import { startTestFerretDb } from '../../support/cluster';
import { sampleState } from '../../support/transfer-records';
import { filtersByIdOnly as byIdOnly, sentCommandsOf as sentOf, type SentCommand as Sent } from '../../support/wire-commands';

jest.setTimeout(180_000);

const notById = (sent: Sent): boolean => !byIdOnly(sent);

/**
 * The event store on a real FerretDB, its commands watched on the wire: the crash-recovery path
 * (a pointer lost, a claim without its feed entry, concurrent retries) and the retention sweep
 * look up by `_id` only, and an event keeps the one place it was first given.
 */
describe('event store: every hot and recovery path looks up by _id', () => {
  let mongo: MongoClient;
  let db: Db;
  let store: EventStore;
  let stop: () => Promise<void>;
  const sent: Sent[] = [];
  let watching = false;

  beforeAll(async () => {
    const ferret = await startTestFerretDb('event-store-id-lookups');
    mongo = new MongoClient(ferret.database.url, { useBigInt64: true, monitorCommands: true });
    mongo.on('commandStarted', (event: CommandStartedEvent) => {
      if (watching) sent.push(...sentOf(event));
    });
    db = mongo.db('transfer_api');
    store = new EventStore(db);
    await store.ensureIndexes();
    stop = async () => {
      await mongo.close();
      await ferret.stop();
    };
  });

  afterAll(async () => {
    await stop?.();
  });

  async function watched<T>(run: () => Promise<T>): Promise<{ result: T; sent: Sent[] }> {
    sent.length = 0;
    watching = true;
    try {
      return { result: await run(), sent: [...sent] };
    } finally {
      watching = false;
    }
  }

  const eventOf = (client: string, transferId: string, createdAt = new Date().toISOString()): TransferEventRecord => ({ eventId: `${transferId}:transfer.completed`, type: 'transfer.completed', client, createdAt, transfer: sampleState(transferId, 'COMPLETED') });
  const placesOf = (eventId: string): Promise<number> => db.collection<FeedDocument>('event_feed').countDocuments({ eventId });

  test('when a crash lost the pointer of a recorded event and others were recorded after it, then the retry finds its first place by _id only and adds none', async () => {
    const first = await store.recordEvent(eventOf('client-crash', 'tr-lost'), { version: 'first' });
    for (let index = 0; index < 5; index += 1) await store.recordEvent(eventOf('client-crash', `tr-after-${index}`), {});
    // What a crash between the feed entry and its pointer leaves.
    await db.collection('event_pointers').deleteOne({ _id: first.eventId } as Document);
    const retry = await watched(() => store.recordEvent(eventOf('client-crash', 'tr-lost'), { version: 'retry' }));
    expect({ notById: retry.sent.filter(notById) }).toEqual({ notById: [] });
    expect([retry.result.seq, retry.result.transfer]).toEqual([first.seq, { version: 'first' }]);
    expect(await placesOf(first.eventId)).toBe(1);
    // The pointer is back: the next repeat is two look-ups.
    const again = await watched(() => store.recordEvent(eventOf('client-crash', 'tr-lost'), {}));
    expect([again.result.seq, again.sent.map((command) => `${command.command} ${command.collection}`)]).toEqual([first.seq, ['find event_pointers', 'find event_feed']]);
  });

  test('when a crash left a claim without its feed entry, then the retry places the event once, by _id only', async () => {
    const record = eventOf('client-claim', 'tr-claimed');
    await db.collection('event_claims').insertOne({ _id: `${record.eventId}#0001`, client: 'client-claim', seq: 1 } as Document);
    await store.listEndpoints('client-claim');
    const retry = await watched(() => store.recordEvent(record, { version: 'retry' }));
    expect({ notById: retry.sent.filter(notById) }).toEqual({ notById: [] });
    expect([retry.result.seq, await placesOf(record.eventId)]).toEqual([1, 1]);
  });

  test('when 8 retries of one event race 8 other events of the client, then each event holds exactly one place and the chain has no gap', async () => {
    const repeated = eventOf('client-race', 'tr-repeated');
    const others = Array.from({ length: 8 }, (_, index) => eventOf('client-race', `tr-other-${index}`));
    const run = await watched(() => Promise.all([...Array.from({ length: 8 }, () => store.recordEvent(repeated, {})), ...others.map((other) => store.recordEvent(other, {}))]));
    expect({ notById: run.sent.filter(notById).filter((command) => command.collection !== 'webhook_endpoints') }).toEqual({ notById: [] });
    expect(new Set(run.result.slice(0, 8).map((document) => document.seq)).size).toBe(1);
    expect(await placesOf(repeated.eventId)).toBe(1);
    const page = await store.listEvents('client-race', undefined, 20);
    expect(page.events.map((document) => document.seq)).toEqual(Array.from({ length: 9 }, (_, index) => index + 1));
  });

  test('when endpoints are registered, listed and deleted, then every look-up is by _id once the client has its list', async () => {
    const created = await store.createEndpoint('client-hooks', 'http://127.0.0.1:9000/a', null, new Date('2024-01-01T00:00:00Z'));
    await store.createEndpoint('client-hooks', 'http://127.0.0.1:9000/b', ['transfer.completed'], new Date('2024-01-01T00:00:01Z'));
    const listed = await watched(() => store.listEndpoints('client-hooks'));
    expect(listed.result.map((endpoint) => endpoint.url)).toEqual(['http://127.0.0.1:9000/a', 'http://127.0.0.1:9000/b']);
    const deleted = await watched(() => store.deleteEndpoint(created._id, new Date()));
    const recorded = await watched(() => store.recordEvent(eventOf('client-hooks', 'tr-hooked'), {}));
    expect(recorded.result.endpointIds).toHaveLength(1);
    expect({ notById: [...listed.sent, ...deleted.sent, ...recorded.sent].filter(notById) }).toEqual({ notById: [] });
    expect((await store.listEndpoints('client-hooks')).map((endpoint) => endpoint.url)).toEqual(['http://127.0.0.1:9000/b']);
  });

  test('when endpoints predate the per-client lists, then the first listing finds them and builds the list', async () => {
    await db.collection('webhook_endpoints').insertOne({ _id: 'we_legacy', client: 'client-legacy', url: 'http://127.0.0.1:9000/old', events: null, secret: 'whsec_old', createdAt: '2023-01-01T00:00:00.000Z' } as Document);
    expect((await store.listEndpoints('client-legacy')).map((endpoint) => endpoint._id)).toEqual(['we_legacy']);
    const second = await watched(() => store.listEndpoints('client-legacy'));
    expect([second.result.map((endpoint) => endpoint._id), second.sent.filter(notById)]).toEqual([['we_legacy'], []]);
  });

  describe('secret rotation and redelivery numbers', () => {
    const sealing = () => new EventStore(db, { sealer: secretSealer([{ keyId: 'k1', key: Buffer.alloc(32, 7) }]) });
    const storedEndpoint = (id: string) => db.collection<WebhookEndpointDocument>('webhook_endpoints').findOne({ _id: id });

    test('when a secret is rotated, then the replaced one signs beside the new one until the overlap ends, both sealed at rest, and every look-up is by _id', async () => {
      const sealed = sealing();
      const created = await sealed.createEndpoint('client-rotate', 'http://127.0.0.1:9000/r', null, new Date());
      const at = new Date('2024-06-01T00:00:00.000Z');
      const rotated = await watched(() => sealed.rotateSecret(created._id, at, 60_000, 'client-rotate'));
      expect(rotated.sent.filter(notById)).toEqual([]);
      expect(rotated.result.previousSecretRetiresAt).toBe('2024-06-01T00:01:00.000Z');
      const endpoint = await sealed.getEndpoint(created._id);
      expect(endpoint?.secret).toBe(rotated.result.secret);
      expect(activeSecrets(endpoint as WebhookEndpointDocument, new Date(at.getTime() + 59_999))).toEqual([rotated.result.secret, created.secret]);
      expect(activeSecrets(endpoint as WebhookEndpointDocument, new Date(at.getTime() + 60_000))).toEqual([rotated.result.secret]);
      const raw = JSON.stringify(await storedEndpoint(created._id));
      expect(raw).not.toContain(created.secret.slice(6));
      expect(raw).not.toContain(rotated.result.secret.slice(6));
      expect(JSON.stringify(await db.collection('webhook_secret_rotations').find({ endpointId: created._id }).toArray())).not.toContain('whsec_');
    });

    test('when a rotation was decided but a crash left the endpoint as it was, then the next read finishes it by _id', async () => {
      const created = await store.createEndpoint('client-rotate-crash', 'http://127.0.0.1:9000/c', null, new Date());
      const at = new Date();
      const first = await store.rotateSecret(created._id, at, 60_000, 'operator');
      // As if the crash came between the rotation's insert and the endpoint's update.
      await db.collection<WebhookEndpointDocument>('webhook_endpoints').updateOne({ _id: created._id }, { $set: { secret: created.secret, secretGeneration: 0, retiringSecrets: [] } });
      const read = await watched(() => store.getEndpoint(created._id));
      expect([read.result?.secret, read.result?.retiringSecrets?.map((retiring) => retiring.secret)]).toEqual([first.secret, [created.secret]]);
      expect(read.sent.filter(notById)).toEqual([]);
      expect((await storedEndpoint(created._id))?.secretGeneration).toBe(1);
    });

    test('when rotations race, then each one either is refused or its secret stays active: no caller is handed a secret that does not sign', async () => {
      const created = await store.createEndpoint('client-rotate-race', 'http://127.0.0.1:9000/race', null, new Date());
      const at = new Date();
      const outcomes = await Promise.allSettled([1, 2, 3].map(() => store.rotateSecret(created._id, at, 60_000, 'operator')));
      const handedOut = outcomes.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value.secret] : []));
      const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [(outcome.reason as WebhookRequestRefusedError).code] : []));
      expect(handedOut.length).toBeGreaterThanOrEqual(1);
      expect(refusals.every((code) => code === 'WEBHOOK_SECRET_ROTATION_REFUSED')).toBe(true);
      const active = activeSecrets((await store.getEndpoint(created._id)) as WebhookEndpointDocument, at);
      expect(active).toEqual(expect.arrayContaining([...handedOut, created.secret]));
      expect(active).toHaveLength(handedOut.length + 1);
    });

    test('when secrets are still in their overlap as often as allowed, then another rotation is refused until one retires', async () => {
      const created = await store.createEndpoint('client-rotate-many', 'http://127.0.0.1:9000/m', null, new Date());
      const at = new Date('2024-06-01T00:00:00.000Z');
      for (let rotation = 0; rotation < 3; rotation += 1) await store.rotateSecret(created._id, at, 60_000, 'operator');
      const refused = await store.rotateSecret(created._id, at, 60_000, 'operator').then(
        () => undefined,
        (error: unknown) => error as WebhookRequestRefusedError,
      );
      expect(refused?.code).toBe('WEBHOOK_SECRET_ROTATION_REFUSED');
      const later = await store.rotateSecret(created._id, new Date(at.getTime() + 60_000), 60_000, 'operator');
      expect((await store.getEndpoint(created._id))?.retiringSecrets?.map((retiring) => retiring.retiresAt)).toEqual(['2024-06-01T00:02:00.000Z']);
      expect(later.previousSecretRetiresAt).toBe('2024-06-01T00:02:00.000Z');
    });

    test('when an event is redelivered twice, then each takes the next number, its attempts list after the first delivery, by _id only', async () => {
      const endpoint = await store.createEndpoint('client-redeliver', 'http://127.0.0.1:9000/d', null, new Date());
      const document = await store.recordEvent(eventOf('client-redeliver', 'tr-redeliver'), {});
      const attempt = (delivery: number, n: number) => store.recordAttempt({ eventId: document.eventId, endpointId: endpoint._id, ...(delivery > 1 ? { delivery } : {}), attempt: n, at: new Date().toISOString(), outcome: 'DELIVERED', durationMs: 1 });
      await attempt(1, 1);
      const [second, third] = await Promise.all([store.claimRedelivery(document.eventId, endpoint._id, 'operator', new Date()), store.claimRedelivery(document.eventId, endpoint._id, 'operator', new Date())]);
      expect([second, third].sort()).toEqual([2, 3]);
      await attempt(3, 1);
      await attempt(2, 1);
      await attempt(2, 2);
      const listed = await watched(() => store.listAttempts(document.eventId, endpoint._id));
      expect(listed.result.map((entry) => [entry.delivery ?? 1, entry.attempt])).toEqual([[1, 1], [2, 1], [2, 2], [3, 1]]);
      expect(listed.sent.filter(notById)).toEqual([]);
      // Retention takes the redeliveries' attempts and numbers with the event's.
      const swept = await new EventRetention(db).sweepClient('client-redeliver', 1, { feedBefore: new Date(Date.now() + 60_000), attemptsBefore: new Date(Date.now() + 60_000), eventsPerClientMax: 10 });
      expect(swept).toEqual({ eventsDeleted: 1, attemptsDeleted: 4 });
      expect(await db.collection('webhook_redeliveries').countDocuments({ eventId: document.eventId })).toBe(0);
    });
  });

  describe('retention', () => {
    const day = 86_400_000;
    const now = Date.parse('2024-06-30T00:00:00Z');
    const retention = () => new EventRetention(db);
    const window = { feedBefore: new Date(now - 30 * day), attemptsBefore: new Date(now - 7 * day), eventsPerClientMax: 1_000 };

    async function seed(client: string): Promise<FeedDocument[]> {
      const endpoint = await store.createEndpoint(client, 'http://127.0.0.1:9000/hook', null, new Date());
      const ages = [60, 50, 40, 20, 10, 1];
      const documents: FeedDocument[] = [];
      for (const [index, ageDays] of ages.entries()) {
        const document = await store.recordEvent(eventOf(client, `tr-${client}-${index}`, new Date(now - ageDays * day).toISOString()), {});
        for (const attempt of [1, 2]) await store.recordAttempt({ eventId: document.eventId, endpointId: endpoint._id, attempt, at: document.createdAt, outcome: attempt === 2 ? 'DELIVERED' : 'FAILED', failure: 'TIMED_OUT', durationMs: 1 });
        documents.push(document);
      }
      return documents;
    }

    test('when the sweep runs, then events past the feed window and attempts past the log window are gone, by _id only, and cursors obey the tail', async () => {
      const documents = await seed('client-old');
      const swept = await watched(() => retention().sweepClient('client-old', 6, window));
      // The sweep's only listing is the heads (one per client), in sweep(); sweepClient names an _id everywhere.
      expect({ notById: swept.sent.filter(notById) }).toEqual({ notById: [] });
      expect(swept.result).toEqual({ eventsDeleted: 3, attemptsDeleted: 10 });
      expect(await Promise.all(documents.map(async (document) => (await store.findEvent(document.eventId))?.seq))).toEqual([undefined, undefined, undefined, 4, 5, 6]);
      expect(await Promise.all(documents.map(async (document) => (await store.listAttempts(document.eventId, document.endpointIds[0] ?? '')).length))).toEqual([0, 0, 0, 0, 0, 2]);
      expect(await db.collection('event_claims').countDocuments({ client: 'client-old' })).toBe(3);
      // No cursor: from the oldest kept event. A cursor the sweep passed: refused, naming where to go on.
      expect((await store.listEvents('client-old', undefined, 10)).events.map((document) => document.seq)).toEqual([4, 5, 6]);
      await expect(store.listEvents('client-old', 2, 10)).rejects.toEqual(new EventCursorExpiredError(3));
      expect((await store.listEvents('client-old', 3, 10)).events.map((document) => document.seq)).toEqual([4, 5, 6]);
      // Appending goes on at the head, never into a freed place.
      expect((await store.recordEvent(eventOf('client-old', 'tr-new'), {})).seq).toBe(7);
    });

    test('when a sweep stopped after marking places gone but before deleting them, then the next sweep deletes them', async () => {
      const documents = await seed('client-halfway');
      await db.collection('event_feed_tails').insertOne({ _id: 'client-halfway', feedThrough: 2, feedDeletedThrough: 0, attemptsThrough: 2 } as Document);
      const swept = await retention().sweepClient('client-halfway', 6, { ...window, feedBefore: new Date(0), attemptsBefore: new Date(0) });
      expect(swept.eventsDeleted).toBe(2);
      expect(await Promise.all(documents.slice(0, 3).map(async (document) => (await store.findEvent(document.eventId))?.seq))).toEqual([undefined, undefined, 3]);
    });

    test('when every client is swept, then each client is cut at its own tail and the heads listing is the only other filter', async () => {
      await seed('client-all-1');
      await seed('client-all-2');
      const swept = await watched(() => retention().sweep(window));
      expect(swept.sent.filter(notById).map((command) => `${command.command} ${command.collection}`)).toEqual(['find event_feed_heads']);
      expect((await store.listEvents('client-all-1', undefined, 10)).after).toBe(3);
      expect((await store.listEvents('client-all-2', undefined, 10)).after).toBe(3);
    });
  });
});
