import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startChild, type Child } from './children.js';
import { freePort, waitUntilReady } from './http.js';
import { paths } from './paths.js';

export interface Server {
  child: Child;
  origin: string;
  /** Process start to first 2xx from its readiness URL. */
  readyMs: number;
}

export interface Bff extends Server {
  /** Sum of every series of a counter or gauge on /metrics. */
  metric(name: string): Promise<number>;
}

export interface Workspace {
  /** Temporary directory of this run: logs, request files, nginx prefix. */
  dir: string;
  sandboxOrigin?: string;
  databaseUrl: string;
  /** Identical on every BFF process so they can open each other's tokens. */
  vaultKeys: string;
}

export function newVaultKeys(): string {
  return `bench:${randomBytes(32).toString('base64')}`;
}

const base = () => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'production' });

/** The sandbox ASPSP from its own entry point (plain HTTP: no certificates in the run directory). */
export async function startSandbox(ws: Workspace): Promise<Server> {
  const port = await freePort();
  const child = startChild('sandbox', process.execPath, [paths.sandbox], {
    env: { ...base(), SANDBOX_PORT: String(port), SANDBOX_HOST: '127.0.0.1' },
    cwd: ws.dir,
    logFile: join(ws.dir, 'sandbox.log'),
  });
  const origin = `http://127.0.0.1:${port}`;
  return { child, origin, readyMs: await waitUntilReady(`${origin}/admin/clock`, child) };
}

export interface BffOptions {
  name: string;
  scheduler?: boolean;
  env?: Record<string, string>;
  /** Node flags, e.g. --cpu-prof. */
  nodeArgs?: string[];
}

/**
 * The BFF as production runs it (`node dist/src/main.js`) in sandbox mode, on its own port and the
 * benchmark's database, logging warnings only. Ready = /health/ready answers 200 (migrations done,
 * database reachable).
 */
export async function startBff(ws: Workspace, options: BffOptions): Promise<Bff> {
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const child = startChild(options.name, process.execPath, [...(options.nodeArgs ?? []), paths.bff], {
    env: {
      ...base(),
      APP_MODE: 'sandbox',
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: origin,
      DATABASE_URL: ws.databaseUrl,
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
      SANDBOX_URL: ws.sandboxOrigin ?? 'http://127.0.0.1:9',
      TOKEN_VAULT_KEYS: ws.vaultKeys,
      SCHEDULER_ENABLED: options.scheduler ? 'true' : 'false',
      // The load comes from a handful of users: keep the per-user limit's check (its cost is
      // measured) but never its 429s.
      RATE_LIMIT_PER_USER: '1000000',
      ...options.env,
    },
    cwd: ws.dir,
    logFile: join(ws.dir, `${options.name}.log`),
  });
  const readyMs = await waitUntilReady(`${origin}/health/ready`, child);
  return { child, origin, readyMs, metric: (name) => scrape(origin, name) };
}

/** The bare node:http anchor. */
export async function startBare(ws: Workspace): Promise<Server> {
  const port = await freePort();
  const child = startChild('bare node:http', process.execPath, [paths.bareServer], {
    env: { ...base(), PORT: String(port) },
    cwd: ws.dir,
    logFile: join(ws.dir, 'bare.log'),
  });
  const origin = `http://127.0.0.1:${port}`;
  return { child, origin, readyMs: await waitUntilReady(`${origin}/_bench/ready`, child) };
}

/**
 * A minimal Nest app on one HTTP adapter (bench/anchors/nest-adapter.ts) serving `bodyFile` on the
 * stored accounts route behind a bearer guard; started like the BFF (same node, no extra flags,
 * NODE_ENV=production).
 */
export async function startNestAdapter(ws: Workspace, adapter: 'express' | 'fastify', bodyFile: string, token: string): Promise<Server> {
  const port = await freePort();
  const child = startChild(`nest ${adapter}`, process.execPath, [paths.nestAdapter], {
    env: { ...base(), PORT: String(port), ADAPTER: adapter, BODY_FILE: bodyFile, BENCH_TOKEN: token },
    cwd: ws.dir,
    logFile: join(ws.dir, `nest-${adapter}.log`),
  });
  const origin = `http://127.0.0.1:${port}`;
  return { child, origin, readyMs: await waitUntilReady(`${origin}/_bench/ready`, child) };
}

/** Registers `body` on the bare server under `path`. */
export async function registerBody(bare: Server, path: string, body: string, type = 'application/json; charset=utf-8'): Promise<void> {
  const res = await fetch(`${bare.origin}/_bench/body?path=${encodeURIComponent(path)}`, { method: 'PUT', headers: { 'content-type': type }, body });
  if (res.status !== 204) throw new Error(`the bare anchor refused a body: ${res.status}`);
}

async function scrape(origin: string, name: string): Promise<number> {
  const text = await (await fetch(`${origin}/metrics`)).text();
  let total = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `)) total += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}
