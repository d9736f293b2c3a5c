import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { PRODUCTION_ENV } from '../support/env.js';
import { signingKey } from './support.js';

const me = (bff: TestBff, token: string) => fetch(`${bff.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });

/** Sandbox mode: the demo login's signing key lives in the database, so replicas and restarts share it. */
describe('sandbox-mode sessions across replicas and restarts', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('a token from one replica works on the other, and on a restarted one', async () => {
    // Two replicas start at the same moment on one database: one key wins, both use it.
    const [a, b] = await Promise.all([startTestBff({}, { db }), startTestBff({}, { db })]);
    let restarted: TestBff | undefined;
    let closed = false;
    try {
      const fromA = await sandboxLogin(a.url, 'alice');
      const fromB = await sandboxLogin(b.url, 'bob');
      expect(await (await me(b, fromA)).json()).toEqual({ id: 'alice' });
      expect(await (await me(a, fromB)).json()).toEqual({ id: 'bob' });

      await a.close();
      await b.close();
      closed = true;
      restarted = await startTestBff({}, { db });
      expect((await me(restarted, fromA)).status).toBe(200);
      expect((await me(restarted, fromB)).status).toBe(200);
      const keys = await withClient(db.url, async (c) => (await c.query('SELECT name FROM identity_signing_keys')).rows);
      expect(keys).toEqual([{ name: 'sandbox-demo-login' }]);
    } finally {
      if (!closed) await Promise.all([a.close(), b.close()]);
      await restarted?.close();
    }
  });

  it('production mode neither makes nor accepts the demo key', async () => {
    const other = await createTestDatabase();
    const demo = await startTestBff({}, { db: other });
    const token = await sandboxLogin(demo.url, 'alice');
    await demo.close();
    const production = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: (await signingKey('ES256')).publicPem }, { db: other });
    try {
      expect((await me(production, token)).status).toBe(401);
    } finally {
      await production.close();
      await other.drop();
    }
    const fresh = await createTestDatabase();
    const prod = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: (await signingKey('ES256')).publicPem }, { db: fresh });
    try {
      expect(await withClient(fresh.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM identity_signing_keys')).rows[0].n)).toBe(0);
    } finally {
      await prod.close();
      await fresh.drop();
    }
  });
});
