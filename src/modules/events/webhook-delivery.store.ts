import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { returningRows } from '../../database/returning.js';
import { EXTERNAL_REFERENCE, type OutboxRow } from './outbox.store.js';

/** One event leased for one endpoint. */
export interface WebhookDelivery extends OutboxRow {
  /** Attempts including the one being made now (counted again from 1 after a replay). */
  attempts: number;
  /** Queued again by an operator (POST /ops/webhooks/events/{id}/replay): sent with X-Event-Replay. */
  replay: boolean;
  /** The integrator's reference of the event's connection (payload `connectionId`) as it is now; null when none. */
  externalReference: string | null;
}

/**
 * The owner of `webhook_deliveries`: for each endpoint and event, whether the endpoint has received
 * it, how often it was tried and when it is tried next. Rows are written with their event
 * (`OutboxStore.record`) and by a replay; each endpoint's rows move on their own.
 */
@Injectable()
export class WebhookDeliveryStore {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Leases an endpoint's due deliveries: pushing `next_attempt_at` past the lease keeps other
   * replicas off them (SKIP LOCKED: nobody waits); a replica that dies mid-POST leaves them to be
   * retried once the lease ends (at least once).
   */
  async claim(endpointId: string, limit: number, leaseMs: number): Promise<WebhookDelivery[]> {
    const result: unknown = await this.dataSource.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = now() + make_interval(secs => $3::double precision / 1000), attempts = d.attempts + 1
       FROM (
         SELECT event_id FROM webhook_deliveries
         WHERE endpoint_id = $1 AND delivered_at IS NULL AND next_attempt_at <= now()
         ORDER BY next_attempt_at, event_id
         LIMIT $2
         FOR UPDATE SKIP LOCKED
       ) due, outbox_events o
       WHERE d.endpoint_id = $1 AND d.event_id = due.event_id AND o.id = d.event_id
       RETURNING o.id::text AS id, o.user_id AS "userId", o.type, o.payload, o.created_at AS "createdAt", d.attempts, d.replay,
         ${EXTERNAL_REFERENCE} AS "externalReference"`,
      [endpointId, limit, leaseMs],
    );
    return returningRows<WebhookDelivery>(result).sort((a, b) => Number(BigInt(a.id) - BigInt(b.id)));
  }

  /**
   * Done with this attempt. `attempts` is the attempt's number: a replay queued while it was in
   * flight restarted the count, and must not be marked done by the older attempt.
   */
  async markDelivered(endpointId: string, eventId: string, attempts: number): Promise<void> {
    await this.dataSource.query('UPDATE webhook_deliveries SET delivered_at = now() WHERE endpoint_id = $1 AND event_id = $2::bigint AND attempts = $3', [
      endpointId,
      eventId,
      attempts,
    ]);
  }

  async retryLater(endpointId: string, eventId: string, attempts: number, delayMs: number): Promise<void> {
    await this.dataSource.query(
      `UPDATE webhook_deliveries SET next_attempt_at = now() + make_interval(secs => $4::double precision / 1000)
        WHERE endpoint_id = $1 AND event_id = $2::bigint AND attempts = $3 AND delivered_at IS NULL`,
      [endpointId, eventId, attempts, delayMs],
    );
  }

  /** Undelivered events per endpoint, for those listed. */
  async pending(endpointIds: readonly string[]): Promise<Map<string, number>> {
    const rows = (await this.dataSource.query(
      'SELECT endpoint_id AS "endpointId", count(*)::int AS n FROM webhook_deliveries WHERE delivered_at IS NULL AND endpoint_id = ANY($1::text[]) GROUP BY endpoint_id',
      [endpointIds],
    )) as { endpointId: string; n: number }[];
    return new Map(endpointIds.map((id) => [id, rows.find((r) => r.endpointId === id)?.n ?? 0]));
  }

  /** The event's type, or undefined when there is no such event (any more). */
  async eventType(eventId: string): Promise<string | undefined> {
    const [row] = (await this.dataSource.query('SELECT type FROM outbox_events WHERE id = $1::bigint', [eventId])) as { type: string }[];
    return row?.type;
  }

  /**
   * Queues the event again for these endpoints, due now, whether or not they had received it: a
   * new row, or the old one reset (attempts from zero, marked as a replay). Returns the endpoints
   * queued; none when the event is gone.
   */
  async replay(eventId: string, endpointIds: readonly string[]): Promise<string[]> {
    const result: unknown = await this.dataSource.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, replay)
       SELECT endpoint_id, o.id, true FROM outbox_events o, unnest($2::text[]) AS endpoint_id WHERE o.id = $1::bigint
       ON CONFLICT (endpoint_id, event_id) DO UPDATE SET delivered_at = NULL, attempts = 0, next_attempt_at = now(), replay = true
       RETURNING endpoint_id AS "endpointId"`,
      [eventId, endpointIds],
    );
    return returningRows<{ endpointId: string }>(result)
      .map((r) => r.endpointId)
      .sort();
  }
}
