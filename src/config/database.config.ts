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

  /**
   * The server cancels a statement running longer than this (SQLSTATE 57014). A request never
   * waits on the database much longer: a frozen or unreachable server is cut off by the client-side
   * DB_QUERY_TIMEOUT_MS below, which `statement_timeout` cannot do (a stopped server cancels nothing).
   */
  @Integer(100, 600_000)
  DB_STATEMENT_TIMEOUT_MS = 5000;

  /** Client-side: a query with no answer after this fails and its connection is closed. Default: the statement timeout + 500 ms. */
  @IsOptional()
  @Integer(100, 601_000)
  DB_QUERY_TIMEOUT_MS?: number;

  /** The server ends a session left idle inside a transaction this long (its locks go with it). */
  @Integer(1000, 3_600_000)
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 15_000;

  /** Opening a connection, or waiting for a free one in the pool, fails after this. */
  @Integer(100, 120_000)
  DB_CONNECT_TIMEOUT_MS = 3000;

  /** TCP keepalive on every connection: first probe after this many idle seconds (0 = off), so a dead peer is noticed. */
  @Integer(0, 7200)
  DB_TCP_KEEPALIVE_SECONDS = 30;
}

/** How long the BFF waits for PostgreSQL, in every way it can wait. */
export interface DatabaseLimits {
  statementTimeoutMs: number;
  queryTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  connectTimeoutMs: number;
  /** 0 = TCP keepalive off. */
  keepAliveMs: number;
}

export interface DatabaseConfig {
  url?: string;
  embedded: { port: number; dir: string };
  poolMax: number;
  migrationsRun: boolean;
  startupTimeoutMs: number;
  limits: DatabaseLimits;
}

export const databaseConfig = defineConfig('database', (env, problems): DatabaseConfig => {
  const raw = validateEnv(DatabaseEnv, pickEnv(env, Object.keys(new DatabaseEnv())), problems);
  const url = valueOrFile(raw.DATABASE_URL, raw.DATABASE_URL_FILE, 'DATABASE_URL', problems);
  if (raw.DATABASE_URL_FILE && url !== undefined && !POSTGRES_URL.test(url)) problems.add('DATABASE_URL_FILE must hold a postgres:// URL', 'DATABASE_URL_FILE');
  const queryTimeoutMs = raw.DB_QUERY_TIMEOUT_MS ?? raw.DB_STATEMENT_TIMEOUT_MS + 500;
  // Below the statement timeout the client would give up on statements the server is still
  // allowed to finish, and close a healthy connection for it.
  if (!problems.isInvalid('DB_QUERY_TIMEOUT_MS') && !problems.isInvalid('DB_STATEMENT_TIMEOUT_MS') && queryTimeoutMs < raw.DB_STATEMENT_TIMEOUT_MS) {
    problems.add('DB_QUERY_TIMEOUT_MS must not be below DB_STATEMENT_TIMEOUT_MS', 'DB_QUERY_TIMEOUT_MS');
  }
  problems.throwIfAny();
  return {
    url,
    embedded: { port: raw.EMBEDDED_PG_PORT, dir: raw.EMBEDDED_PG_DIR },
    poolMax: raw.DB_POOL_MAX,
    migrationsRun: raw.DB_MIGRATIONS_RUN,
    startupTimeoutMs: raw.DATABASE_STARTUP_TIMEOUT_SECONDS * 1000,
    limits: {
      statementTimeoutMs: raw.DB_STATEMENT_TIMEOUT_MS,
      queryTimeoutMs,
      idleInTransactionTimeoutMs: raw.DB_IDLE_IN_TRANSACTION_TIMEOUT_MS,
      connectTimeoutMs: raw.DB_CONNECT_TIMEOUT_MS,
      keepAliveMs: raw.DB_TCP_KEEPALIVE_SECONDS * 1000,
    },
  };
});
