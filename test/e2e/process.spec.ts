import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../support/bff.js';
import { createTestDatabase } from '../support/database.js';
import { isUp, runBuilt, stopProcess, waitFor } from '../support/process.js';

// These run the built service (`npm test` builds first) exactly as `npm start` does. Ports are
// chosen free at run time: other test runs on the same machine may be using any fixed one.
const MAIN = 'dist/src/main.js';

function postgresProcessesFor(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('the service as a process', () => {
  it('exits 1 with one line naming a bad variable', async () => {
    const run = runBuilt(MAIN, { PORT: 'abc' });
    const exited = await Promise.race([run.exited, new Promise<'running'>((done) => setTimeout(() => done('running'), 20_000).unref())]);
    await stopProcess(run);
    expect(exited).toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^Configuration error: PORT /);
  });

  // Two boots, each allowed 30 s to become ready on a busy machine.
  it('runs on DATABASE_URL, migrates idempotently, and drains on SIGTERM', async () => {
    const db = await createTestDatabase();
    try {
      const port = await freePort();
      const env = { DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1' };
      for (const expected of [/migrations applied|schema is up to date/, /schema is up to date/]) {
        const run = runBuilt(MAIN, env);
        try {
          await waitFor(() => isUp(`http://127.0.0.1:${port}/health/ready`), 30_000, 'readiness');
          expect(run.output()).toMatch(expected);
          run.child.kill('SIGTERM');
          await expect(run.exited).resolves.toBe(0);
          expect(run.output()).toContain('"msg":"stopped"');
        } finally {
          await stopProcess(run);
        }
      }
    } finally {
      await db.drop();
    }
  }, 90_000);

  it('starts an embedded PostgreSQL without DATABASE_URL and leaves no postgres behind on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-embedded-'));
    const [port, pgPort] = [await freePort(), await freePort()];
    const run = runBuilt(MAIN, { PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_DIR: dir, EMBEDDED_PG_PORT: String(pgPort) });
    try {
      await waitFor(() => isUp(`http://127.0.0.1:${port}/health/ready`), 60_000, 'readiness on embedded PostgreSQL');
      expect(run.output()).toContain('DATABASE_URL is not set: starting embedded PostgreSQL');
      expect(postgresProcessesFor(dir).length).toBeGreaterThan(0);
    } finally {
      run.child.kill('SIGINT');
    }
    await expect(run.exited).resolves.toBe(0);
    await waitFor(() => postgresProcessesFor(dir).length === 0, 10_000, 'postgres to stop');
    expect(postgresProcessesFor(dir)).toEqual([]);
  }, 90_000);
});
