import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The transactional outbox (status changes for the frontend: SSE and webhooks) and the poll queue
 * (consents and payments the scheduler still has to ask the bank about).
 */
export class OutboxAndPolling1795300100000 implements MigrationInterface {
  name = 'OutboxAndPolling1795300100000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE outbox_events (
        id bigserial PRIMARY KEY,
        user_id text NOT NULL,
        type text NOT NULL,
        payload jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        webhook_delivered_at timestamptz,
        webhook_attempts integer NOT NULL DEFAULT 0,
        webhook_next_attempt_at timestamptz NOT NULL DEFAULT now()
      )`);
    await q.query('CREATE INDEX outbox_events_user_idx ON outbox_events (user_id, id)');
    await q.query('CREATE INDEX outbox_events_webhook_idx ON outbox_events (webhook_next_attempt_at) WHERE webhook_delivered_at IS NULL');
    await q.query(`
      CREATE TABLE poll_items (
        kind text NOT NULL,
        resource_id uuid NOT NULL,
        aspsp_id text NOT NULL,
        next_poll_at timestamptz NOT NULL,
        lease_until timestamptz,
        leased_by text,
        attempts integer NOT NULL DEFAULT 0,
        started_at timestamptz NOT NULL DEFAULT now(),
        deadline_at timestamptz,
        last_polled_at timestamptz,
        last_outcome text,
        PRIMARY KEY (kind, resource_id)
      )`);
    await q.query('CREATE INDEX poll_items_due_idx ON poll_items (next_poll_at)');
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE poll_items');
    await q.query('DROP TABLE outbox_events');
  }
}
