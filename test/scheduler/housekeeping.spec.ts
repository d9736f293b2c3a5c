import { randomBytes } from 'node:crypto';
import { Housekeeping } from '../../src/modules/scheduler/housekeeping.service.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';

async function seed(bff: TestBff): Promise<void> {
  await withClient(bff.db.url, async (c) => {
    const { rows } = await c.query(
      `INSERT INTO connections (user_id, aspsp_id, services, status, return_url) VALUES ('u', 'flowe', '{ais}', 'pending', 'http://x/') RETURNING id`,
    );
    const id = rows[0].id as string;
    await c.query(
      `INSERT INTO login_tickets (ticket_hash, connection_id, expires_at) VALUES ($1, $2, now() - interval '1 minute'), ($3, $2, now() + interval '5 minutes')`,
      [randomBytes(32), id, randomBytes(32)],
    );
    await c.query(
      `INSERT INTO oauth_states (state_hash, connection_id, aspsp_id, binding_hash, expires_at) VALUES ($1, $2, 'flowe', $3, now() - interval '2 hours'), ($4, $2, 'flowe', $3, now() + interval '5 minutes')`,
      [randomBytes(32), id, randomBytes(32), randomBytes(32)],
    );
    // Old and delivered, old and pending for the configured endpoint, old and pending only for an endpoint no longer configured, recent.
    const events = await c.query(`INSERT INTO outbox_events (user_id, type, payload, created_at) VALUES
      ('u', 'payment.status', '{}', now() - interval '8 days'),
      ('u', 'payment.status', '{}', now() - interval '8 days'),
      ('u', 'payment.status', '{}', now() - interval '8 days'),
      ('u', 'payment.status', '{}', now() - interval '1 day') RETURNING id`);
    const [delivered, pending, orphaned, recent] = events.rows.map((r: { id: string }) => r.id);
    await c.query(
      `INSERT INTO webhook_deliveries (endpoint_id, event_id, delivered_at) VALUES
        ('default', $1, now() - interval '8 days'), ('default', $2, NULL), ('retired', $3, NULL), ('default', $4, NULL)`,
      [delivered, pending, orphaned, recent],
    );
  });
}

async function counts(bff: TestBff) {
  return withClient(bff.db.url, async (c) => ({
    tickets: (await c.query('SELECT count(*)::int AS n FROM login_tickets')).rows[0].n,
    states: (await c.query('SELECT count(*)::int AS n FROM oauth_states')).rows[0].n,
    outbox: (await c.query('SELECT count(*)::int AS n FROM outbox_events')).rows[0].n,
    deliveries: (await c.query('SELECT count(*)::int AS n FROM webhook_deliveries')).rows[0].n,
  }));
}

describe('housekeeping', () => {
  it('drops expired tickets and states and week-old events, keeping what a webhook still has to receive', async () => {
    const streamed = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    const webhooked = await startTestBff({ SCHEDULER_ENABLED: 'false', WEBHOOK_URL: 'http://127.0.0.1:9/hook', WEBHOOK_SECRET: 'x'.repeat(40) });
    try {
      await seed(streamed);
      await expect(streamed.app.get(Housekeeping).run()).resolves.toEqual({ outboxDeleted: 3 });
      expect(await counts(streamed)).toEqual({ tickets: 1, states: 1, outbox: 1, deliveries: 1 });

      await seed(webhooked);
      await expect(webhooked.app.get(Housekeeping).run()).resolves.toEqual({ outboxDeleted: 2 });
      // The old event the configured endpoint still waits for is kept; the deleted events' delivery rows went with them.
      expect(await counts(webhooked)).toEqual({ tickets: 1, states: 1, outbox: 2, deliveries: 2 });
    } finally {
      await streamed.close();
      await webhooked.close();
    }
  });
});
