import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { databaseConfig } from '../config/index.js';
import { startEmbeddedPostgres } from '../database/embedded-postgres.js';
import { runMigrations } from '../database/migrate.js';

/** `npm run migration:run`: applies pending migrations to DATABASE_URL (or the embedded database). */
if (existsSync('.env')) process.loadEnvFile('.env');
const db = databaseConfig.parse(process.env);
const embedded = db.url ? undefined : await startEmbeddedPostgres(db.embedded);
try {
  const applied = await runMigrations(db.url ?? embedded!.url);
  console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Nothing to migrate: the schema is up to date.');
} finally {
  await embedded?.stop();
}
