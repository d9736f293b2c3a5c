import { DataSource } from 'typeorm';
import { typeormOptions } from './typeorm-options.js';

/** Any constant: the advisory lock that makes concurrent start-ups run migrations one at a time. */
const MIGRATION_LOCK = 73_112_001;

/**
 * Runs pending migrations under a Postgres advisory lock, so several replicas starting together
 * never race; a second run finds nothing to do. Returns the names of the migrations it applied.
 */
export async function runMigrations(url: string): Promise<string[]> {
  const dataSource = new DataSource({ ...typeormOptions(url, 2) });
  await dataSource.initialize();
  try {
    const runner = dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      const applied = await dataSource.runMigrations({ transaction: 'each' });
      return applied.map((m) => m.name);
    } finally {
      await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => undefined);
      await runner.release();
    }
  } finally {
    await dataSource.destroy();
  }
}
