import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { EmbeddedDatabase } from '../../src/database/embedded-postgres.js';

// Global setup runs outside Jest's module system, so it loads the build that `npm test` makes first.
const BUILT = '../../dist/src/database/embedded-postgres.js';
type EmbeddedModule = typeof import('../../src/database/embedded-postgres.js');
const BUILT_CERTS = '../../dist/src/sandbox/certs.js';
type CertsModule = typeof import('../../src/sandbox/certs.js');

declare global {
  var __TEST_EMBEDDED_PG__: EmbeddedDatabase | undefined;
}

/**
 * Tests always run on a real PostgreSQL: DATABASE_URL when set (CI points it at the machine's
 * server), otherwise an embedded one on its own port. Each test file then creates its own database
 * on that server (test/support/database.ts).
 */
export default async function globalSetup(): Promise<void> {
  let url = process.env.DATABASE_URL;
  if (!url) {
    const { startEmbeddedPostgres } = (await import(BUILT)) as EmbeddedModule;
    globalThis.__TEST_EMBEDDED_PG__ = await startEmbeddedPostgres({ dir: '.data/test-postgres', port: 54339, database: 'tpp_test' });
    url = globalThis.__TEST_EMBEDDED_PG__.url;
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  await client.end();
  process.env.TEST_DATABASE_URL = url;
  // One throwaway PKI for every test file (the bank world talks mutual TLS; see bank-world.ts).
  if (!process.env.TEST_CERTS_DIR) {
    const { generateSandboxCerts } = (await import(BUILT_CERTS)) as CertsModule;
    const dir = mkdtempSync(join(tmpdir(), 'tpp-test-certs-'));
    generateSandboxCerts(dir, { keyBits: 2048 });
    process.env.TEST_CERTS_DIR = dir;
  }
}
