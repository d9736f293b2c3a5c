import { DataSource } from 'typeorm';
import { runMigrations } from '../../src/database/migrate.js';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { Connection } from '../../src/modules/connections/connection.entity.js';
import { ConnectionsStore } from '../../src/modules/connections/connections.store.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/** The store on a real PostgreSQL with the real migrations, built with `new`. */
describe('connections store: reads in plain SQL', () => {
  let db: TestDatabase;
  let ds: DataSource;
  let store: ConnectionsStore;

  beforeAll(async () => {
    db = await createTestDatabase();
    await runMigrations(db.url);
    ds = await new DataSource(typeormOptions(db.url, 2, [Connection])).initialize();
    store = new ConnectionsStore(ds, new OutboxStore(ds));
  });
  afterAll(async () => {
    await ds.destroy();
    await db.drop();
  });

  it('reads a connection, by id and as its user’s, in the shape of the Connection entity', async () => {
    const [{ id }] = await ds.query(
      `INSERT INTO connections (user_id, aspsp_id, services, status, return_url, failure_reason, access_token_enc, refresh_token_enc, access_token_expires_at,
         granted_scope, first_login_at, reauth_by, tokens_refreshed_at, expiry_warned_at, external_reference)
       VALUES ('alice', 'flowe', '{ais,pis}', 'active', 'http://localhost:3000/', 'x', 'a', 'r', now(), 's', now(), now() + interval '90 days', now(), now(), 'ref')
       RETURNING id`,
    );
    const entity = await ds.getRepository(Connection).findOneByOrFail({ id });
    expect(await store.findById(id)).toEqual(entity);
    expect(await store.findForUser('alice', id)).toEqual(entity);
    expect(entity.services).toEqual(['ais', 'pis']);
    expect(entity.reauthBy).toBeInstanceOf(Date);
  });

  it('finds no connection of another user, and none for an unknown id', async () => {
    const [{ id }] = await ds.query(
      "INSERT INTO connections (user_id, aspsp_id, services, status, return_url) VALUES ('alice', 'flowe', '{ais}', 'pending', 'http://localhost:3000/') RETURNING id",
    );
    await expect(store.findForUser('bob', id)).resolves.toBeUndefined();
    await expect(store.findById('00000000-0000-4000-8000-000000000000')).resolves.toBeUndefined();
    expect(await store.findForUser('alice', id)).toMatchObject({ id, status: 'pending', accessTokenEnc: null, externalReference: null });
  });
});
