import { IsOptional, IsString } from 'class-validator';
import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { valueOrFile } from './files.js';
import { Flag, Integer, Pattern } from './rules.js';

const POSTGRES_URL = /^postgres(ql)?:\/\/\S+$/;

class DatabaseEnv {
  @IsOptional()
  @Pattern(POSTGRES_URL, 'must be a postgres:// URL')
  DATABASE_URL?: string;

  /** The same URL from a mounted secret file (it carries the database password). */
  @IsOptional()
  @IsString()
  DATABASE_URL_FILE?: string;

  /** Embedded PostgreSQL (used when DATABASE_URL is unset) never takes 5432, where a system one may listen. */
  @Integer(1024, 65535)
  EMBEDDED_PG_PORT = 54329;

  @IsString()
  EMBEDDED_PG_DIR = '.data/postgres';

  @Integer(1, 200)
  DB_POOL_MAX = 10;

  @Flag()
  DB_MIGRATIONS_RUN = true;

  /**
   * How long start-up keeps trying to reach DATABASE_URL (with backoff) before it exits 1: a
   * database started alongside the service (compose, a restarted host) may take a while to answer.
   */
  @Integer(0, 3600)
  DATABASE_STARTUP_TIMEOUT_SECONDS = 30;
}

export interface DatabaseConfig {
  url?: string;
  embedded: { port: number; dir: string };
  poolMax: number;
  migrationsRun: boolean;
  startupTimeoutMs: number;
}

export const databaseConfig = defineConfig('database', (env, problems): DatabaseConfig => {
  const raw = validateEnv(DatabaseEnv, pickEnv(env, Object.keys(new DatabaseEnv())), problems);
  const url = valueOrFile(raw.DATABASE_URL, raw.DATABASE_URL_FILE, 'DATABASE_URL', problems);
  if (raw.DATABASE_URL_FILE && url !== undefined && !POSTGRES_URL.test(url)) problems.add('DATABASE_URL_FILE must hold a postgres:// URL', 'DATABASE_URL_FILE');
  problems.throwIfAny();
  return {
    url,
    embedded: { port: raw.EMBEDDED_PG_PORT, dir: raw.EMBEDDED_PG_DIR },
    poolMax: raw.DB_POOL_MAX,
    migrationsRun: raw.DB_MIGRATIONS_RUN,
    startupTimeoutMs: raw.DATABASE_STARTUP_TIMEOUT_SECONDS * 1000,
  };
});
