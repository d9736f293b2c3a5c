import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adapterShareOfRead } from '../../bench/scenarios/http.js';
import { renderMarkdown } from '../../bench/lib/report.js';
import type { BenchResults, HttpScenarioResult, TargetResult } from '../../bench/lib/results.js';
import { runBuilt, stopProcess, waitFor, type RunningProcess } from '../support/process.js';

// The adapter scenario compares two Nest apps that must differ in their adapter only: both must
// guard the route, answer the same body and send the BFF's headers, or the comparison is unfair.

const TOKEN = 'bench-token';
const BODY = { accounts: [{ id: 'a1', iban: 'DE89370400440532013000', currency: 'EUR', name: 'Giro' }] };
const PATH = '/api/v1/consents/3b241101-e2bb-4255-8caf-4136c566a962/accounts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('bench anchor: a minimal Nest app per HTTP adapter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nest-adapter-'));
  const bodyFile = join(dir, 'body.json');
  writeFileSync(bodyFile, JSON.stringify(BODY));
  const apps = new Map<'express' | 'fastify', { run: RunningProcess; origin: string }>();

  beforeAll(async () => {
    for (const adapter of ['express', 'fastify'] as const) {
      const port = await freePort();
      const run = runBuilt('dist/bench/anchors/nest-adapter.js', {
        NODE_ENV: 'production',
        ADAPTER: adapter,
        PORT: String(port),
        BODY_FILE: bodyFile,
        BENCH_TOKEN: TOKEN,
      });
      const origin = `http://127.0.0.1:${port}`;
      apps.set(adapter, { run, origin });
      await waitFor(
        async () => (await fetch(`${origin}/_bench/ready`).catch(() => undefined))?.ok === true,
        20_000,
        `the ${adapter} app to listen (${run.output()})`,
      );
    }
  });

  afterAll(async () => {
    for (const { run } of apps.values()) await stopProcess(run);
    rmSync(dir, { recursive: true, force: true });
  });

  const get = (adapter: 'express' | 'fastify', path: string, headers: Record<string, string> = {}) => fetch(`${apps.get(adapter)!.origin}${path}`, { headers });

  it.each(['express', 'fastify'] as const)('%s: answers the registered body with the BFF middleware headers', async (adapter) => {
    const res = await get(adapter, PATH, { authorization: `Bearer ${TOKEN}` });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(BODY);
    expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it.each(['express', 'fastify'] as const)('%s: the guard refuses a missing or wrong bearer, the pipe a malformed id', async (adapter) => {
    expect((await get(adapter, PATH)).status).toBe(401);
    expect((await get(adapter, PATH, { authorization: `Bearer ${TOKEN}x` })).status).toBe(401);
    expect((await get(adapter, '/api/v1/consents/not-a-uuid/accounts', { authorization: `Bearer ${TOKEN}` })).status).toBe(400);
  });

  it('both adapters send the same headers, but for the ETag Express adds by default', async () => {
    const names = async (adapter: 'express' | 'fastify') => {
      const res = await get(adapter, PATH, { authorization: `Bearer ${TOKEN}` });
      await res.arrayBuffer();
      return [...res.headers.keys()].filter((h) => !['date', 'connection', 'keep-alive'].includes(h)).sort();
    };
    const express = await names('express');
    expect(express).toContain('etag');
    expect(await names('fastify')).toEqual(express.filter((h) => h !== 'etag'));
  });
});

describe('bench report: the adapter scenario', () => {
  const target = (id: string, label: string, cpuMsPerRequest: number, rps: number): TargetResult => ({
    id,
    label,
    primary: id === 'bare',
    rounds: [],
    rps,
    p50Ms: 1000 / rps,
    p99Ms: 4000 / rps,
    cpuMsPerRequest,
    errors: 0,
    bytesPerResponse: 444,
    machineBusy: 1,
  });
  const adapter: HttpScenarioResult = {
    id: 'adapter',
    title: 'HTTP adapter',
    request: 'GET …/accounts',
    bff: target('express', 'Nest + Express', 0.25, 4000),
    anchors: [target('fastify', 'Nest + Fastify', 0.1, 10000), target('bare', 'bare node:http, same body', 0.05, 20000)],
    comparisons: [{ label: 'Nest + Fastify ÷ Nest + Express', rps: 2.5, p50: 0.4, p99: 0.4, cpu: 0.4 }],
    checks: [],
    notes: [],
  };

  it("states the framework layer and what Express would add as shares of the BFF's stored read", () => {
    const accounts = { ...adapter, id: 'accounts', bff: target('bff', 'BFF stored accounts', 1, 1000), anchors: [], comparisons: undefined };
    const [note] = adapterShareOfRead(accounts, adapter);
    // Layer on Fastify: 0.10 − 0.05 = 0.05 ms of 1 ms; Express: 0.25 − 0.10 = 0.15 ms more.
    expect(note).toContain('is 0.050 ms/req, 5% of it');
    expect(note).toContain('Express would add 0.150 ms/req, 15%');
  });

  it('renders the comparisons under the HTTP table', () => {
    const results = {
      startedAt: new Date(0).toISOString(),
      durationSeconds: 1,
      commit: 'test',
      machine: { cpus: 2, model: 'cpu', loadAverageStart: [0, 0, 0], loadAverageEnd: [0, 0, 0], node: '20', postgres: '15', database: 'DATABASE_URL' },
      settings: { seconds: 1, rounds: 1, connections: 32, warmupSeconds: 1, consents: 1, sseStreams: 1, loadGenerator: 'wrk', nginx: 'none', logLevel: 'warn' },
      notes: [],
      http: [adapter],
      memory: [],
    } satisfies BenchResults;
    expect(renderMarkdown(results)).toContain('| HTTP adapter | Nest + Fastify ÷ Nest + Express | 2.50 | 0.40 | 0.40 | 0.40 |');
  });
});
