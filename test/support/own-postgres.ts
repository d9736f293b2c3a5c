import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../src/database/embedded-postgres.js';
import { freePort } from './bff.js';
import type { TestDatabase } from './database.js';

/**
 * A PostgreSQL server of the test's own (embedded-postgres, a fresh data directory, a free loopback
 * port), for tests that freeze, stop or restart the database. The machine's shared server is never
 * touched: every signal goes to this server's own processes, found by PID.
 */
export interface OwnPostgres {
  url: string;
  /** The server's database as `startTestBff` takes it (dropped with the server). */
  db: TestDatabase;
  /** SIGSTOP the postmaster and every backend: the server accepts TCP connections but answers nothing. */
  freeze(): void;
  /** SIGCONT what freeze() stopped. */
  thaw(): void;
  /** A clean shutdown (clients see their connections end and new ones refused). */
  stop(): Promise<void>;
  /** Starts it again on the same port and data. */
  start(): Promise<void>;
  /** Stops it for good and removes its data. */
  destroy(): Promise<void>;
}

export async function startOwnPostgres(): Promise<OwnPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'tpp-own-pg-'));
  const port = await freePort();
  let server: EmbeddedDatabase | undefined = await startEmbeddedPostgres({ dir, port, database: 'tpp_own' });
  const url = server.url;
  let frozen: number[] = [];
  const own = {
    url,
    db: { url, name: 'tpp_own', drop: async () => undefined },
    freeze() {
      const postmaster = Number(readFileSync(join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      // The postmaster first, so it starts no new backend meanwhile.
      frozen = [postmaster, ...childrenOf(postmaster)];
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thaw() {
      for (const pid of frozen.reverse()) {
        try {
          process.kill(pid, 'SIGCONT');
        } catch {
          // a backend that ended while stopped (its client went away)
        }
      }
      frozen = [];
    },
    async stop() {
      own.thaw();
      await server?.stop();
      server = undefined;
    },
    async start() {
      server ??= await startEmbeddedPostgres({ dir, port, database: 'tpp_own' });
    },
    async destroy() {
      await own.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return own;
}

/** Direct children of a process (the server's backends and auxiliary processes), from /proc. */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // "pid (comm) state ppid …": comm may hold spaces, so read after its closing parenthesis.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) children.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return children;
}
