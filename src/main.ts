import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from 'pino';
import { AppModule } from './app.module.js';
import { createLogger, resolveLogFormat } from './common/logging/log-format.js';
import { configureApp, createHttpAdapter } from './configure-app.js';
import { appConfig, databaseConfig, opsConfig, validateConfiguration, type Env } from './config/index.js';
import { ConfigError } from './config/define-config.js';
import { startEmbeddedPostgres, type EmbeddedDatabase } from './database/embedded-postgres.js';
import { runMigrations } from './database/migrate.js';
import { DatabaseUnreachableError, waitForDatabase } from './database/wait-for-database.js';

export interface RunningBff {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts the BFF: validate configuration (exit 1 listing every problem), resolve the database
 * (DATABASE_URL, waited for within DATABASE_STARTUP_TIMEOUT_SECONDS, or an embedded PostgreSQL),
 * migrate, serve, and shut down gracefully on SIGTERM or SIGINT: stop accepting, drain in-flight
 * requests, close the pool, stop embedded Postgres.
 */
export async function bootstrap(env: Env = loadEnv()): Promise<RunningBff> {
  exitOnConfigurationProblems(env);
  const app = appConfig.parse(env);
  const db = databaseConfig.parse(env);
  const log = createLogger('tpp-bff', app.logLevel, resolveLogFormat(app.logFormat));

  let embedded: EmbeddedDatabase | undefined;
  let databaseUrl = db.url;
  if (databaseUrl) {
    await waitForDatabaseOrExit(databaseUrl, db.startupTimeoutMs, log);
  } else {
    log.info({ port: db.embedded.port, dir: db.embedded.dir }, 'DATABASE_URL is not set: starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres(db.embedded);
    databaseUrl = embedded.url;
    log.info({ port: db.embedded.port }, 'embedded PostgreSQL is running');
  }

  const applied = await runMigrations(databaseUrl);
  log.info({ applied }, applied.length ? 'migrations applied' : 'database schema is up to date');

  const nest = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot({ env, databaseUrl }), createHttpAdapter(), {
    bufferLogs: true,
    bodyParser: false,
  });
  configureApp(nest);
  try {
    await nest.listen(app.port, app.host);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== 'EADDRINUSE' && code !== 'EACCES') throw error;
    log.fatal(`PORT ${app.port} on HOST ${app.host} ${code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user'} (${code})`);
    await nest.close();
    await embedded?.stop();
    process.exit(1);
  }
  const url = `http://localhost:${app.port}`;
  log.info({ url, mode: app.mode, ...opsWhere(opsConfig.parse(env), url) }, 'tpp-bff is listening');

  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      log.info('shutting down: draining requests');
      await nest.close();
      if (embedded) await embedded.stop().catch((error: unknown) => log.warn({ err: error }, 'embedded PostgreSQL did not stop cleanly'));
      log.info('stopped');
    })());
  return { url, stop };
}

/**
 * Validates every variable and, if any is wrong, prints every problem on its own line (naming the
 * variable and what is expected, never the value) and exits 1: one run shows all there is to fix.
 */
export function exitOnConfigurationProblems(env: Env): void {
  try {
    validateConfiguration(env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(error.problems.map((problem) => `Configuration error: ${problem}\n`).join(''));
    process.exit(1);
  }
}

async function waitForDatabaseOrExit(url: string, timeoutMs: number, log: Logger): Promise<void> {
  try {
    await waitForDatabase(url, { timeoutMs, onRetry: (line) => log.warn(line) });
  } catch (error) {
    if (!(error instanceof DatabaseUnreachableError)) throw error;
    log.fatal(error.message);
    process.exit(1);
  }
}

/** Where an operator finds the API docs and metrics (never public in production mode). */
function opsWhere(ops: ReturnType<typeof opsConfig.parse>, url: string): Record<string, string> {
  if (ops.mainPort === 'open') return { docs: `${url}/docs` };
  if (ops.listener) return { ops: `http://${ops.listener.host}:${ops.listener.port} (metrics, docs)` };
  return { ops: ops.mainPort === 'token' ? 'main port, Authorization: Bearer <OPS_TOKEN>' : 'off: set OPS_PORT or OPS_TOKEN to serve metrics and docs' };
}

function loadEnv(): Env {
  // A local .env file is a convenience for development; real environments set variables.
  if (existsSync('.env')) process.loadEnvFile('.env');
  return process.env;
}

/** True when this file is the process entry point (not imported by the launcher or a test). */
const isEntry = import.meta.url === `file://${process.argv[1]}`;
if (isEntry) {
  const running = await bootstrap();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      running.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
