import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { databaseConfig } from '../config/index.js';
import { ConfigError } from '../config/define-config.js';
import { startEmbeddedPostgres } from '../database/embedded-postgres.js';
import { runMigrations } from '../database/migrate.js';
import { DatabaseUnreachableError, waitForDatabase } from '../database/wait-for-database.js';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL (or the embedded database). */
if (existsSync('.env')) process.loadEnvFile('.env');
let db: ReturnType<typeof databaseConfig.parse>;
try {
  db = databaseConfig.parse(process.env);
  if (db.url) await waitForDatabase(db.url, { timeoutMs: db.startupTimeoutMs, onRetry: (line) => console.error(line) });
} catch (error) {
  if (error instanceof ConfigError) console.error(error.problems.map((problem) => `Configuration error: ${problem}`).join('\n'));
  else if (error instanceof DatabaseUnreachableError) console.error(error.message);
  else throw error;
  process.exit(1);
}
const embedded = db.url ? undefined : await startEmbeddedPostgres(db.embedded);
try {
  const applied = await runMigrations(db.url ?? embedded!.url);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to migrate: the schema is up to date.');
} finally {
  await embedded?.stop();
}
