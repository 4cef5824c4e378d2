import { derivedUetr } from '../record/transfer-identifiers';
import { isoReasonCode, isoTransactionStatus } from '../iso20022/status-codes';
import type { TransferView } from '../contracts/transfer-view';
import { randomBytes } from 'node:crypto';
import { MongoServerError, type Db } from 'mongodb';
import type { TransferEventRecord, TransferEventType } from '../contracts/event-contract';
import { secretSealer, type SecretSealer } from '../crypto/secret-sealing';
import { newWebhookSecret } from '../crypto/webhook-signature';
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
  /**
   * Secrets replaced by a rotation that still sign every delivery until `retiresAt` (the overlap),
   * sealed like `secret`; left out before the first rotation.
   */
  retiringSecrets?: RetiringSecret[];
  /** Rotations so far (left out: none); the next rotation's decision is the insert of rotation `secretGeneration + 1`. */
  secretGeneration?: number;
  createdAt: string;
  deletedAt?: string;
}

export interface RetiringSecret {
  secret: string;
  retiresAt: string;
}

/**
 * One rotation of an endpoint's secret (`<endpointId>#<generation>`): its insert decides it, so
 * two rotations at once cannot both believe they succeeded, and it holds what the endpoint becomes,
 * so a crash before the endpoint was updated is finished by the next read.
 */
interface SecretRotation {
  _id: string;
  endpointId: string;
  generation: number;
  secret: string;
  retiringSecrets: RetiringSecret[];
  rotatedAt: string;
  rotatedBy: string;
}

/** An operator's redelivery of an event to an endpoint (`<eventId>|<endpointId>|r<n>`, n = 2, 3, …): its insert takes the number. */
interface Redelivery {
  _id: string;
  eventId: string;
  endpointId: string;
  delivery: number;
  requestedAt: string;
  requestedBy: string;
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

/** A secret rotation or a redelivery the store refuses, with the API's code for it. */
export class WebhookRequestRefusedError extends Error {
  override readonly name = 'WebhookRequestRefusedError';
  constructor(
    readonly code: 'WEBHOOK_ENDPOINT_NOT_FOUND' | 'WEBHOOK_SECRET_ROTATION_REFUSED' | 'WEBHOOK_REDELIVERY_LIMIT',
    message: string,
  ) {
    super(message);
  }
}

/** The secrets that sign a delivery now: the current one first, then those still in their overlap. */
export function activeSecrets(endpoint: Pick<WebhookEndpointDocument, 'secret' | 'retiringSecrets'>, now: Date): string[] {
  return [endpoint.secret, ...(endpoint.retiringSecrets ?? []).filter((retiring) => Date.parse(retiring.retiresAt) > now.getTime()).map((retiring) => retiring.secret)];
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
  /** Which delivery of the event to the endpoint: 1 (left out) the first, 2, 3, … redeliveries. */
  delivery?: number;
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
/** How long a secret replaced by a rotation keeps signing, unless configured (WEBHOOK_SECRET_OVERLAP_MS) or asked shorter. */
export const webhookSecretOverlapMsDefault = 86_400_000;
/** Secrets an endpoint may have retiring at once: every delivery carries one signature per active secret. */
export const retiringSecretsMax = 3;
/** Decided rotations one read applies at most (more than one only after crashes or racing updates). */
const rotationsRolledForwardMax = 10;
/** Redeliveries of one event to one endpoint. */
export const redeliveriesMax = 100;
const appendRoundsMax = 1_000;
export const attemptsListedMax = 500;
/** How far below the head a place is looked for when the event predates claims (see findUnclaimed). */
const unclaimedSearchDepth = 1_000;
const unclaimedSearchBatch = 50;

const seqWidth = 12;
export const feedId = (client: string, seq: number): string => `${client}:${String(seq).padStart(seqWidth, '0')}`;
export const claimId = (eventId: string, claim: number): string => `${eventId}#${String(claim).padStart(4, '0')}`;
/** The first delivery's attempts keep the ids they always had; a redelivery's are under its number. */
export const attemptId = (eventId: string, endpointId: string, attempt: number, delivery = 1): string =>
  delivery > 1 ? `${eventId}|${endpointId}|r${String(delivery).padStart(4, '0')}|${String(attempt).padStart(6, '0')}` : `${eventId}|${endpointId}|${String(attempt).padStart(6, '0')}`;
export const redeliveryId = (eventId: string, endpointId: string, delivery: number): string => `${eventId}|${endpointId}|r${String(delivery).padStart(4, '0')}`;
const rotationId = (endpointId: string, generation: number): string => `${endpointId}#${String(generation).padStart(6, '0')}`;
const isDuplicateKey = (error: unknown): boolean => error instanceof MongoServerError && error.code === 11000;
const ignoreDuplicateKey = (error: unknown): void => {
  if (!isDuplicateKey(error)) throw error;
};

export function publicEvent(document: FeedDocument): PublicEvent {
  return { id: document.eventId, type: document.type, createdAt: document.createdAt, data: { transfer: withPaymentIdentifiers(document.transfer) } };
}

/**
 * An event recorded before transfers carried payment identifiers and ISO codes shows them as its
 * transfer's view does now: the derived UETR, no end-to-end id, the codes of its status and reason.
 * The feed and deliveries then always match the documented event; the stored event is not rewritten.
 */
function withPaymentIdentifiers(transfer: unknown): unknown {
  const view = transfer as Partial<TransferView> & Pick<TransferView, 'id' | 'status'>;
  if (typeof view !== 'object' || view === null || typeof view.id !== 'string' || (view.uetr !== undefined && view.isoStatus !== undefined)) return transfer;
  return {
    ...view,
    uetr: view.uetr ?? derivedUetr(view.id),
    endToEndId: view.endToEndId ?? null,
    isoStatus: view.isoStatus ?? isoTransactionStatus(view.status),
    isoReasonCode: view.isoReasonCode ?? isoReasonCode(view.status, view.reason),
  };
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
    rotations: db.collection<SecretRotation>('webhook_secret_rotations'),
    redeliveries: db.collection<Redelivery>('webhook_redeliveries'),
  };
}
export type EventCollections = ReturnType<typeof eventCollections>;

/** The numbers of the redeliveries asked for of an event at an endpoint (2, 3, …), by `_id` until one is missing. */
export async function redeliveryNumbers(c: EventCollections, eventId: string, endpointId: string): Promise<number[]> {
  const numbers: number[] = [];
  for (let delivery = 2; delivery <= redeliveriesMax + 1; delivery += 1) {
    if (!(await c.redeliveries.findOne({ _id: redeliveryId(eventId, endpointId, delivery) }, { projection: { _id: 1 } }))) break;
    numbers.push(delivery);
  }
  return numbers;
}

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
      secret: newWebhookSecret(),
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

  /** The endpoint with its secrets open; a rotation a crash left half-done is finished first (one more `_id` look-up). */
  async getEndpoint(id: string): Promise<WebhookEndpointDocument | undefined> {
    const endpoint = await this.rolledForward(id);
    return endpoint ? this.opened(endpoint) : undefined;
  }

  /**
   * The stored endpoint with every rotation decided after its generation applied: the rotation's
   * insert is the decision, the endpoint's update follows, so a crash, or a late update of an
   * earlier rotation, leaves decided rotations that the next read finds by `_id`.
   */
  private async rolledForward(id: string): Promise<WebhookEndpointDocument | undefined> {
    let endpoint = await this.c.endpoints.findOne({ _id: id });
    for (let step = 0; endpoint && step < rotationsRolledForwardMax; step += 1) {
      const pending = await this.c.rotations.findOne({ _id: rotationId(id, (endpoint.secretGeneration ?? 0) + 1) });
      if (!pending) break;
      endpoint = await this.applyRotation(endpoint, pending);
    }
    return endpoint ?? undefined;
  }

  private opened(endpoint: WebhookEndpointDocument): WebhookEndpointDocument {
    const open = (stored: string) => this.sealer.open(stored, endpoint._id);
    return {
      ...endpoint,
      secret: open(endpoint.secret),
      ...(endpoint.retiringSecrets ? { retiringSecrets: endpoint.retiringSecrets.map((retiring) => ({ ...retiring, secret: open(retiring.secret) })) } : {}),
    };
  }

  /**
   * Replaces the endpoint's secret by a new one, shown once in the answer; the one it replaces
   * keeps signing until `now + overlapMs`. Refused (WebhookRequestRefusedError) when another
   * rotation took this one's place, or when too many secrets are retiring already.
   */
  async rotateSecret(id: string, now: Date, overlapMs: number, rotatedBy: string): Promise<{ secret: string; previousSecretRetiresAt: string }> {
    const stored = await this.rolledForward(id);
    if (!stored || stored.deletedAt !== undefined) throw new WebhookRequestRefusedError('WEBHOOK_ENDPOINT_NOT_FOUND', `no webhook endpoint ${id}`);
    const retiresAt = new Date(now.getTime() + overlapMs).toISOString();
    const stillRetiring = (stored.retiringSecrets ?? []).filter((retiring) => retiring.retiresAt > now.toISOString());
    if (stillRetiring.length >= retiringSecretsMax) {
      throw new WebhookRequestRefusedError('WEBHOOK_SECRET_ROTATION_REFUSED', `${stillRetiring.length} earlier secrets of this endpoint are still in their overlap; rotate again after ${stillRetiring.map((retiring) => retiring.retiresAt).sort()[0]}`);
    }
    const secret = newWebhookSecret();
    const generation = (stored.secretGeneration ?? 0) + 1;
    // The replaced secret moves as it is stored: sealed for this endpoint already.
    const rotation: SecretRotation = { _id: rotationId(id, generation), endpointId: id, generation, secret: this.sealer.seal(secret, id), retiringSecrets: [...stillRetiring, { secret: stored.secret, retiresAt }], rotatedAt: now.toISOString(), rotatedBy };
    try {
      await this.c.rotations.insertOne(rotation);
    } catch (error) {
      ignoreDuplicateKey(error);
      throw new WebhookRequestRefusedError('WEBHOOK_SECRET_ROTATION_REFUSED', 'another rotation of this endpoint\'s secret was made at the same time; read the endpoint and rotate again if needed');
    }
    await this.applyRotation(stored, rotation);
    return { secret, previousSecretRetiresAt: retiresAt };
  }

  private async applyRotation(endpoint: WebhookEndpointDocument, rotation: SecretRotation): Promise<WebhookEndpointDocument> {
    const rotated = { secret: rotation.secret, retiringSecrets: rotation.retiringSecrets, secretGeneration: rotation.generation };
    await this.c.endpoints.updateOne({ _id: endpoint._id }, { $set: rotated });
    return { ...endpoint, ...rotated };
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
    await this.c.attempts.insertOne({ _id: attemptId(attempt.eventId, attempt.endpointId, attempt.attempt, attempt.delivery), ...attempt }).catch(ignoreDuplicateKey);
  }

  /**
   * The delivery log of one event at one endpoint: the first delivery's attempts 1, 2, … by `_id`,
   * then each redelivery's, in the order they were asked for.
   */
  async listAttempts(eventId: string, endpointId: string): Promise<DeliveryAttemptDocument[]> {
    const attempts: DeliveryAttemptDocument[] = [];
    const deliveries = [1, ...(await this.redeliveriesOf(eventId, endpointId))];
    for (const delivery of deliveries) {
      for (let attempt = 1; attempts.length < attemptsListedMax; attempt += 1) {
        const document = await this.c.attempts.findOne({ _id: attemptId(eventId, endpointId, attempt, delivery) });
        if (!document) break;
        attempts.push(document);
      }
    }
    return attempts;
  }

  redeliveriesOf(eventId: string, endpointId: string): Promise<number[]> {
    return redeliveryNumbers(this.c, eventId, endpointId);
  }

  /** Takes the next delivery number of the event at the endpoint (2 for the first redelivery) with one uniquely keyed insert. */
  async claimRedelivery(eventId: string, endpointId: string, requestedBy: string, now: Date): Promise<number> {
    let delivery = 2 + (await this.redeliveriesOf(eventId, endpointId)).length;
    for (; delivery <= redeliveriesMax + 1; delivery += 1) {
      try {
        await this.c.redeliveries.insertOne({ _id: redeliveryId(eventId, endpointId, delivery), eventId, endpointId, delivery, requestedAt: now.toISOString(), requestedBy });
        return delivery;
      } catch (error) {
        ignoreDuplicateKey(error);
      }
    }
    throw new WebhookRequestRefusedError('WEBHOOK_REDELIVERY_LIMIT', `event ${eventId} was redelivered to endpoint ${endpointId} ${redeliveriesMax} times already`);
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
