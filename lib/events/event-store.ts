import { randomBytes } from 'node:crypto';
import { MongoServerError, type Db } from 'mongodb';
import type { TransferEventRecord, TransferEventType } from '../contracts/event-contract';
import { secretSealer, type SecretSealer } from '../crypto/secret-sealing';
import type { DeliveryFailure } from './delivery-failure';

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

/** Finds an event's place in its client's feed with one `_id` look-up; written once the place is taken. */
interface EventPointer {
  _id: string;
  client: string;
  seq: number;
}

/**
 * A place an event is about to try (`<eventId>#<n>`, n = 1, 2, …), inserted before the feed
 * entry it names. The feed's unique eventId index lets at most one place hold the event; when it
 * refuses an insert, the place that holds the event is among the event's claims, so a crash
 * between the feed entry and its pointer is recovered with `_id` look-ups, never a search of the feed.
 */
interface EventClaim {
  _id: string;
  client: string;
  seq: number;
}

interface FeedHead {
  _id: string;
  seq: number;
}

/**
 * How far retention has cut a client's feed (`_id` = client). `feedThrough` moves first and is
 * what readers obey (every event at or below it is gone or going); `feedDeletedThrough` follows
 * the deletes, so a sweep that stopped halfway is finished by the next. The delivery log goes first:
 * its attempts are found from the feed entries' endpoint ids.
 */
export interface FeedTail {
  _id: string;
  feedThrough: number;
  feedDeletedThrough: number;
  attemptsThrough: number;
}

/** The endpoint ids a client registered (`_id` = client), so listing them is `_id` look-ups. */
interface EndpointList {
  _id: string;
  endpointIds: string[];
}

/** A cursor older than the retention window: the events after it were deleted. */
export class EventCursorExpiredError extends Error {
  constructor(readonly oldestCursor: number) {
    super(`the events after this cursor are past the feed's retention; the oldest kept follow after=${oldestCursor}`);
  }
}

export interface DeliveryAttemptDocument {
  _id: string;
  eventId: string;
  endpointId: string;
  attempt: number;
  at: string;
  outcome: 'DELIVERED' | 'FAILED';
  httpStatus?: number;
  /** Why a failed attempt failed, as a category: raw connection errors would let a client probe ports. */
  failure?: DeliveryFailure;
  /** Attempts recorded before failures were categories hold the raw error; it is never shown. */
  error?: string;
  durationMs: number;
}

export interface PublicEvent {
  id: string;
  type: TransferEventType;
  createdAt: string;
  data: { transfer: unknown };
}

/** Endpoints a client may keep. */
export const endpointsPerClientMax = 20;
const appendRoundsMax = 1_000;
export const attemptsListedMax = 500;
/** How far below the head a place is looked for when the event predates claims (see findUnclaimed). */
const unclaimedSearchDepth = 1_000;
const unclaimedSearchBatch = 50;

const seqWidth = 12;
export const feedId = (client: string, seq: number): string => `${client}:${String(seq).padStart(seqWidth, '0')}`;
export const claimId = (eventId: string, claim: number): string => `${eventId}#${String(claim).padStart(4, '0')}`;
export const attemptId = (eventId: string, endpointId: string, attempt: number): string => `${eventId}|${endpointId}|${String(attempt).padStart(6, '0')}`;
const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;
const ignoreDuplicateKey = (error: unknown): void => {
  if (!isDuplicateKey(error)) throw error;
};

export function publicEvent(document: FeedDocument): PublicEvent {
  return { id: document.eventId, type: document.type, createdAt: document.createdAt, data: { transfer: document.transfer } };
}

/** What an event's claims say: the place that holds it, if any, and the number of the next claim. */
interface ClaimsRead {
  found?: FeedDocument;
  nextClaim: number;
}

/**
 * One try at one place: the event's document when it is in the feed, or the claim to try next
 * and whether the place is taken (a place is left only once taken: the chain never has a gap).
 */
type PlaceOutcome = { placed: FeedDocument } | { nextClaim: number; placeTaken: boolean };

/** One page of a client's feed, and where it started (the cursor asked for, or the oldest kept place). */
export interface FeedPage {
  events: FeedDocument[];
  after: number;
}

/** The collections of the API's event database, by the names every reader and the retention sweep share. */
export function eventCollections(db: Db) {
  return {
    endpoints: db.collection<WebhookEndpointDocument>('webhook_endpoints'),
    endpointLists: db.collection<EndpointList>('webhook_endpoint_lists'),
    feed: db.collection<FeedDocument>('event_feed'),
    pointers: db.collection<EventPointer>('event_pointers'),
    claims: db.collection<EventClaim>('event_claims'),
    heads: db.collection<FeedHead>('event_feed_heads'),
    tails: db.collection<FeedTail>('event_feed_tails'),
    attempts: db.collection<DeliveryAttemptDocument>('webhook_attempts'),
  };
}
export type EventCollections = ReturnType<typeof eventCollections>;

export class EventStore {
  private readonly c: EventCollections;
  private readonly sealer: SecretSealer;

  /** `sealer` seals endpoint secrets at rest; without one (or without keys) they are stored as they are. */
  constructor(db: Db, options: { sealer?: SecretSealer } = {}) {
    this.sealer = options.sealer ?? secretSealer(undefined);
    this.c = eventCollections(db);
  }

  /** The unique index that refuses a second place in the feed for one event. */
  async ensureIndexes(): Promise<void> {
    await this.c.feed.createIndex({ eventId: 1 }, { unique: true, name: 'event_id_unique' });
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
    // Listed first: a crash between the two leaves an id that names nothing, which listing skips.
    await this.endpointIdsOf(client);
    await this.addToList(client, [document._id]);
    await this.c.endpoints.insertOne({ ...document, secret: this.sealer.seal(document.secret, document._id) });
    return document;
  }

  /** The client's endpoints, oldest first: its list, then one `_id` look-up per endpoint. */
  async listEndpoints(client: string): Promise<WebhookEndpointDocument[]> {
    const ids = await this.endpointIdsOf(client);
    const found = await Promise.all(ids.map((id) => this.c.endpoints.findOne({ _id: id })));
    return found
      .filter((endpoint): endpoint is WebhookEndpointDocument => endpoint !== null && endpoint.deletedAt === undefined && endpoint.client === client)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a._id.localeCompare(b._id))
      .map((endpoint) => this.opened(endpoint));
  }

  /**
   * The ids in the client's list. A client whose endpoints were registered before the lists
   * existed gets its list built once, from the only filter on another field this store makes;
   * from then on its list document exists (empty or not) and is read by `_id`.
   */
  private async endpointIdsOf(client: string): Promise<string[]> {
    const list = await this.c.endpointLists.findOne({ _id: client });
    if (list) return list.endpointIds;
    const earlier = await this.c.endpoints.find({ client, deletedAt: { $exists: false } }, { projection: { _id: 1 } }).limit(endpointsPerClientMax * 10).toArray();
    const endpointIds = earlier.map((endpoint) => endpoint._id);
    await this.addToList(client, endpointIds);
    return endpointIds;
  }

  /** An upsert two processes raced is refused for the later one (FerretDB inserts the document), which then updates it. */
  private async addToList(client: string, endpointIds: string[]): Promise<void> {
    const add = () => this.c.endpointLists.updateOne({ _id: client }, { $addToSet: { endpointIds: { $each: endpointIds } } }, { upsert: true });
    await add().catch(async (error: unknown) => {
      ignoreDuplicateKey(error);
      await add();
    });
  }

  async getEndpoint(id: string): Promise<WebhookEndpointDocument | undefined> {
    const endpoint = await this.c.endpoints.findOne({ _id: id });
    return endpoint ? this.opened(endpoint) : undefined;
  }

  private opened(endpoint: WebhookEndpointDocument): WebhookEndpointDocument {
    return { ...endpoint, secret: this.sealer.open(endpoint.secret, endpoint._id) };
  }

  /** Deleting keeps the document (the delivery log names it), stops its deliveries and takes it off the client's list. */
  async deleteEndpoint(id: string, now: Date): Promise<void> {
    const endpoint = await this.c.endpoints.findOne({ _id: id });
    await this.c.endpoints.updateOne({ _id: id }, { $set: { deletedAt: now.toISOString() } });
    if (endpoint) await this.c.endpointLists.updateOne({ _id: endpoint.client }, { $pull: { endpointIds: id } });
  }

  /**
   * Appends an event to its client's feed once, however often (and however concurrently) it is
   * asked: its pointer answers a repeat, its claims answer a repeat whose pointer a crash lost;
   * otherwise a claim and one insert at the head's next `seq`, tried again from a fresh head when
   * another event took that place. Every look-up is by `_id`. Returns the event's feed document.
   */
  async recordEvent(record: TransferEventRecord, transferView: unknown): Promise<FeedDocument> {
    const existing = await this.findEvent(record.eventId);
    if (existing) return existing;
    const endpointIds = (await this.listEndpoints(record.client)).filter((endpoint) => endpoint.events === null || endpoint.events.includes(record.type)).map((endpoint) => endpoint._id);
    let seq = await this.headSeq(record.client);
    // Claim 1 first: when an earlier attempt holds it, the refused insert reads the event's claims (and finds its place, if it took one).
    let claim = 1;
    for (let round = 0; round < appendRoundsMax; round += 1) {
      const document: FeedDocument = { _id: feedId(record.client, seq + 1), client: record.client, seq: seq + 1, eventId: record.eventId, type: record.type, createdAt: record.createdAt, transfer: transferView, endpointIds };
      const outcome = await this.tryPlace(document, claim);
      if ('placed' in outcome) return outcome.placed;
      claim = outcome.nextClaim;
      if (outcome.placeTaken) seq = await this.rollForward(record.client, seq + 1);
    }
    throw new Error(`could not append ${record.eventId} to the feed of ${record.client}`);
  }

  /** Claims the place, then takes it; a refusal says whether the event is in the feed already, and where. */
  private async tryPlace(document: FeedDocument, claim: number): Promise<PlaceOutcome> {
    try {
      await this.c.claims.insertOne({ _id: claimId(document.eventId, claim), client: document.client, seq: document.seq });
    } catch (error) {
      ignoreDuplicateKey(error);
      // Another recorder of the same event took this claim: its place, if it got one, is among the claims.
      const again = await this.readClaims(document.eventId);
      return again.found ? { placed: await this.pointed(again.found) } : { nextClaim: again.nextClaim, placeTaken: false };
    }
    try {
      await this.c.feed.insertOne(document);
      await this.c.heads.updateOne({ _id: document.client }, { $max: { seq: document.seq } }).catch(() => undefined);
      return { placed: await this.pointed(document) };
    } catch (error) {
      ignoreDuplicateKey(error);
    }
    const there = await this.c.feed.findOne({ _id: document._id });
    if (there?.eventId === document.eventId) return { placed: await this.pointed(there) };
    if (there) return { nextClaim: claim + 1, placeTaken: true };
    // The unique eventId index refused: the event holds another place, which one of its claims names.
    const again = await this.readClaims(document.eventId);
    if (again.found) return { placed: await this.pointed(again.found) };
    const unclaimed = await this.findUnclaimed(document.client, document.eventId);
    if (unclaimed) return { placed: await this.pointed(unclaimed) };
    throw new Error(`${document.eventId} is in the feed of ${document.client}, but neither its pointer nor its claims name its place`);
  }

  /** The event's claims in order, each checked against the place it names (two `_id` look-ups a claim). */
  private async readClaims(eventId: string): Promise<ClaimsRead> {
    for (let claim = 1; claim <= appendRoundsMax; claim += 1) {
      const named = await this.c.claims.findOne({ _id: claimId(eventId, claim) });
      if (!named) return { nextClaim: claim };
      const there = await this.c.feed.findOne({ _id: feedId(named.client, named.seq) });
      if (there?.eventId === eventId) return { found: there, nextClaim: claim + 1 };
    }
    return { nextClaim: appendRoundsMax + 1 };
  }

  /**
   * An event placed by the version before claims, whose pointer a crash lost: it was placed just
   * before that crash, so it is among the newest places, walked down from the head by `_id`.
   */
  private async findUnclaimed(client: string, eventId: string): Promise<FeedDocument | undefined> {
    const head = await this.rollForward(client, (await this.c.heads.findOne({ _id: client }))?.seq ?? 0);
    for (let top = head; top > 0 && top > head - unclaimedSearchDepth; top -= unclaimedSearchBatch) {
      const seqs = Array.from({ length: Math.min(unclaimedSearchBatch, top) }, (_, index) => top - index);
      const found = await Promise.all(seqs.map((seq) => this.c.feed.findOne({ _id: feedId(client, seq) })));
      const match = found.find((document) => document?.eventId === eventId);
      if (match) return match;
    }
    return undefined;
  }

  /** The pointer is written once the place is the event's; a repeat of it changes nothing. */
  private async pointed(document: FeedDocument): Promise<FeedDocument> {
    await this.c.pointers.insertOne({ _id: document.eventId, client: document.client, seq: document.seq }).catch(ignoreDuplicateKey);
    return document;
  }

  async findEvent(eventId: string): Promise<FeedDocument | undefined> {
    const pointer = await this.c.pointers.findOne({ _id: eventId });
    if (!pointer) return undefined;
    return (await this.c.feed.findOne({ _id: feedId(pointer.client, pointer.seq) })) ?? undefined;
  }

  /**
   * Up to `limit` events after `after`, oldest first: `_id` look-ups of consecutive places.
   * Without a cursor the page starts at the oldest event retention kept; a cursor older than
   * that is refused (EventCursorExpiredError), since the events right after it are gone.
   */
  async listEvents(client: string, after: number | undefined, limit: number): Promise<FeedPage> {
    // Marks are `$max` upserts, written one at a time: a tail without feedThrough has deleted nothing yet.
    const through = (await this.c.tails.findOne({ _id: client }))?.feedThrough ?? 0;
    if (after !== undefined && after < through) throw new EventCursorExpiredError(through);
    const from = after ?? through;
    const found = await Promise.all(Array.from({ length: limit }, (_, index) => this.c.feed.findOne({ _id: feedId(client, from + 1 + index) })));
    const events: FeedDocument[] = [];
    for (const document of found) {
      if (!document) break;
      events.push(document);
    }
    return { events, after: from };
  }

  async recordAttempt(attempt: Omit<DeliveryAttemptDocument, '_id'>): Promise<void> {
    // An attempt whose activity was retried after recording it keeps its first record.
    await this.c.attempts.insertOne({ _id: attemptId(attempt.eventId, attempt.endpointId, attempt.attempt), ...attempt }).catch(ignoreDuplicateKey);
  }

  /** The delivery log of one event at one endpoint: attempts 1, 2, … by `_id`. */
  async listAttempts(eventId: string, endpointId: string): Promise<DeliveryAttemptDocument[]> {
    const attempts: DeliveryAttemptDocument[] = [];
    for (let attempt = 1; attempt <= attemptsListedMax; attempt += 1) {
      const document = await this.c.attempts.findOne({ _id: attemptId(eventId, endpointId, attempt) });
      if (!document) break;
      attempts.push(document);
    }
    return attempts;
  }

  /** The cached head is a hint (updates are not atomic); `_id` look-ups roll it forward. */
  private async headSeq(client: string): Promise<number> {
    const head = await this.c.heads.findOne({ _id: client });
    if (!head) await this.c.heads.insertOne({ _id: client, seq: 0 }).catch(ignoreDuplicateKey);
    return this.rollForward(client, head?.seq ?? 0);
  }

  private async rollForward(client: string, from: number): Promise<number> {
    let seq = from;
    while (await this.c.feed.findOne({ _id: feedId(client, seq + 1) }, { projection: { _id: 1 } })) seq += 1;
    return seq;
  }
}
