import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning.js';
import type { EventType } from '../../config/events.config.js';
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

export interface WebhookDelivery extends OutboxRow {
  /** Attempts including the one being made now. */
  attempts: number;
  /** The integrator's reference of the event's connection (payload `connectionId`) as it is now; null when none. */
  externalReference: string | null;
}

/**
 * The current `external_reference` of the connection an outbox row (`o`) names in its payload, read
 * at delivery time so a reference set after the event still reaches the receiver. Matched on the
 * row's user too: an event can only ever carry its own user's reference. The CASE keeps a payload
 * whose connectionId is not a UUID from failing the cast.
 */
const EXTERNAL_REFERENCE = `(SELECT c.external_reference FROM connections c
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
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async record(manager: EntityManager, event: OutboxEvent): Promise<void> {
    await manager.query('INSERT INTO outbox_events (user_id, type, payload) VALUES ($1, $2, $3)', [event.userId, event.type, JSON.stringify(event.data)]);
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
   * Leases undelivered events for a webhook delivery: pushing `webhook_next_attempt_at` past the
   * lease keeps other replicas off them (SKIP LOCKED: nobody waits); a replica that dies mid-POST
   * leaves them to be retried once the lease ends (at least once).
   */
  async claimForWebhook(limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    const result: unknown = await this.dataSource.query(
      `UPDATE outbox_events o SET webhook_next_attempt_at = now() + make_interval(secs => $2::double precision / 1000), webhook_attempts = o.webhook_attempts + 1
       FROM (
         SELECT id FROM outbox_events
         WHERE webhook_delivered_at IS NULL AND webhook_next_attempt_at <= now()
         ORDER BY webhook_next_attempt_at, id
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE o.id = due.id
       RETURNING o.id::text AS id, o.user_id AS "userId", o.type, o.payload, o.created_at AS "createdAt", o.webhook_attempts AS attempts,
         ${EXTERNAL_REFERENCE} AS "externalReference"`,
      [limit, leaseMs],
    );
    return returningRows<WebhookDelivery>(result).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  async markWebhookDelivered(id: string): Promise<void> {
    await this.dataSource.query('UPDATE outbox_events SET webhook_delivered_at = now() WHERE id = $1::bigint', [id]);
  }

  async retryWebhookLater(id: string, delayMs: number): Promise<void> {
    await this.dataSource.query(
      'UPDATE outbox_events SET webhook_next_attempt_at = now() + make_interval(secs => $2::double precision / 1000) WHERE id = $1::bigint AND webhook_delivered_at IS NULL',
      [id, delayMs],
    );
  }

  async pendingWebhooks(): Promise<number> {
    const [row] = (await this.dataSource.query('SELECT count(*)::int AS n FROM outbox_events WHERE webhook_delivered_at IS NULL')) as { n: number }[];
    return row.n;
  }

  /**
   * Deletes events created before `before`. With `keepUndelivered` (a webhook is configured) an
   * event the webhook has not received yet is kept whatever its age: delivery is at least once.
   * Returns how many were deleted.
   */
  async purge(before: Date, keepUndelivered: boolean): Promise<number> {
    const [, deleted] = (await this.dataSource.query(
      'DELETE FROM outbox_events WHERE created_at < $1 AND (NOT $2::boolean OR webhook_delivered_at IS NOT NULL)',
      [before, keepUndelivered],
    )) as [unknown, number];
    return deleted;
  }
}
