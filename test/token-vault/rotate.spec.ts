import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { DataSource } from 'typeorm';
import type { VaultKey } from '../../src/config/vault.config.js';
import { runMigrations } from '../../src/database/migrate.js';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { ConnectionsStore, type StoredTokens } from '../../src/modules/connections/connections.store.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { tokenBinding } from '../../src/modules/connections/token-binding.js';
import { rotateVault } from '../../src/modules/connections/vault-rotation.js';
import { TokenVaultService, VaultError, type TokenField, type VaultBinding } from '../../src/modules/token-vault/token-vault.service.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { runBuilt } from '../support/process.js';
import { CANARY_ACCESS, CANARY_REFRESH, makeKey, sealV1 } from '../support/vault-keys.js';

const OLD = makeKey('k1');
const NEW = makeKey('k2');
const vaultOf = (...keys: VaultKey[]) => new TokenVaultService({ keys, currentKeyId: keys[0].id, isDevelopmentKey: false });
const oldVault = vaultOf(OLD);
const rotatingVault = vaultOf(NEW, OLD);
const newOnlyVault = vaultOf(NEW);

interface Seeded {
  id: string;
  access: string | null;
  refresh: string | null;
}

interface StoredRow {
  id: string;
  access_token_enc: string | null;
  refresh_token_enc: string | null;
}

let db: TestDatabase;

/** Every seeded row belongs to user-1 at Flowe. */
const binding = (connectionId: string, field: TokenField): VaultBinding => ({ connectionId, userId: 'user-1', aspspId: 'flowe', field });

/** Inserts active connections with tokens sealed by `vault` (or no tokens at all). */
async function seed(vault: TokenVaultService | null, count: number, options: { access?: boolean; tag?: string } = {}): Promise<Seeded[]> {
  const rows = Array.from({ length: count }, (_, i) => {
    const id = randomUUID();
    const tag = `${options.tag ?? 'row'}-${i}-${id.slice(0, 8)}`;
    const access = vault && options.access !== false ? `access-${tag}` : null;
    const refresh = vault ? `refresh-${tag}` : null;
    return {
      id,
      access,
      refresh,
      accessEnc: access && vault!.seal(access, binding(id, 'access_token')),
      refreshEnc: refresh && vault!.seal(refresh, binding(id, 'refresh_token')),
    };
  });
  await withClient(db.url, (c) =>
    c.query(
      `INSERT INTO connections (id, user_id, aspsp_id, services, status, return_url, access_token_enc, refresh_token_enc)
       SELECT id, 'user-1', 'flowe', ARRAY['ais'], 'active', 'http://localhost:3000/', a, r
         FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, a, r)`,
      [rows.map((r) => r.id), rows.map((r) => r.accessEnc), rows.map((r) => r.refreshEnc)],
    ),
  );
  return rows.map(({ id, access, refresh }) => ({ id, access, refresh }));
}

async function stored(): Promise<Map<string, StoredRow>> {
  const { rows } = await withClient(db.url, (c) => c.query<StoredRow>('SELECT id, access_token_enc, refresh_token_enc FROM connections'));
  return new Map(rows.map((r) => [r.id, r]));
}

/** How many times each row's token columns were written (counted by the trigger installed below). */
async function tokenWrites(): Promise<Map<string, number>> {
  const { rows } = await withClient(db.url, (c) =>
    c.query<{ id: string; n: number }>('SELECT connection_id AS id, count(*)::int AS n FROM token_writes GROUP BY 1'),
  );
  return new Map(rows.map((r) => [r.id, r.n]));
}

function openAll(vault: TokenVaultService, row: StoredRow): { access: string | null; refresh: string | null } {
  return {
    access: row.access_token_enc && vault.open(row.access_token_enc, binding(row.id, 'access_token')),
    refresh: row.refresh_token_enc && vault.open(row.refresh_token_enc, binding(row.id, 'refresh_token')),
  };
}

function recordingLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (message: unknown) => void warnings.push(String(message)) } };
}

async function withDataSource<T>(fn: (dataSource: DataSource) => Promise<T>): Promise<T> {
  const dataSource = new DataSource(typeormOptions(db.url, 3));
  await dataSource.initialize();
  try {
    return await fn(dataSource);
  } finally {
    await dataSource.destroy();
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.url);
  // Test-only audit: one line per write of a token column, and a short pause inside the row's
  // transaction so that concurrent runners really do meet locked rows.
  await withClient(db.url, async (c) => {
    await c.query('CREATE TABLE token_writes (connection_id uuid NOT NULL)');
    await c.query(`
      CREATE FUNCTION count_token_write() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.access_token_enc IS DISTINCT FROM OLD.access_token_enc OR NEW.refresh_token_enc IS DISTINCT FROM OLD.refresh_token_enc THEN
          INSERT INTO token_writes VALUES (NEW.id);
          PERFORM pg_sleep(0.002);
        END IF;
        RETURN NEW;
      END $$`);
    await c.query('CREATE TRIGGER count_token_write AFTER UPDATE ON connections FOR EACH ROW EXECUTE FUNCTION count_token_write()');
  });
});

afterAll(async () => {
  await db?.drop();
});

beforeEach(async () => {
  await withClient(db.url, (c) => c.query('TRUNCATE connections, token_writes CASCADE'));
});

describe('rotateVault on PostgreSQL', () => {
  it('rotates every old row exactly once with two runners at once, while the app keeps reading', async () => {
    const old = [...(await seed(oldVault, 150, { tag: 'old' })), ...(await seed(oldVault, 20, { tag: 'refresh-only', access: false }))];
    const current = await seed(rotatingVault, 15, { tag: 'current' });
    await seed(null, 10); // pending connections without tokens
    const before = await stored();
    const { warnings, logger } = recordingLogger();

    // An app replica with the new key set keeps opening tokens during the rotation.
    let rotating = true;
    let appReads = 0;
    const app = withDataSource(async (ds) => {
      while (rotating) {
        const rows: StoredRow[] = await ds.query('SELECT id, access_token_enc, refresh_token_enc FROM connections WHERE refresh_token_enc IS NOT NULL');
        for (const row of rows) openAll(rotatingVault, row);
        appReads++;
      }
    });
    const [a, b] = await Promise.all([
      withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { batchSize: 25, logger })),
      withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { batchSize: 7, logger })),
    ]).finally(() => (rotating = false));
    await app;

    const withTokens = old.length + current.length;
    expect(a.failed + b.failed).toBe(0);
    expect(a.rotated + b.rotated).toBe(old.length);
    expect(a.rotated).toBeGreaterThan(0);
    expect(b.rotated).toBeGreaterThan(0);
    // Each runner accounts for every row, including those the other one rotated.
    expect(a.rotated + a.alreadyCurrent).toBe(withTokens);
    expect(b.rotated + b.alreadyCurrent).toBe(withTokens);
    expect(warnings).toEqual([]);
    expect(appReads).toBeGreaterThan(0);

    const writes = await tokenWrites();
    expect(writes.size).toBe(old.length);
    expect(old.every((r) => writes.get(r.id) === 1)).toBe(true);

    const after = await stored();
    for (const row of current) expect(after.get(row.id)).toEqual(before.get(row.id));
    for (const row of [...old, ...current]) {
      const now = after.get(row.id)!;
      expect([now.access_token_enc, now.refresh_token_enc].filter((e) => e !== null).map((e) => rotatingVault.keyIdOf(e!))).toEqual(
        row.access ? ['k2', 'k2'] : ['k2'],
      );
      // After the old key is removed from the set, every token still opens.
      expect(openAll(newOnlyVault, now)).toEqual({ access: row.access, refresh: row.refresh });
    }

    await expect(withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { logger }))).resolves.toEqual({
      rotated: 0,
      alreadyCurrent: withTokens,
      failed: 0,
    });
  }, 60_000);

  it('counts rows that do not decrypt, logs only their ids, and carries on', async () => {
    const good = await seed(oldVault, 5, { tag: 'good' });
    const [flipped, copied, unknownKey, garbage, halfBroken] = await seed(oldVault, 5, { tag: 'broken' });
    const sealedElsewhere = oldVault.seal(CANARY_REFRESH, binding(good[0].id, 'refresh_token'));
    const orphanKey = vaultOf(makeKey('k0')).seal(CANARY_REFRESH, binding(unknownKey.id, 'refresh_token'));
    const original = await stored();
    const flip = (envelope: string) => envelope.slice(0, -3) + (envelope.at(-3) === 'A' ? 'B' : 'A') + envelope.slice(-2);
    await withClient(db.url, async (c) => {
      const set = (id: string, refresh: string) => c.query('UPDATE connections SET refresh_token_enc = $2 WHERE id = $1', [id, refresh]);
      await set(flipped.id, flip(original.get(flipped.id)!.refresh_token_enc!));
      await set(copied.id, sealedElsewhere);
      await set(unknownKey.id, orphanKey);
      await set(garbage.id, 'not-a-vault-envelope');
      // The refresh token moved into the access-token column: the refresh column alone would rotate.
      await c.query('UPDATE connections SET access_token_enc = refresh_token_enc WHERE id = $1', [halfBroken.id]);
      await c.query('TRUNCATE token_writes');
    });
    const broken = [flipped, copied, unknownKey, garbage, halfBroken];
    const before = await stored();
    const { warnings, logger } = recordingLogger();

    await expect(withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { batchSize: 3, logger }))).resolves.toEqual({
      rotated: 5,
      alreadyCurrent: 0,
      failed: 5,
    });

    const after = await stored();
    for (const row of broken) expect(after.get(row.id)).toEqual(before.get(row.id)); // untouched, not half-rotated
    for (const row of good) expect(openAll(newOnlyVault, after.get(row.id)!)).toEqual({ access: row.access, refresh: row.refresh });
    expect(warnings).toHaveLength(5);
    for (const row of broken) expect(warnings.filter((w) => w.includes(row.id))).toHaveLength(1);
    const logged = warnings.join('\n');
    for (const secret of [CANARY_REFRESH, ...broken.map((r) => r.refresh!), ...broken.map((r) => r.access!)]) expect(logged).not.toContain(secret);
    const ciphertexts = [...before.values()].flatMap((r) => [r.access_token_enc, r.refresh_token_enc]).map((e) => e!.split('.')[3] ?? e!);
    for (const ciphertext of ciphertexts) expect(logged).not.toContain(ciphertext);
    expect(logged).toMatch(/authentication_failed/);
    expect(logged).toMatch(/unknown_key/);
    expect(logged).toMatch(/malformed/);
  });

  it('comes back for rows the app holds locked, and reports those it could not get', async () => {
    const [busy, stuck, free] = await seed(oldVault, 3, { tag: 'locked' });
    const holder = new pg.Client({ connectionString: db.url });
    const sticky = new pg.Client({ connectionString: db.url });
    await Promise.all([holder.connect(), sticky.connect()]);
    try {
      // Like a token refresh in progress: the row is locked for a while, then released.
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM connections WHERE id = $1 FOR UPDATE', [busy.id]);
      await sticky.query('BEGIN');
      await sticky.query('SELECT 1 FROM connections WHERE id = $1 FOR UPDATE', [stuck.id]);
      const release = new Promise((done) => setTimeout(done, 300)).then(() => holder.query('COMMIT'));
      const { warnings, logger } = recordingLogger();

      const counts = await withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { lockTimeoutMs: 1_000, logger }));
      await release;

      expect(counts).toEqual({ rotated: 2, alreadyCurrent: 0, failed: 1 });
      expect(warnings).toEqual([expect.stringContaining(stuck.id)]);
      expect(warnings[0]).toMatch(/run vault:rotate again/);
      const after = await stored();
      expect(rotatingVault.keyIdOf(after.get(busy.id)!.refresh_token_enc!)).toBe('k2');
      expect(rotatingVault.keyIdOf(after.get(free.id)!.refresh_token_enc!)).toBe('k2');
      expect(rotatingVault.keyIdOf(after.get(stuck.id)!.refresh_token_enc!)).toBe('k1');
      expect(openAll(rotatingVault, after.get(stuck.id)!)).toEqual({ access: stuck.access, refresh: stuck.refresh });
    } finally {
      await sticky.query('ROLLBACK');
      await Promise.all([holder.end(), sticky.end()]);
    }
  });

  it('opens rows written before the user and the bank were bound (envelope v1), rewrites them as v2 under the same key, and then a row moved to another user no longer opens', async () => {
    const [legacy, moved] = await seed(null, 2);
    const v1 = { access: sealV1(NEW, CANARY_ACCESS, legacy.id, 'access_token'), refresh: sealV1(NEW, CANARY_REFRESH, legacy.id, 'refresh_token') };
    await withClient(db.url, (c) =>
      c.query('UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3 WHERE id = $1', [legacy.id, v1.access, v1.refresh]),
    );
    const current = rotatingVault.seal(CANARY_REFRESH, binding(moved.id, 'refresh_token'));
    await withClient(db.url, (c) => c.query('UPDATE connections SET refresh_token_enc = $2 WHERE id = $1', [moved.id, current]));
    expect(openAll(newOnlyVault, (await stored()).get(legacy.id)!)).toEqual({ access: CANARY_ACCESS, refresh: CANARY_REFRESH });
    expect(newOnlyVault.needsRotation(v1.refresh)).toBe(true);

    const counts = await withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), newOnlyVault, { logger: recordingLogger().logger }));
    expect(counts).toEqual({ rotated: 1, alreadyCurrent: 1, failed: 0 });
    const rotated = (await stored()).get(legacy.id)!;
    expect([rotated.access_token_enc, rotated.refresh_token_enc].map((e) => e!.slice(0, 6))).toEqual(['v2.k2.', 'v2.k2.']);
    expect(openAll(newOnlyVault, rotated)).toEqual({ access: CANARY_ACCESS, refresh: CANARY_REFRESH });

    // The rows' tokens are now bound to user-1 at Flowe: moved to another user or bank, they do not open.
    for (const change of ["user_id = 'user-2'", "aspsp_id = 'connectpay'"]) {
      await withClient(db.url, (c) => c.query(`UPDATE connections SET ${change} WHERE id = ANY($1)`, [[legacy.id, moved.id]]));
      const rows: StoredTokens[] = await withDataSource((ds) => new ConnectionsStore(ds, new OutboxStore(ds)).tokenPage(undefined, 10));
      for (const row of rows.filter((r) => [legacy.id, moved.id].includes(r.id))) {
        expect(() => newOnlyVault.open(row.refreshTokenEnc!, tokenBinding(row, 'refresh_token'))).toThrow(VaultError);
      }
      await withClient(db.url, (c) => c.query(`UPDATE connections SET user_id = 'user-1', aspsp_id = 'flowe' WHERE id = ANY($1)`, [[legacy.id, moved.id]]));
    }
  });

  it('leaves no plaintext token anywhere in the database (pg_dump-style scan)', async () => {
    const [row] = await seed(null, 1);
    const access = rotatingVault.seal(CANARY_ACCESS, binding(row.id, 'access_token'));
    const refresh = oldVault.seal(CANARY_REFRESH, binding(row.id, 'refresh_token'));
    await withClient(db.url, (c) => c.query('UPDATE connections SET access_token_enc = $2, refresh_token_enc = $3 WHERE id = $1', [row.id, access, refresh]));
    await withDataSource((ds) => rotateVault(new ConnectionsStore(ds, new OutboxStore(ds)), rotatingVault, { logger: recordingLogger().logger }));

    const dump = await withClient(db.url, async (c) => {
      const columns = await c.query<{ table_name: string; column_name: string }>(
        `SELECT table_name, column_name FROM information_schema.columns
          WHERE table_schema = 'public' AND data_type IN ('text', 'character varying', 'ARRAY', 'jsonb', 'json', 'bytea')`,
      );
      expect(columns.rows.map((r) => `${r.table_name}.${r.column_name}`)).toEqual(
        expect.arrayContaining(['connections.access_token_enc', 'connections.refresh_token_enc']),
      );
      const parts: string[] = [];
      for (const { table_name, column_name } of columns.rows) {
        const { rows } = await c.query<{ v: string | null }>(`SELECT ${c.escapeIdentifier(column_name)}::text AS v FROM ${c.escapeIdentifier(table_name)}`);
        parts.push(...rows.map((r) => r.v ?? ''));
      }
      const tables = await c.query<{ t: string }>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public'`);
      for (const { t } of tables.rows) {
        const { rows } = await c.query<{ v: string }>(`SELECT x::text AS v FROM ${c.escapeIdentifier(t)} x`);
        parts.push(...rows.map((r) => r.v));
      }
      return parts.join('\n');
    });
    expect(dump).toContain(row.id);
    for (const canary of [CANARY_ACCESS, CANARY_REFRESH]) {
      expect(dump).not.toContain(canary);
      expect(dump).not.toContain(Buffer.from(canary).toString('base64'));
      expect(dump).not.toContain(Buffer.from(canary).toString('base64url'));
      expect(dump).not.toContain(Buffer.from(canary).toString('hex'));
    }
  });
});

describe('npm run vault:rotate (built CLI)', () => {
  const CLI = 'dist/src/cli/vault-rotate.js';
  // A directory without a .env, so a developer's local file cannot change the run.
  const cwd = mkdtempSync(join(tmpdir(), 'tpp-vault-rotate-'));
  const keys = `${NEW.env},${OLD.env}`;

  it('rotates every row, prints the counts, and exits 0', async () => {
    const old = await seed(oldVault, 4, { tag: 'cli' });
    await seed(rotatingVault, 1, { tag: 'cli-current' });
    const run = runBuilt(CLI, { DATABASE_URL: db.url, APP_MODE: 'production', TOKEN_VAULT_KEYS: keys }, cwd);
    await expect(run.exited).resolves.toBe(0);
    expect(run.output()).toMatch(/key "k2": 4 rotated, 1 already current, 0 failed\./);
    for (const secret of [NEW.secret.toString('base64'), OLD.secret.toString('base64'), ...old.map((r) => r.refresh!)]) {
      expect(run.output()).not.toContain(secret);
    }
    const after = await stored();
    for (const row of old) expect(openAll(newOnlyVault, after.get(row.id)!)).toEqual({ access: row.access, refresh: row.refresh });
  });

  it('exits 1 when a row could not be rotated, naming only its id', async () => {
    await seed(oldVault, 2, { tag: 'cli' });
    const [bad] = await seed(null, 1);
    await withClient(db.url, (c) => c.query(`UPDATE connections SET refresh_token_enc = 'v1.k1.broken' WHERE id = $1`, [bad.id]));
    const run = runBuilt(CLI, { DATABASE_URL: db.url, TOKEN_VAULT_KEYS: keys }, cwd);
    await expect(run.exited).resolves.toBe(1);
    expect(run.output()).toMatch(/2 rotated, 0 already current, 1 failed\./);
    expect(run.output()).toContain(bad.id);
    expect(run.output()).not.toContain('v1.k1.broken');
  });

  it('refuses to run without keys in production mode, naming the variable', async () => {
    const run = runBuilt(CLI, { DATABASE_URL: db.url, APP_MODE: 'production' }, cwd);
    await expect(run.exited).resolves.toBe(1);
    expect(run.output().trim()).toBe('Configuration error: TOKEN_VAULT_KEYS must be set in production mode');
  });
});
