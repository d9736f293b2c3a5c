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
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** A writer drawing an outbox id is a matter of microseconds: a new stream asks again this often, this many times. */
const WATERMARK_RETRY_MS = 10;
const WATERMARK_ATTEMPTS = 50;

/**
 * Fans the outbox out to this replica's SSE streams. One timer (EVENTS_POLL_MS) runs while
 * streams are open: it reads every new outbox row once for all streams and writes each to the
 * streams of its user only. Events written by any replica reach every replica's streams within a
 * tick, with no coordination between replicas.
 *
 * Outbox ids are drawn at insert time but transactions commit in any order, so the hub reads only
 * below the outbox watermark (`OutboxStore.watermark`: the lowest id still in flight) and advances
 * its cursor to just below it. Every stream is therefore sent its user's events in id order, and an
 * event is sent only once every lower id has committed or rolled back: the last id a client has
 * seen is a position no later commit can fall behind, on any replica. A stream starts with an `id:`
 * line of its own (its starting position) so a client that has not received an event yet can resume
 * too. Resumed with Last-Event-ID, a stream first gets that user's events after that id. Delivery
 * is at least once (a client may resume from an older id): clients de-duplicate by id.
 */
@Injectable()
export class EventStreamHub implements BeforeApplicationShutdown {
  private readonly logger = new Logger(EventStreamHub.name);
  private readonly subscribers = new Set<Subscriber>();
  /** Every outbox id up to here has been read and dispatched (or was settled before the streams opened). */
  private cursor: bigint | undefined;
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
   * Nothing is written to the sink before this resolves; the caller then writes `startId` as the
   * stream's first `id:`.
   */
  async open(userId: string, lastEventId: string | undefined, sink: StreamSink): Promise<StreamHandle & { startId: string }> {
    this.assertCapacity(userId);
    const after = lastEventId !== undefined ? BigInt(lastEventId) : (this.cursor ?? (await this.settledHead()));
    this.assertCapacity(userId);
    const subscriber: Subscriber = { userId, sink, after, catchingUp: true, expiresAt: Date.now() + this.config.maxStreamMs };
    this.subscribers.add(subscriber);
    this.metrics.streams.set(this.subscribers.size);
    this.start();
    return { close: () => this.drop(subscriber, false), startId: after.toString() };
  }

  /** The highest id below which everything has settled: a new stream starts after it. */
  private async settledHead(): Promise<bigint> {
    for (let attempt = 1; ; attempt++) {
      const watermark = await this.outbox.watermark();
      if (watermark !== undefined) return watermark - 1n;
      if (attempt >= WATERMARK_ATTEMPTS)
        throw new AppError('service_unavailable', 'The event stream could not be positioned; try again', { retryAfterSeconds: 1 });
      await new Promise((resolve) => setTimeout(resolve, WATERMARK_RETRY_MS));
    }
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
      if (this.cursor === undefined) this.cursor = await this.settledHead();
      await this.catchUp();
      await this.readNew();
    } catch (error) {
      this.logger.warn({ err: error }, 'reading the outbox for event streams failed; retrying next tick');
    } finally {
      this.ticking = false;
    }
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

  /** Reads what settled since the last tick, below the watermark, in id order. */
  private async readNew(): Promise<void> {
    const base = this.cursor!;
    const watermark = await this.outbox.watermark();
    // A writer is drawing an id right now: nothing new can be trusted yet; next tick.
    if (watermark === undefined || watermark <= base + 1n) return;
    const rows = await this.outbox.readBetween(base, watermark, BATCH);
    for (const row of rows) this.dispatch(row);
    // Unless every stream closed meanwhile (the hub then starts afresh next time).
    if (this.cursor === base) this.cursor = rows.length === BATCH ? BigInt(rows.at(-1)!.id) : watermark - 1n;
  }

  private dispatch(row: OutboxRow): void {
    const id = BigInt(row.id);
    for (const subscriber of this.subscribers) {
      if (subscriber.userId !== row.userId || subscriber.catchingUp) continue;
      if (id > subscriber.after) this.send(subscriber, row);
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
