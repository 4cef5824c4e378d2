import { randomBytes } from 'node:crypto';
import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { TransferEventRecord, TransferEventType } from '../contracts/event-contract';
import { secretSealer, type SecretSealer } from '../crypto/secret-sealing';

/**
 * The transfer API's own database: webhook endpoints with their secrets, each client's event
 * feed, and the delivery log. The feed is an `_id` chain like a ledger (`<client>:<seq>`),
 * so appending is one uniquely keyed insert and paging is `_id` look-ups, never a scan.
 */

export interface WebhookEndpointDocument {
  _id: string;
  client: string;
  url: string;
  /** Event types the endpoint wants; null for all. */
  events: TransferEventType[] | null;
  /** Sealed in the database when codec keys are configured (see SecretSealer); the store hands it out open. */
  secret: string;
  createdAt: string;
  deletedAt?: string;
}

export interface FeedDocument {
  _id: string;
  client: string;
  seq: number;
  eventId: string;
  type: TransferEventType;
  createdAt: string;
  /** The transfer as the API shows it, when the event happened. */
  transfer: unknown;
  /** Endpoints the event was addressed to when it was recorded (one delivery each). */
  endpointIds: string[];
}

/** Finds an event's place in its client's feed with one `_id` look-up. */
interface EventPointer {
  _id: string;
  client: string;
  seq: number;
}

interface FeedHead {
  _id: string;
  seq: number;
}

export interface DeliveryAttemptDocument {
  _id: string;
  eventId: string;
  endpointId: string;
  attempt: number;
  at: string;
  outcome: 'DELIVERED' | 'FAILED';
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

export interface PublicEvent {
  id: string;
  type: TransferEventType;
  createdAt: string;
  data: { transfer: unknown };
}

/** Endpoints a client may keep; the list is read by a filter over a collection this small. */
export const endpointsPerClientMax = 20;
const appendRoundsMax = 1_000;
const attemptsListedMax = 500;

const seqWidth = 12;
const feedId = (client: string, seq: number): string => `${client}:${String(seq).padStart(seqWidth, '0')}`;
const attemptId = (eventId: string, endpointId: string, attempt: number): string => `${eventId}|${endpointId}|${String(attempt).padStart(6, '0')}`;
const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;

export function publicEvent(document: FeedDocument): PublicEvent {
  return { id: document.eventId, type: document.type, createdAt: document.createdAt, data: { transfer: document.transfer } };
}

export class EventStore {
  private readonly endpoints: Collection<WebhookEndpointDocument>;
  private readonly feed: Collection<FeedDocument>;
  private readonly pointers: Collection<EventPointer>;
  private readonly heads: Collection<FeedHead>;
  private readonly attempts: Collection<DeliveryAttemptDocument>;

  private readonly sealer: SecretSealer;

  /** `sealer` seals endpoint secrets at rest; without one (or without keys) they are stored as they are. */
  constructor(db: Db, options: { sealer?: SecretSealer } = {}) {
    this.sealer = options.sealer ?? secretSealer(undefined);
    this.endpoints = db.collection('webhook_endpoints');
    this.feed = db.collection('event_feed');
    this.pointers = db.collection('event_pointers');
    this.heads = db.collection('event_feed_heads');
    this.attempts = db.collection('webhook_attempts');
  }

  /** The unique index that refuses a second place in the feed for one event. */
  async ensureIndexes(): Promise<void> {
    await this.feed.createIndex({ eventId: 1 }, { unique: true, name: 'event_id_unique' });
  }

  async createEndpoint(client: string, url: string, events: TransferEventType[] | null, now: Date): Promise<WebhookEndpointDocument> {
    const document: WebhookEndpointDocument = {
      _id: `we_${randomBytes(12).toString('hex')}`,
      client,
      url,
      events,
      secret: `whsec_${randomBytes(24).toString('hex')}`,
      createdAt: now.toISOString(),
    };
    await this.endpoints.insertOne({ ...document, secret: this.sealer.seal(document.secret, document._id) });
    return document;
  }

  async listEndpoints(client: string): Promise<WebhookEndpointDocument[]> {
    const all = await this.endpoints.find({ client }).limit(endpointsPerClientMax * 10).toArray();
    return all
      .filter((endpoint) => endpoint.deletedAt === undefined)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a._id.localeCompare(b._id))
      .map((endpoint) => this.opened(endpoint));
  }

  async getEndpoint(id: string): Promise<WebhookEndpointDocument | undefined> {
    const endpoint = await this.endpoints.findOne({ _id: id });
    return endpoint ? this.opened(endpoint) : undefined;
  }

  private opened(endpoint: WebhookEndpointDocument): WebhookEndpointDocument {
    return { ...endpoint, secret: this.sealer.open(endpoint.secret, endpoint._id) };
  }

  /** Deleting keeps the document (the delivery log names it) and stops its deliveries. */
  async deleteEndpoint(id: string, now: Date): Promise<void> {
    await this.endpoints.updateOne({ _id: id }, { $set: { deletedAt: now.toISOString() } });
  }

  /**
   * Appends an event to its client's feed once, however often it is asked: its pointer answers
   * a repeat; otherwise one insert at the head's next `seq`, retried from a fresh head when
   * another event took that place. Returns the event's feed document.
   */
  async recordEvent(record: TransferEventRecord, transferView: unknown): Promise<FeedDocument> {
    const existing = await this.findEvent(record.eventId);
    if (existing) return existing;
    const endpointIds = (await this.listEndpoints(record.client)).filter((endpoint) => endpoint.events === null || endpoint.events.includes(record.type)).map((endpoint) => endpoint._id);
    let seq = await this.headSeq(record.client);
    for (let round = 0; round < appendRoundsMax; round += 1) {
      const document: FeedDocument = { _id: feedId(record.client, seq + 1), client: record.client, seq: seq + 1, eventId: record.eventId, type: record.type, createdAt: record.createdAt, transfer: transferView, endpointIds };
      try {
        await this.feed.insertOne(document);
        await this.pointTo(record.eventId, record.client, document.seq);
        await this.heads.updateOne({ _id: record.client, seq: { $lt: document.seq } }, { $set: { seq: document.seq } }).catch(() => undefined);
        return document;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      const there = await this.feed.findOne({ _id: feedId(record.client, seq + 1) });
      if (there?.eventId === record.eventId) {
        await this.pointTo(record.eventId, record.client, there.seq);
        return there;
      }
      if (!there) {
        // The unique eventId index refused: the event is in the feed already, and a crash lost its pointer.
        const found = await this.feed.findOne({ eventId: record.eventId });
        if (found) {
          await this.pointTo(record.eventId, record.client, found.seq);
          return found;
        }
      }
      seq = await this.rollForward(record.client, seq + 1);
    }
    throw new Error(`could not append ${record.eventId} to the feed of ${record.client}`);
  }

  async findEvent(eventId: string): Promise<FeedDocument | undefined> {
    const pointer = await this.pointers.findOne({ _id: eventId });
    if (!pointer) return undefined;
    return (await this.feed.findOne({ _id: feedId(pointer.client, pointer.seq) })) ?? undefined;
  }

  /** Up to `limit` events after `after`, oldest first: `_id` look-ups of consecutive places. */
  async listEvents(client: string, after: number, limit: number): Promise<FeedDocument[]> {
    const found = await Promise.all(Array.from({ length: limit }, (_, index) => this.feed.findOne({ _id: feedId(client, after + 1 + index) })));
    const page: FeedDocument[] = [];
    for (const document of found) {
      if (!document) break;
      page.push(document);
    }
    return page;
  }

  async recordAttempt(attempt: Omit<DeliveryAttemptDocument, '_id'>): Promise<void> {
    try {
      await this.attempts.insertOne({ _id: attemptId(attempt.eventId, attempt.endpointId, attempt.attempt), ...attempt });
    } catch (error) {
      // An attempt whose activity was retried after recording it keeps its first record.
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** The delivery log of one event at one endpoint: attempts 1, 2, … by `_id`. */
  async listAttempts(eventId: string, endpointId: string): Promise<DeliveryAttemptDocument[]> {
    const attempts: DeliveryAttemptDocument[] = [];
    for (let attempt = 1; attempt <= attemptsListedMax; attempt += 1) {
      const document = await this.attempts.findOne({ _id: attemptId(eventId, endpointId, attempt) });
      if (!document) break;
      attempts.push(document);
    }
    return attempts;
  }

  private async pointTo(eventId: string, client: string, seq: number): Promise<void> {
    try {
      await this.pointers.insertOne({ _id: eventId, client, seq });
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
    }
  }

  /** The cached head is a hint (updates are not atomic); `_id` look-ups roll it forward. */
  private async headSeq(client: string): Promise<number> {
    const head = await this.heads.findOne({ _id: client });
    if (!head) {
      await this.heads.insertOne({ _id: client, seq: 0 }).catch((error: unknown) => {
        if (!isDuplicateKey(error)) throw error;
      });
    }
    return this.rollForward(client, head?.seq ?? 0);
  }

  private async rollForward(client: string, from: number): Promise<number> {
    let seq = from;
    while (await this.feed.findOne({ _id: feedId(client, seq + 1) }, { projection: { _id: 1 } })) seq += 1;
    return seq;
  }
}
