import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/database/migrate.js';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';

/** The move from the outbox's webhook columns to webhook_deliveries keeps every event the single webhook still owed. */
describe('the webhook_deliveries migration', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('turns undelivered events into deliveries of endpoint default, attempts and schedule kept, and goes back down', async () => {
    await runMigrations(db.url);
    const dataSource = new DataSource(typeormOptions(db.url, 2));
    await dataSource.initialize();
    try {
      await dataSource.undoLastMigration({ transaction: 'each' });
    } finally {
      await dataSource.destroy();
    }
    await withClient(db.url, (c) =>
      c.query(`INSERT INTO outbox_events (user_id, type, payload, webhook_delivered_at, webhook_attempts, webhook_next_attempt_at) VALUES
        ('u', 'payment.status', '{"n":1}', now(), 1, now()),
        ('u', 'payment.status', '{"n":2}', NULL, 3, '2030-01-01T00:00:00Z')`),
    );

    expect(await runMigrations(db.url)).toEqual(['WebhookDeliveries1795330100000']);
    const rows = await withClient(
      db.url,
      async (c) =>
        (
          await c.query(
            'SELECT d.endpoint_id, o.payload, d.attempts, d.next_attempt_at, d.delivered_at FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id',
          )
        ).rows,
    );
    expect(rows).toEqual([{ endpoint_id: 'default', payload: { n: 2 }, attempts: 3, next_attempt_at: new Date('2030-01-01T00:00:00Z'), delivered_at: null }]);
    const columns = await withClient(
      db.url,
      async (c) =>
        (await c.query("SELECT column_name FROM information_schema.columns WHERE table_name = 'outbox_events' AND column_name LIKE 'webhook%'")).rows,
    );
    expect(columns).toEqual([]);
  });
});
