import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/database/embedded-postgres.js';
import { onCleanup } from './children.js';
import { freePort } from './http.js';
import { runMigrations } from '../../src/database/migrate.js';

export interface BenchDatabase {
  /** Another fresh, migrated database on the same server (dropped at clean-up), for a test that needs a table to itself. */
  scratch(): Promise<string>;
  /** The benchmark's own database, created for this run and dropped at the end. */
  url: string;
  /** `DATABASE_URL`, or the embedded server. */
  server: 'DATABASE_URL' | 'embedded';
  version: string;
  pool: pg.Pool;
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Autovacuum may be off: blocks that rewrite many rows call this so the next block sees fresh statistics and no bloat. */
  vacuum(...tables: string[]): Promise<void>;
}

/**
 * A fresh database for this run: on `DATABASE_URL`'s server when set, otherwise on an embedded
 * PostgreSQL kept in `.data/bench-postgres` (initialised once, like the tests' one). Dropped, and
 * the embedded server stopped, at clean-up.
 */
export async function createBenchDatabase(databaseUrl: string | undefined): Promise<BenchDatabase> {
  let serverUrl = databaseUrl;
  if (!serverUrl) {
    const embedded = await startEmbeddedPostgres({ dir: '.data/bench-postgres', port: await freePort(), database: 'tpp_bench' });
    onCleanup('stop embedded PostgreSQL', () => embedded.stop());
    serverUrl = embedded.url;
    // The embedded server is the benchmark's alone: databases an interrupted run could not drop go now.
    await admin(serverUrl, async (c) => {
      const { rows } = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'tpp\\_bench\\_%'");
      for (const { datname } of rows) await c.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`);
    });
  }
  const create = async () => {
    const name = `tpp_bench_${randomBytes(5).toString('hex')}`;
    await admin(serverUrl, (c) => c.query(`CREATE DATABASE ${name}`));
    onCleanup(`drop database ${name}`, () => admin(serverUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined));
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    return url;
  };
  const url = await create();
  const pool = new pg.Pool({ connectionString: url.toString(), max: 4, application_name: 'tpp-bench' });
  onCleanup('close the benchmark pool', () => pool.end());
  const query = async <T>(sql: string, params: unknown[] = []) => (await pool.query(sql, params)).rows as T[];
  const [{ server_version: version }] = await query<{ server_version: string }>('SHOW server_version');
  return {
    scratch: async () => {
      const scratch = (await create()).toString();
      await runMigrations(scratch);
      return scratch;
    },
    url: url.toString(),
    server: databaseUrl ? 'DATABASE_URL' : 'embedded',
    version,
    pool,
    query,
    vacuum: async (...tables) => {
      await pool.query(`VACUUM (ANALYZE) ${tables.join(', ')}`);
    },
  };
}

async function admin<T>(serverUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
