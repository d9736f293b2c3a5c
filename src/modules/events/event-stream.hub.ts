import { Inject, Injectable, Logger, type BeforeApplicationShutdown } from '@nestjs/common';
import { AppError } from '../../common/errors/app-error.js';
import { eventsConfig } from '../../config/events.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { sseFrame, toEventMessage } from './event-message.js';
import { EventsMetrics } from './events.metrics.js';
import { OutboxStore, type OutboxRow } from './outbox.store.js';

/** Where a stream's frames go (the HTTP response). */
export interface StreamSink {
  write(chunk: string): void;
  /** Bytes written but not yet taken by the socket: a client that stops reading is cut off. */
  bufferedBytes(): number;
  end(): void;
}

export interface StreamHandle {
  close(): void;
}

interface Subscriber {
  readonly userId: string;
  readonly sink: StreamSink;
  /** The last event id this stream has been sent (or started after). */
  after: bigint;
  /** Behind the hub's cursor: fed from a per-user query until it has caught up. */
  catchingUp: boolean;
  readonly expiresAt: number;
}

const BATCH = 500;
const CATCH_UP_BATCH = 200;
/** Ids missing below the newest one (transactions still in flight) are watched this long, then taken as rolled back. */
const GAP_WAIT_MS = 120_000;
const MAX_GAPS = 10_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;

/**
 * Fans the outbox out to this replica's SSE streams. One timer (EVENTS_POLL_MS) runs while
 * streams are open: it reads every new outbox row once for all streams and writes each to the
 * streams of its user only. Events written by any replica reach every replica's streams within a
 * tick, with no coordination between replicas.
 *
 * Outbox ids come from a sequence, so a transaction that commits late can make a lower id appear
 * after a higher one was read. Ids skipped by the cursor are remembered for GAP_WAIT_MS and read
 * again each tick; such a late event is still delivered (possibly out of order). A stream resumed
 * with Last-Event-ID first gets that user's events after that id. Delivery is at least once:
 * clients de-duplicate by `id`.
 */
@Injectable()
export class EventStreamHub implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamHub.name);
  private readonly subscribers = new Set<Subscriber>();
  private cursor: bigint | undefined;
  private readonly gaps = new Map<bigint, number>();
  private pollTimer: NodeJS.Timeout | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private ticking = false;

  constructor(
    @Inject(eventsConfig.KEY) private readonly config: ConfigOf<typeof eventsConfig>,
    private readonly outbox: OutboxStore,
    private readonly metrics: EventsMetrics,
  ) {}

  /** 429 when the user already has the most streams a replica keeps for one user. */
  assertCapacity(userId: string): void {
    let open = 0;
    for (const s of this.subscribers) if (s.userId === userId) open++;
    if (open >= this.config.maxStreamsPerUser) {
      throw new AppError('rate_limited', `At most ${this.config.maxStreamsPerUser} event streams per user are kept open`, { retryAfterSeconds: 5 });
    }
  }

  /**
   * Starts a stream for `userId`: events after `lastEventId` (a resumed stream), or from now on.
   * Nothing is written to the sink before this resolves.
   */
  async open(userId: string, lastEventId: string | undefined, sink: StreamSink): Promise<StreamHandle> {
    this.assertCapacity(userId);
    const after = BigInt(lastEventId ?? (await this.outbox.head(0)).maxId);
    this.assertCapacity(userId);
    const subscriber: Subscriber = { userId, sink, after, catchingUp: true, expiresAt: Date.now() + this.config.maxStreamMs };
    this.subscribers.add(subscriber);
    this.metrics.streams.set(this.subscribers.size);
    this.start();
    return { close: () => this.drop(subscriber, false) };
  }

  get streamCount(): number {
    return this.subscribers.size;
  }

  beforeApplicationShutdown(): void {
    for (const subscriber of [...this.subscribers]) this.drop(subscriber, true);
    this.stop();
  }

  private start(): void {
    if (this.pollTimer) return;
    this.pollTimer = setInterval(() => void this.tick(), this.config.pollMs);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.config.heartbeatMs);
  }

  private stop(): void {
    clearInterval(this.pollTimer);
    clearInterval(this.heartbeatTimer);
    this.pollTimer = this.heartbeatTimer = undefined;
    // The next stream starts from a fresh cursor: nobody is listening meanwhile.
    this.cursor = undefined;
    this.gaps.clear();
  }

  private drop(subscriber: Subscriber, end: boolean): void {
    if (!this.subscribers.delete(subscriber)) return;
    this.metrics.streams.set(this.subscribers.size);
    if (end) subscriber.sink.end();
    if (this.subscribers.size === 0) this.stop();
  }

  private heartbeat(): void {
    const now = Date.now();
    for (const subscriber of [...this.subscribers]) {
      // Streams end after SSE_MAX_STREAM_SECONDS: the client reconnects with a fresh user token.
      if (now >= subscriber.expiresAt) this.drop(subscriber, true);
      else this.write(subscriber, ': keep-alive\n\n');
    }
  }

  private async tick(): Promise<void> {
    if (this.ticking || this.subscribers.size === 0) return;
    this.ticking = true;
    try {
      if (this.cursor === undefined) await this.initCursor();
      await this.catchUp();
      await this.readNew();
    } catch (error) {
      this.logger.warn({ err: error }, 'reading the outbox for event streams failed; retrying next tick');
    } finally {
      this.ticking = false;
    }
  }

  private async initCursor(): Promise<void> {
    const head = await this.outbox.head(1000);
    const now = Date.now();
    for (const id of head.missing) this.gaps.set(BigInt(id), now);
    this.cursor = BigInt(head.maxId);
  }

  /** Streams that started behind the cursor get their user's events up to it first. */
  private async catchUp(): Promise<void> {
    const cursor = this.cursor!;
    for (const subscriber of [...this.subscribers]) {
      if (!subscriber.catchingUp) continue;
      if (subscriber.after >= cursor) {
        subscriber.catchingUp = false;
        continue;
      }
      const rows = await this.outbox.readForUser(subscriber.userId, subscriber.after.toString(), cursor.toString(), CATCH_UP_BATCH);
      for (const row of rows) this.send(subscriber, row);
      if (rows.length < CATCH_UP_BATCH) subscriber.catchingUp = false;
    }
  }

  private async readNew(): Promise<void> {
    const now = Date.now();
    for (const [id, since] of this.gaps) if (now - since > GAP_WAIT_MS) this.gaps.delete(id);
    const base = this.cursor!;
    const rows = await this.outbox.readAfter(base.toString(), [...this.gaps.keys()].map(String), BATCH);
    let high = base;
    for (const row of rows) {
      const id = BigInt(row.id);
      const lateArrival = this.gaps.delete(id);
      if (id > high) {
        for (let missing = high + 1n; missing < id && this.gaps.size < MAX_GAPS; missing++) this.gaps.set(missing, now);
        high = id;
      }
      this.dispatch(row, lateArrival);
    }
    // Unless every stream closed meanwhile (the hub then starts afresh next time).
    if (this.cursor === base) this.cursor = high;
  }

  private dispatch(row: OutboxRow, lateArrival: boolean): void {
    const id = BigInt(row.id);
    for (const subscriber of this.subscribers) {
      if (subscriber.userId !== row.userId || subscriber.catchingUp) continue;
      if (id > subscriber.after || lateArrival) this.send(subscriber, row);
    }
  }

  private send(subscriber: Subscriber, row: OutboxRow): void {
    const id = BigInt(row.id);
    if (id > subscriber.after) subscriber.after = id;
    if (this.write(subscriber, sseFrame(toEventMessage(row)))) this.metrics.streamed.inc({ type: row.type });
  }

  private write(subscriber: Subscriber, chunk: string): boolean {
    if (subscriber.sink.bufferedBytes() > MAX_BUFFERED_BYTES) {
      // A client that stopped reading: cut it off rather than buffer without bound. It resumes with Last-Event-ID.
      this.drop(subscriber, true);
      return false;
    }
    subscriber.sink.write(chunk);
    return true;
  }
}
