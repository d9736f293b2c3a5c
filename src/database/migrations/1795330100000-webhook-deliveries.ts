import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Delivery state per webhook endpoint and event, instead of one set of columns on the outbox row:
 * several receivers (WEBHOOK_ENDPOINTS) each retry on their own, and an operator can queue one
 * event again (replay). A row exists only for an endpoint whose filter took the event's type when
 * it was written (same statement as the outbox insert). Deleting an outbox event deletes its rows.
 *
 * Events the single webhook had not received yet become rows of endpoint `default` (WEBHOOK_URL's
 * id), attempts and schedule kept; then the old columns go, so no code can read a state that no
 * longer moves. Rows of an endpoint that is not configured are never sent nor keep an event.
 */
export class WebhookDeliveries1795330100000 implements MigrationInterface {
  name = 'WebhookDeliveries1795330100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE webhook_deliveries (
        endpoint_id text NOT NULL,
        event_id bigint NOT NULL REFERENCES outbox_events (id) ON DELETE CASCADE,
        attempts integer NOT NULL DEFAULT 0,
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        replay boolean NOT NULL DEFAULT false,
        PRIMARY KEY (endpoint_id, event_id)
      )`);
    // Each endpoint's dispatcher looks only at its own due rows; housekeeping looks up an event's pending rows.
    await q.query('CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (endpoint_id, next_attempt_at, event_id) WHERE delivered_at IS NULL');
    await q.query('CREATE INDEX webhook_deliveries_pending_event_idx ON webhook_deliveries (event_id) WHERE delivered_at IS NULL');
    await q.query(`
      INSERT INTO webhook_deliveries (endpoint_id, event_id, attempts, next_attempt_at)
      SELECT 'default', id, webhook_attempts, webhook_next_attempt_at FROM outbox_events WHERE webhook_delivered_at IS NULL`);
    await q.query('DROP INDEX outbox_events_webhook_idx');
    await q.query('ALTER TABLE outbox_events DROP COLUMN webhook_delivered_at, DROP COLUMN webhook_attempts, DROP COLUMN webhook_next_attempt_at');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`
      ALTER TABLE outbox_events
        ADD COLUMN webhook_delivered_at timestamptz,
        ADD COLUMN webhook_attempts integer NOT NULL DEFAULT 0,
        ADD COLUMN webhook_next_attempt_at timestamptz NOT NULL DEFAULT now()`);
    // Only endpoint `default` existed before: what it has not received stays undelivered, the rest is done.
    await q.query(`
      UPDATE outbox_events o SET webhook_delivered_at = now() WHERE NOT EXISTS (
        SELECT 1 FROM webhook_deliveries d WHERE d.event_id = o.id AND d.endpoint_id = 'default' AND d.delivered_at IS NULL)`);
    await q.query(`
      UPDATE outbox_events o SET webhook_attempts = d.attempts, webhook_next_attempt_at = d.next_attempt_at
        FROM webhook_deliveries d WHERE d.event_id = o.id AND d.endpoint_id = 'default' AND d.delivered_at IS NULL`);
    await q.query('CREATE INDEX outbox_events_webhook_idx ON outbox_events (webhook_next_attempt_at) WHERE webhook_delivered_at IS NULL');
    await q.query('DROP TABLE webhook_deliveries');
  }
}
