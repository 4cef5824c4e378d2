import type { Db } from 'mongodb';
import { attemptId, attemptsListedMax, claimId, eventCollections, feedId, redeliveryId, redeliveryNumbers, type EventCollections, type FeedDocument, type FeedTail } from './event-store';

/**
 * Keeps the event feed and the webhook delivery log in bounds: each client's oldest events (and
 * their pointers, claims and delivery attempts) are deleted once older than the window. Every
 * read and delete names one `_id` (FerretDB's SQLite backend uses no index for anything else):
 * the feed is an `_id` chain, so a client's oldest events are the places right above its tail,
 * and every document an event owns has an `_id` derived from the event.
 */

export interface RetentionWindow {
  /** Events created before this are deleted from the feed. */
  feedBefore: Date;
  /** Delivery attempts of events created before this are deleted; never later than feedBefore. */
  attemptsBefore: Date;
  /** Most events one sweep looks at per client: a sweep stays short, the next one goes on. */
  eventsPerClientMax: number;
}

export interface RetentionOutcome {
  clients: number;
  eventsDeleted: number;
  attemptsDeleted: number;
}

/** The clients with a feed: one head each, in a collection that small (the sweep's only listing). */
const clientsListedMax = 100_000;
const claimsPerEventMax = 1_000;

export class EventRetention {
  private readonly c: EventCollections;

  constructor(db: Db) {
    this.c = eventCollections(db);
  }

  async sweep(window: RetentionWindow): Promise<RetentionOutcome> {
    const heads = await this.c.heads.find({}).limit(clientsListedMax).toArray();
    const outcome: RetentionOutcome = { clients: heads.length, eventsDeleted: 0, attemptsDeleted: 0 };
    for (const head of heads) {
      const swept = await this.sweepClient(head._id, head.seq, window);
      outcome.eventsDeleted += swept.eventsDeleted;
      outcome.attemptsDeleted += swept.attemptsDeleted;
    }
    return outcome;
  }

  /**
   * One client's sweep, never past its head hint: a recorder rolls forward from that hint, so a
   * place above it must never be freed (it would be taken again, below readers' cursors).
   */
  async sweepClient(client: string, headSeq: number, window: RetentionWindow): Promise<{ eventsDeleted: number; attemptsDeleted: number }> {
    const tail = await this.tailOf(client);
    const attemptsDeleted = await this.sweepAttempts(tail, headSeq, window);
    const attemptsThrough = (await this.tailOf(client)).attemptsThrough;
    const eventsDeleted = await this.sweepFeed(tail, Math.min(headSeq, attemptsThrough), window);
    return { eventsDeleted, attemptsDeleted };
  }

  /** The marks are written one at a time (`$max` upserts), so a mark not written yet is 0. */
  private async tailOf(client: string): Promise<FeedTail> {
    const tail = await this.c.tails.findOne({ _id: client });
    return { _id: client, feedThrough: tail?.feedThrough ?? 0, feedDeletedThrough: tail?.feedDeletedThrough ?? 0, attemptsThrough: tail?.attemptsThrough ?? 0 };
  }

  /** The delivery attempts of the oldest events, then the mark that says they are gone. */
  private async sweepAttempts(tail: FeedTail, upTo: number, window: RetentionWindow): Promise<number> {
    const old = await this.oldEvents(tail._id, tail.attemptsThrough, upTo, window.attemptsBefore, window.eventsPerClientMax);
    let deleted = 0;
    for (const event of old.events) deleted += await this.deleteAttemptsOf(event);
    if (old.through > tail.attemptsThrough) await this.advanceTail(tail._id, { attemptsThrough: old.through });
    return deleted;
  }

  /**
   * The oldest events: the readers' mark moves first (so no page ever shows a half-deleted
   * feed), then the deletes, then the mark that says they are done. A sweep that stopped halfway
   * left the first mark ahead of the second; this one finishes those places first.
   */
  private async sweepFeed(tail: FeedTail, upTo: number, window: RetentionWindow): Promise<number> {
    let deleted = await this.deletePlaces(tail._id, tail.feedDeletedThrough, tail.feedThrough);
    const old = await this.oldEvents(tail._id, tail.feedThrough, upTo, window.feedBefore, window.eventsPerClientMax);
    if (old.through > tail.feedThrough) {
      await this.advanceTail(tail._id, { feedThrough: old.through });
      for (const event of old.events) deleted += await this.deleteEvent(event);
    }
    const deletedThrough = Math.max(old.through, tail.feedThrough);
    if (deletedThrough > tail.feedDeletedThrough) await this.advanceTail(tail._id, { feedDeletedThrough: deletedThrough });
    return deleted;
  }

  /** The events right above `after` created before `before`, in feed order, at most `max` and never above `upTo`. */
  private async oldEvents(client: string, after: number, upTo: number, before: Date, max: number): Promise<{ events: FeedDocument[]; through: number }> {
    const events: FeedDocument[] = [];
    let through = after;
    for (let seq = after + 1; seq <= upTo && events.length < max; seq += 1) {
      const event = await this.c.feed.findOne({ _id: feedId(client, seq) });
      // A missing place below the head was deleted by a concurrent sweep: it goes on from there next time.
      if (!event || Date.parse(event.createdAt) >= before.getTime()) break;
      events.push(event);
      through = seq;
    }
    return { events, through };
  }

  /** Places a stopped sweep had marked gone but not yet deleted. */
  private async deletePlaces(client: string, after: number, through: number): Promise<number> {
    let deleted = 0;
    for (let seq = after + 1; seq <= through; seq += 1) {
      const event = await this.c.feed.findOne({ _id: feedId(client, seq) });
      if (event) deleted += await this.deleteEvent(event);
    }
    return deleted;
  }

  /** Pointer and claims first, the feed entry last: while the entry is there, it can be found and finished. */
  private async deleteEvent(event: FeedDocument): Promise<number> {
    await this.c.pointers.deleteOne({ _id: event.eventId });
    for (let claim = 1; claim <= claimsPerEventMax; claim += 1) {
      if ((await this.c.claims.deleteOne({ _id: claimId(event.eventId, claim) })).deletedCount === 0) break;
    }
    return (await this.c.feed.deleteOne({ _id: event._id })).deletedCount;
  }

  /**
   * Attempts 1, 2, … of each delivery of the event to each endpoint it was addressed to, until one
   * is missing; a redelivery's number goes after its attempts, so a stopped sweep finds them again.
   */
  private async deleteAttemptsOf(event: FeedDocument): Promise<number> {
    let deleted = 0;
    for (const endpointId of event.endpointIds) {
      const redeliveries = await redeliveryNumbers(this.c, event.eventId, endpointId);
      for (const delivery of [1, ...redeliveries]) {
        for (let attempt = 1; attempt <= attemptsListedMax; attempt += 1) {
          const gone = (await this.c.attempts.deleteOne({ _id: attemptId(event.eventId, endpointId, attempt, delivery) })).deletedCount;
          if (gone === 0) break;
          deleted += gone;
        }
      }
      // Highest first: the numbers are read until one is missing.
      for (const delivery of redeliveries.reverse()) await this.c.redeliveries.deleteOne({ _id: redeliveryId(event.eventId, endpointId, delivery) });
    }
    return deleted;
  }

  /** Marks only move forward, whichever of two concurrent sweeps writes last. */
  private async advanceTail(client: string, marks: Partial<Omit<FeedTail, '_id'>>): Promise<void> {
    await this.c.tails.updateOne({ _id: client }, { $max: marks }, { upsert: true });
  }
}
