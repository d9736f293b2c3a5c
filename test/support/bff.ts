import { createServer, type AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { AppModule } from '../../src/app.module.js';
import { configureApp, createHttpAdapter } from '../../src/configure-app.js';
import { runMigrations } from '../../src/database/migrate.js';
import { recordResponses } from './contract.js';
import { createTestDatabase, type TestDatabase } from './database.js';

/** TEST_LOG=1 npm test … shows the app's logs, for debugging a failing test. */
const debugLogs = process.env.TEST_LOG === '1';

export interface TestBff {
  app: NestFastifyApplication;
  /** Base URL of the BFF on a real loopback port. */
  url: string;
  db: TestDatabase;
  close(): Promise<void>;
}

/**
 * The real BFF (same module, same pipeline as main.ts) on its own fresh database and a random
 * port. `env` is the whole environment the configuration sees; nothing is read from process.env.
 */
export async function startTestBff(env: Record<string, string> = {}, options: { db?: TestDatabase } = {}): Promise<TestBff> {
  const db = options.db ?? (await createTestDatabase());
  await runMigrations(db.url);
  // The port is chosen first so PUBLIC_URL (and so the banks' redirect URIs) point at this app.
  const port = await freePort();
  const app = await NestFactory.create<NestFastifyApplication>(
    // A test user makes far more requests than a person: the per-user limit (checked on every
    // request) stays out of the way unless a test sets its own.
    AppModule.forRoot({
      env: { NODE_ENV: 'test', LOG_LEVEL: debugLogs ? 'debug' : 'silent', PUBLIC_URL: `http://127.0.0.1:${port}`, RATE_LIMIT_PER_USER: '100000', ...env },
      databaseUrl: db.url,
    }),
    createHttpAdapter(),
    { bodyParser: false, logger: debugLogs ? undefined : false, abortOnError: false },
  );
  // First in the pipeline: every answer, problems from the earliest middleware included, is checked against the API contract.
  app.use(recordResponses(port));
  configureApp(app);
  await app.listen(port, '127.0.0.1');
  return {
    app,
    url: `http://127.0.0.1:${port}`,
    db,
    close: async () => {
      await app.close();
      if (!options.db) await db.drop();
    },
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
