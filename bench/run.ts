import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import autocannon from 'autocannon';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import pg from 'pg';
import { AppModule } from '../src/app.module.js';
import { configureApp } from '../src/configure-app.js';
import { databaseConfig } from '../src/config/index.js';
import { startEmbeddedPostgres } from '../src/database/embedded-postgres.js';
import { runMigrations } from '../src/database/migrate.js';
import { TokenCipher } from '../src/modules/token-vault/token-cipher.js';

/**
 * `npm run bench`: throughput and memory of the BFF's hot paths, each reported as a ratio to an
 * anchor measured in the same process on the same machine (absolute numbers depend on the
 * machine; ratios say whether a path got slower relative to doing almost nothing).
 *
 * - HTTP: GET /health/live is the anchor (the whole pipeline, no work); against it an
 *   authenticated list of connections (JWT verification + one indexed query).
 * - Vault: sealing and opening a token against the anchor of drawing 12 random bytes.
 */
const DURATION_S = Number(process.env.BENCH_SECONDS ?? 5);

async function http(url: string, headers: Record<string, string> = {}) {
  const result = await autocannon({ url, connections: 20, duration: DURATION_S, headers });
  return { rps: result.requests.average, p99: result.latency.p99, errors: result.errors + result.non2xx };
}

function perSecond(fn: () => void, ms = 1000): number {
  const end = performance.now() + ms;
  let n = 0;
  while (performance.now() < end) {
    fn();
    n++;
  }
  return n / (ms / 1000);
}

async function main(): Promise<void> {
  const db = databaseConfig.parse(process.env);
  const embedded = db.url ? undefined : await startEmbeddedPostgres({ dir: '.data/bench-postgres', port: 54340, database: 'tpp_bench' });
  const server = db.url ?? embedded!.url;
  const name = `tpp_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  await runMigrations(url.toString());
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ env: { LOG_LEVEL: 'silent', SCHEDULER_ENABLED: 'false' }, databaseUrl: url.toString() }), {
    bodyParser: false,
    logger: false,
  });
  configureApp(app);
  await app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  try {
    const token = ((await (await fetch(`${base}/api/v1/sandbox/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"userId":"bench"}' })).json()) as { token: string }).token;
    const rssBefore = process.memoryUsage().rss;
    const anchor = await http(`${base}/health/live`);
    const list = await http(`${base}/api/v1/connections`, { authorization: `Bearer ${token}` });
    const rssAfter = process.memoryUsage().rss;

    const cipher = new TokenCipher([{ id: 'bench', secret: randomBytes(32) }]);
    const binding = { connectionId: '7b0c8c1e-2f1a-4c55-9a51-3b1f0d7e9a10', field: 'access_token' as const };
    const token64 = randomBytes(600).toString('base64url');
    const sealed = cipher.encrypt(token64, binding);
    const cryptoAnchor = perSecond(() => randomBytes(12));
    const seal = perSecond(() => cipher.encrypt(token64, binding));
    const open = perSecond(() => cipher.decrypt(sealed, binding));

    const rows = [
      ['GET /health/live (anchor)', anchor.rps, 1, anchor.p99, anchor.errors],
      ['GET /api/v1/connections', list.rps, list.rps / anchor.rps, list.p99, list.errors],
      ['randomBytes(12) (anchor)', cryptoAnchor, 1, '', ''],
      ['vault seal (600-byte token)', seal, seal / cryptoAnchor, '', ''],
      ['vault open', open, open / cryptoAnchor, '', ''],
    ];
    console.log(`\ntpp-bff benchmark (${DURATION_S}s per HTTP run, 20 connections)\n`);
    console.log('| path | ops/s | ratio to anchor | p99 ms | errors |\n|---|---|---|---|---|');
    for (const [path, ops, ratio, p99, errors] of rows) console.log(`| ${path} | ${Math.round(Number(ops))} | ${Number(ratio).toFixed(3)} | ${p99} | ${errors} |`);
    console.log(`\nRSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before the HTTP runs, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after (ratio ${(rssAfter / rssBefore).toFixed(2)})`);
  } finally {
    await app.close();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
    await embedded?.stop();
  }
}

await main();
