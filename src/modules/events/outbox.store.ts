import { Inject, Injectable, Optional } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { eventsConfig, type EventType, type EventsConfig } from '../../config/events.config.js';
import { OUTBOX_ID, OUTBOX_WRITING, outboxWatermark } from './outbox-watermark.js';

export type { EventType };

export interface OutboxEvent {
  userId: string;
  type: EventType;
  /** What the frontend receives; ids and statuses only, never a token or a bank secret. */
  data: Record<string, unknown>;
}

/**
 * A stored event. `id` is the outbox's sequence number, as a string (it is the SSE `id:`); readers
 * deliver ids in order, each only once every lower id has settled (see `watermark`).
 */
export interface OutboxRow {
  id: string;
  userId: string;
  type: EventType;
  payload: Record<string, unknown>;
  createdAt: Date;
}

/**
 * The current `external_reference` of the connection an outbox row (`o`) names in its payload, read
 * at delivery time so a reference set after the event still reaches the receiver. Matched on the
 * row's user too: an event can only ever carry its own user's reference. The CASE keeps a payload
 * whose connectionId is not a UUID from failing the cast.
 */
export const EXTERNAL_REFERENCE = `(SELECT c.external_reference FROM connections c
    WHERE c.user_id = o.user_id
      AND c.id = CASE WHEN o.payload->>'connectionId' ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN (o.payload->>'connectionId')::uuid END)`;

/**
 * A row as readers get it. The id is returned as text (JavaScript has no 64-bit integers), so a
 * query must order by the qualified column `outbox_events.id`: a bare `ORDER BY id` would sort by
 * this text alias ("100" before "99") and a reader would skip events whose id has fewer digits.
 */
const ROW = `id::text AS id, user_id AS "userId", type, payload, created_at AS "createdAt"`;

/**
 * The owner of `outbox_events`, the transactional outbox: a status change and its event are written in the same transaction,
 * so a change is never announced without having happened, nor lost after it did. Publishing (SSE,
 * webhooks) reads the table afterwards.
 */
@Injectable()
export class OutboxStore {
  /** Event type → the webhook endpoints whose filter takes it. */
  private readonly endpointsFor = new Map<string, string[]>();

  /**
   * Without the events configuration (command-line tools that write no events to deliver) no
   * webhook delivery is recorded.
   */
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Optional() @Inject(eventsConfig.KEY) events?: EventsConfig,
  ) {
    for (const endpoint of events?.webhook?.endpoints ?? []) {
      for (const type of endpoint.eventTypes) this.endpointsFor.set(type, [...(this.endpointsFor.get(type) ?? []), endpoint.id]);
    }
  }

  /**
   * Writes the event and, in the same statement, one pending delivery for each webhook endpoint
   * whose filter takes its type: with the caller's transaction, an event is announced to every
   * receiver exactly when its change commits, and never to an endpoint that did not ask for it.
   */
  async record(manager: EntityManager, event: OutboxEvent): Promise<void> {
    const values = [event.userId, event.type, JSON.stringify(event.data)];
    const endpoints = this.endpointsOf(event.type);
    if (endpoints.length === 0) {
      await manager.query('INSERT INTO outbox_events (user_id, type, payload) VALUES ($1, $2, $3)', values);
      return;
    }
    await manager.query(
      `WITH event AS (INSERT INTO outbox_events (user_id, type, payload) VALUES ($1, $2, $3) RETURNING id)
       INSERT INTO webhook_deliveries (endpoint_id, event_id) SELECT endpoint_id, event.id FROM event, unnest($4::text[]) AS endpoint_id`,
      [...values, endpoints],
    );
  }

  /**
   * The same writes as `record`, as data-modifying CTEs for a caller's own one-statement change:
   * one event of `type` for each row of the CTE `rows` (which has a "userId" column), and its
   * pending webhook deliveries. `payload` and `endpoints` are the statement's placeholders to bind
   * to the event's JSON and to `endpointsOf(type)`. Sibling CTEs must not be named `event`.
   */
  static eventCtes(type: EventType, rows: string, payload: string, endpoints: string): string {
    return `event AS (INSERT INTO outbox_events (user_id, type, payload) SELECT "userId", '${type}', ${payload}::jsonb FROM ${rows} RETURNING id),
      delivery AS (INSERT INTO webhook_deliveries (endpoint_id, event_id) SELECT endpoint_id, event.id FROM event, unnest(${endpoints}::text[]) AS endpoint_id)`;
  }

  /** The configured webhook endpoints whose filter takes events of this type. */
  endpointsOf(type: EventType): string[] {
    return this.endpointsFor.get(type) ?? [];
  }

  /**
   * The lowest id that may still appear: every id below it has committed or rolled back for good,
   * so a reader that has delivered everything below it can move its cursor there without ever
   * skipping a late commit. Undefined while a writer is drawing an id (ask again next time).
   * Two statements, in this order: the sequence's last value, then the writers in flight.
   */
  async watermark(): Promise<bigint | undefined> {
    const [sequence] = (await this.dataSource.query(
      'SELECT (CASE WHEN is_called THEN last_value ELSE last_value - 1 END)::text AS drawn FROM outbox_events_id_seq',
    )) as { drawn: string }[];
    const locks = (await this.dataSource.query(
      `SELECT pid, classid::bigint::text AS key, objid::bigint::text AS low FROM pg_locks
        WHERE locktype = 'advisory' AND objsubid = 2 AND classid IN ($1::oid, $2::oid)
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [OUTBOX_WRITING, OUTBOX_ID],
    )) as { pid: number; key: string; low: string }[];
    return outboxWatermark(
      BigInt(sequence.drawn),
      locks.map((l) => ({ pid: l.pid, key: Number(l.key), low: Number(l.low) })),
    );
  }

  /** Every user's events with ids in (afterId, belowId), oldest first. */
  async readBetween(afterId: bigint, belowId: bigint, limit: number): Promise<OutboxRow[]> {
    return this.dataSource.query(`SELECT ${ROW} FROM outbox_events WHERE id > $1::bigint AND id < $2::bigint ORDER BY outbox_events.id LIMIT $3`, [
      afterId.toString(),
      belowId.toString(),
      limit,
    ]);
  }

  /** One user's events in (afterId, upToId], oldest first: an SSE client resuming with Last-Event-ID. */
  async readForUser(userId: string, afterId: string, upToId: string, limit: number): Promise<OutboxRow[]> {
    return this.dataSource.query(
      `SELECT ${ROW} FROM outbox_events WHERE user_id = $1 AND id > $2::bigint AND id <= $3::bigint ORDER BY outbox_events.id LIMIT $4`,
      [userId, afterId, upToId, limit],
    );
  }

  /**
   * One of this user's events with its connection's current external reference (as a webhook body
   * carries it); undefined for an unknown id or another user's event.
   */
  async findForUser(userId: string, id: string): Promise<(OutboxRow & { externalReference: string | null }) | undefined> {
    const [row] = (await this.dataSource.query(
      `SELECT o.id::text AS id, o.user_id AS "userId", o.type, o.payload, o.created_at AS "createdAt", ${EXTERNAL_REFERENCE} AS "externalReference"
         FROM outbox_events o WHERE o.user_id = $1 AND o.id = $2::bigint`,
      [userId, id],
    )) as (OutboxRow & { externalReference: string | null })[];
    return row;
  }

  /**
   * Deletes events created before `before`, except those an endpoint in `keepFor` (the configured
   * webhook endpoints) has not received yet: delivery is at least once. Delivery rows of endpoints
   * no longer configured keep nothing (they would never be sent) and go with their event. Returns
   * how many were deleted.
   */
  async purge(before: Date, keepFor: readonly string[]): Promise<number> {
    const [, deleted] = (await this.dataSource.query(
      `DELETE FROM outbox_events o WHERE o.created_at < $1
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = o.id AND d.delivered_at IS NULL AND d.endpoint_id = ANY($2::text[]))`,
      [before, keepFor],
    )) as [unknown, number];
    return deleted;
  }
}
