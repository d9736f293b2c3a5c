import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { busyShare, groupCpuMs, machineCpu, stopChild, type Child } from '../lib/children.js';
import type { Context } from '../lib/context.js';
import { sleep } from '../lib/http.js';
import { runLoad, type LoadRequest, type LoadResult } from '../lib/load.js';
import type { Comparison, HttpScenarioResult, Round, TargetResult } from '../lib/results.js';
import { registerBody, startNestAdapter, type Bff } from '../lib/servers.js';
import {
  accountsPath,
  bankAccountsRequest,
  bankPaymentRequest,
  bankPaymentsCreated,
  bearer,
  PAYMENT_REQUEST,
  paymentsPath,
  transactionsPath,
  TRANSACTIONS_PAGE,
} from '../lib/world.js';

/** One thing put under load: the BFF's route or an anchor. */
interface Target {
  id: string;
  label: string;
  origin: string;
  requests: LoadRequest[];
  /** The process whose CPU is this target's cost (nginx: the proxy alone, as the BFF is counted without the bank). */
  serves: Child;
  /** Set on the BFF: its db_queries_total is read around each round. */
  bff?: Bff;
  primary?: boolean;
  countStatuses?: boolean;
  /** Around each round (payments: what the bank and the database say). */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
}

interface Scenario {
  id: string;
  title: string;
  request: string;
  bff: Target;
  anchors: Target[];
  notes: string[];
  checks: (bff: TargetResult, primary: TargetResult | undefined) => HttpScenarioResult['checks'];
  /** Verified after the rounds (payments: bank count = created count). */
  verify?: () => Promise<{ check?: HttpScenarioResult['checks'][number]; notes: string[] }>;
  /** Servers this scenario started for itself: their CPU is read like the run's, and they are stopped after it. */
  processes?: { label: string; child: Child }[];
  /** Pairs of target ids [of, to] reported as of ÷ to (adapter: Fastify ÷ Express). */
  compare?: [string, string][];
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

/** Queries the scrape itself causes (the due-items gauge reads the database), measured on an idle BFF. */
async function scrapeOverhead(bff: Bff): Promise<number> {
  const counts: number[] = [];
  for (let i = 0; i < 4; i++) counts.push(await bff.metric('db_queries_total'));
  const deltas = counts
    .slice(1)
    .map((c, i) => c - counts[i]!)
    .sort((a, b) => a - b);
  return deltas[1]!;
}

const overheads = new WeakMap<Bff, number>();

export async function runHttpScenario(ctx: Context, scenario: Scenario): Promise<HttpScenarioResult> {
  try {
    return await measure(ctx, scenario);
  } finally {
    for (const p of scenario.processes ?? []) await stopChild(p.child);
  }
}

async function measure(ctx: Context, scenario: Scenario): Promise<HttpScenarioResult> {
  const { options } = ctx;
  const targets = [scenario.bff, ...scenario.anchors];
  const processes = [...ctx.servers(), ...(scenario.processes ?? [])];
  const rounds = new Map<string, Round[]>(targets.map((t) => [t.id, []]));
  if (!overheads.has(ctx.bff)) overheads.set(ctx.bff, await scrapeOverhead(ctx.bff));

  for (const target of targets) {
    ctx.log(`  warm-up ${target.label}`);
    await runLoad(
      {
        origin: target.origin,
        requests: target.requests,
        seconds: options.warmupSeconds,
        connections: options.connections,
        runId: `warm-${scenario.id}-${target.id}-`,
      },
      ctx.ws.dir,
    );
  }
  for (let round = 0; round < options.rounds; round++) {
    // Alternate the order so drift on a shared machine (others' test runs) hits both sides alike.
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      await target.before?.();
      const cpuBefore = processes.map((p) => groupCpuMs(p.child));
      const machineBefore = machineCpu();
      const queriesBefore = target.bff ? await target.bff.metric('db_queries_total') : 0;
      const started = performance.now();
      const load = await runLoad(
        {
          origin: target.origin,
          requests: target.requests,
          seconds: options.seconds,
          connections: options.connections,
          countStatuses: target.countStatuses,
          runId: `${scenario.id}-${target.id}-${round}-`,
        },
        ctx.ws.dir,
      );
      // Requests cut off when the load stopped finish their database work before it is counted.
      if (target.bff) await sleep(200);
      const ended = performance.now();
      const queriesAfter = target.bff ? await target.bff.metric('db_queries_total') : 0;
      const cpuAfter = processes.map((p) => groupCpuMs(p.child));
      const busy = busyShare(machineBefore, machineCpu());
      await target.after?.();
      if (target.bff === ctx.bff) {
        const windows = ctx.bffWindows.get(scenario.id) ?? [];
        windows.push([started - ctx.bff.child.startedAt, ended - ctx.bff.child.startedAt]);
        ctx.bffWindows.set(scenario.id, windows);
      }
      const cpuMs = Object.fromEntries(processes.map((p, i) => [p.label, cpuAfter[i]! - cpuBefore[i]!]));
      rounds.get(target.id)!.push(toRound(load, cpuMs, busy, target.bff ? queriesAfter - queriesBefore - overheads.get(target.bff)! : undefined));
      ctx.log(
        `  round ${round + 1}/${options.rounds} ${target.label}: ${Math.round(load.rps)} req/s, p99 ${fmt(load.latencyMs.p99, 1)} ms${load.errors.status + load.errors.timeout > 0 ? `, ${load.errors.status} non-2xx, ${load.errors.timeout} timeouts` : ''}`,
      );
    }
  }

  const labelOf = (t: Target) => processes.find((p) => p.child === t.serves)!.label;
  const results = targets.map((t) => summarise(t, rounds.get(t.id)!, labelOf(t)));
  const [bff, ...anchors] = results as [TargetResult, ...TargetResult[]];
  const primary = anchors.find((a) => a.primary);
  const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
  const notes = [
    ...scenario.notes,
    `machine CPU busy during the rounds (every process on the machine): ${results.map((r) => `${r.id} ${pct(r.machineBusy)}`).join(', ')}`,
  ];
  for (const r of results) if (r.errors > 0) notes.push(`${r.label}: ${r.errors} failed or non-2xx responses`);
  const checks = scenario.checks(bff, primary);
  if (scenario.verify) {
    const verified = await scenario.verify();
    if (verified.check) checks.push(verified.check);
    notes.push(...verified.notes);
  }
  const byId = new Map(results.map((r) => [r.id, r]));
  const comparisons = (scenario.compare ?? []).map(([of, to]): Comparison => {
    const a = byId.get(of)!;
    const b = byId.get(to)!;
    return {
      label: `${a.label} ÷ ${b.label}`,
      rps: ratio(a.rps, b.rps),
      p50: ratio(a.p50Ms, b.p50Ms),
      p99: ratio(a.p99Ms, b.p99Ms),
      cpu: ratio(a.cpuMsPerRequest, b.cpuMsPerRequest),
    };
  });
  return {
    id: scenario.id,
    title: scenario.title,
    request: scenario.request,
    bff,
    anchors,
    ...(comparisons.length > 0 ? { comparisons } : {}),
    ratios: primary
      ? {
          rps: ratio(bff.rps, primary.rps),
          p50: ratio(bff.p50Ms, primary.p50Ms),
          p99: ratio(bff.p99Ms, primary.p99Ms),
          cpu: ratio(bff.cpuMsPerRequest, primary.cpuMsPerRequest),
        }
      : undefined,
    checks,
    notes,
  };
}

function toRound(load: LoadResult, cpuMs: Record<string, number>, machineBusy: number, dbQueries: number | undefined): Round {
  return {
    requests: load.requests,
    seconds: load.seconds,
    rps: load.rps,
    p50Ms: load.latencyMs.p50,
    p99Ms: load.latencyMs.p99,
    errors: load.errors.connect + load.errors.read + load.errors.write + load.errors.timeout + load.errors.status,
    bytesPerResponse: load.requests > 0 ? load.bytes / load.requests : 0,
    cpuMs,
    machineBusy,
    ...(dbQueries === undefined ? {} : { dbQueries }),
    ...(Object.keys(load.statuses).length > 0 ? { statuses: load.statuses } : {}),
  };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summarise(target: Target, rounds: Round[], cpuLabel: string): TargetResult {
  const requests = rounds.reduce((s, r) => s + r.requests, 0);
  const seconds = rounds.reduce((s, r) => s + r.seconds, 0);
  const cpu = rounds.reduce((s, r) => s + (r.cpuMs[cpuLabel] ?? 0), 0);
  const queries = rounds.reduce((s, r) => s + (r.dbQueries ?? 0), 0);
  return {
    id: target.id,
    label: target.label,
    primary: target.primary ?? false,
    rounds,
    rps: requests / seconds,
    p50Ms: median(rounds.map((r) => r.p50Ms)),
    p99Ms: median(rounds.map((r) => r.p99Ms)),
    cpuMsPerRequest: requests > 0 ? cpu / requests : Number.NaN,
    ...(target.bff ? { dbPerRequest: requests > 0 ? queries / requests : Number.NaN } : {}),
    errors: rounds.reduce((s, r) => s + r.errors, 0),
    bytesPerResponse: median(rounds.map((r) => r.bytesPerResponse)),
    machineBusy: rounds.reduce((s, r) => s + r.machineBusy, 0) / rounds.length,
  };
}

// ------------------------------------------------------------------------------------------------
// The scenarios of issue 15.

function bffTarget(ctx: Context, label: string, requests: LoadRequest[], extra: Partial<Target> = {}): Target {
  return { id: 'bff', label, origin: ctx.bff.origin, requests, serves: ctx.bff.child, bff: ctx.bff, ...extra };
}

const nginxMissing = 'nginx is not installed: its anchor is skipped (apt-get install nginx for the reference setup)';

export async function healthScenario(ctx: Context): Promise<Scenario> {
  const body = await (await fetch(`${ctx.bff.origin}/health/live`)).text();
  await registerBody(ctx.bare, '/health/live', body);
  const request: LoadRequest = { method: 'GET', path: '/health/live' };
  const anchors: Target[] = [
    { id: 'bare', label: 'bare node:http, same body', origin: ctx.bare.origin, requests: [request], serves: ctx.bare.child, primary: true },
  ];
  if (ctx.nginx)
    anchors.push({
      id: 'nginx-bare',
      label: 'nginx proxy_pass → bare node:http',
      origin: ctx.nginx.origins.bare!,
      requests: [request],
      serves: ctx.nginx.child,
    });
  return {
    id: 'health',
    title: 'liveness',
    request: 'GET /health/live',
    bff: bffTarget(ctx, 'BFF GET /health/live', [request]),
    anchors,
    notes: ctx.nginx ? [] : [nginxMissing],
    checks: (bff, bare) => [
      { target: '/health/live ≥ 20% of bare node:http (req/s)', measured: fmt(ratio(bff.rps, bare!.rps)), ok: ratio(bff.rps, bare!.rps) >= 0.2 },
    ],
  };
}

export async function accountsScenario(ctx: Context): Promise<Scenario> {
  const user = await ctx.primary();
  const [session] = await ctx.bankSessions();
  const request: LoadRequest = { method: 'GET', path: accountsPath(user), headers: bearer(user.token) };
  const body = await (await fetch(`${ctx.bff.origin}${request.path}`, { headers: request.headers })).text();
  await registerBody(ctx.bare, '/accounts', body);
  return {
    id: 'accounts',
    title: 'stored accounts',
    request: 'GET /api/v1/consents/{id}/accounts',
    bff: bffTarget(ctx, 'BFF stored accounts', [request]),
    anchors: [
      {
        id: 'sandbox',
        label: 'sandbox GET accounts (Nest route, guard, in memory)',
        origin: ctx.sandbox.origin,
        requests: [bankAccountsRequest(session!)],
        serves: ctx.sandbox.child,
        primary: true,
      },
      { id: 'bare', label: 'bare node:http, same body', origin: ctx.bare.origin, requests: [{ method: 'GET', path: '/accounts' }], serves: ctx.bare.child },
    ],
    notes: [`${body.length} bytes per response`],
    checks: (bff, sandbox) => [
      {
        target: 'stored accounts ≥ 50% of the sandbox in-memory route (req/s)',
        measured: fmt(ratio(bff.rps, sandbox!.rps)),
        ok: ratio(bff.rps, sandbox!.rps) >= 0.5,
      },
      { target: 'stored accounts ≤ 1 DB round trip per request', measured: fmt(bff.dbPerRequest!), ok: bff.dbPerRequest! <= 1 },
    ],
  };
}

/**
 * Express against Fastify under Nest, on the stored accounts read: two minimal Nest apps
 * (bench/anchors/nest-adapter.ts) that differ only in the adapter, serving the BFF's very body
 * behind a bearer guard, with the BFF's request-id, helmet and no-store middleware. The BFF itself
 * is not loaded here: the accounts scenario measures it.
 */
export async function adapterScenario(ctx: Context): Promise<Scenario> {
  const user = await ctx.primary();
  const request: LoadRequest = { method: 'GET', path: accountsPath(user), headers: bearer(user.token) };
  const reference = await fetch(`${ctx.bff.origin}${request.path}`, { headers: request.headers });
  const body = await reference.text();
  if (reference.status !== 200) throw new Error(`the BFF's stored accounts read answered ${reference.status}`);
  await registerBody(ctx.bare, '/accounts', body);
  const bodyFile = join(ctx.ws.dir, 'adapter-accounts.json');
  writeFileSync(bodyFile, body);
  const [express, fastify] = await Promise.all([
    startNestAdapter(ctx.ws, 'express', bodyFile, user.token),
    startNestAdapter(ctx.ws, 'fastify', bodyFile, user.token),
  ]);
  const processes = [
    { label: 'Nest + Express', child: express.child },
    { label: 'Nest + Fastify', child: fastify.child },
  ];
  const notes = [`${body.length} bytes per response, the BFF's stored accounts body`];
  try {
    // Like for like: both must answer the BFF's body, refuse a wrong token, and send the BFF's headers.
    const bffHeaders = headerNames(reference.headers);
    for (const [name, server] of [
      ['Express', express],
      ['Fastify', fastify],
    ] as const) {
      const res = await fetch(`${server.origin}${request.path}`, { headers: request.headers });
      const text = await res.text();
      if (res.status !== 200 || JSON.stringify(JSON.parse(text)) !== JSON.stringify(JSON.parse(body)))
        throw new Error(`Nest + ${name} did not answer the BFF's body (${res.status})`);
      const refused = await fetch(`${server.origin}${request.path}`, { headers: bearer('wrong') });
      await refused.arrayBuffer();
      if (refused.status !== 401) throw new Error(`Nest + ${name} did not refuse a wrong token (${refused.status})`);
      const own = headerNames(res.headers);
      const missing = bffHeaders.filter((h) => !own.includes(h));
      const extra = own.filter((h) => !bffHeaders.includes(h));
      notes.push(
        `Nest + ${name} sends ${own.length} headers${missing.length ? `; of the BFF's, not ${missing.join(', ')}` : ", every one of the BFF's"}${extra.length ? `; not the BFF's: ${extra.join(', ')}` : ''}`,
      );
    }
  } catch (error) {
    for (const p of processes) await stopChild(p.child);
    throw error;
  }
  return {
    id: 'adapter',
    title: 'HTTP adapter',
    request: 'GET /api/v1/consents/{id}/accounts (minimal Nest app)',
    bff: { id: 'express', label: 'Nest + Express', origin: express.origin, requests: [request], serves: express.child },
    anchors: [
      { id: 'fastify', label: 'Nest + Fastify', origin: fastify.origin, requests: [request], serves: fastify.child },
      {
        id: 'bare',
        label: 'bare node:http, same body',
        origin: ctx.bare.origin,
        requests: [{ method: 'GET', path: '/accounts' }],
        serves: ctx.bare.child,
        primary: true,
      },
    ],
    notes: [
      ...notes,
      "each app: Nest routing, ParseUUIDPipe on the id, a bearer guard (string compare), the BFF's request-id, helmet and no-store middleware through app.use; no logging, metrics, JWT or database",
    ],
    processes,
    compare: [
      ['fastify', 'express'],
      ['fastify', 'bare'],
    ],
    checks: () => [],
  };
}

/**
 * The adapter scenario read against the BFF's stored accounts read of the same run: what share of
 * the BFF's CPU per request its framework layer is (minimal Nest + Fastify less bare node:http, the
 * runtime's own cost of serving the same body), and what Express, the adapter it left, would add.
 */
export function adapterShareOfRead(accounts: HttpScenarioResult, adapter: HttpScenarioResult): string[] {
  const cpu = (id: string) => [adapter.bff, ...adapter.anchors].find((t) => t.id === id)?.cpuMsPerRequest ?? Number.NaN;
  const read = accounts.bff.cpuMsPerRequest;
  const layer = cpu('fastify') - cpu('bare');
  const extra = cpu('express') - cpu('fastify');
  const pct = (n: number) => `${fmt((n / read) * 100, 0)}%`;
  return [
    `against the BFF's stored accounts read of this run (${fmt(read, 3)} CPU ms/req, on Fastify): the framework layer (Nest + Fastify − bare node:http) is ${fmt(layer, 3)} ms/req, ${pct(layer)} of it; Express would add ${fmt(extra, 3)} ms/req, ${pct(extra)}`,
  ];
}

/** Response header names, less the ones about the connection or the moment. */
function headerNames(headers: Headers): string[] {
  const varying = new Set(['date', 'connection', 'keep-alive']);
  return [...headers.keys()].filter((h) => !varying.has(h)).sort();
}

export async function transactionsScenario(ctx: Context): Promise<Scenario> {
  const user = await ctx.primary();
  const request: LoadRequest = { method: 'GET', path: transactionsPath(user), headers: bearer(user.token) };
  const res = await fetch(`${ctx.bff.origin}${request.path}`, { headers: request.headers });
  const body = await res.text();
  const rows = JSON.parse(body) as { transactions: { booked: unknown[]; pending: unknown[] } };
  await registerBody(ctx.bare, '/transactions', body);
  const anchors: Target[] = [
    {
      id: 'bare',
      label: 'bare node:http, same body',
      origin: ctx.bare.origin,
      requests: [{ method: 'GET', path: '/transactions' }],
      serves: ctx.bare.child,
      primary: true,
    },
  ];
  if (ctx.nginx)
    anchors.push({
      id: 'nginx-bare',
      label: 'nginx proxy_pass → bare node:http',
      origin: ctx.nginx.origins.bare!,
      requests: [{ method: 'GET', path: '/transactions' }],
      serves: ctx.nginx.child,
    });
  return {
    id: 'transactions',
    title: 'stored transactions page',
    request: `GET …/accounts/{id}/transactions?limit=${TRANSACTIONS_PAGE}`,
    bff: bffTarget(ctx, 'BFF stored transactions page', [request]),
    anchors,
    notes: [
      `${rows.transactions.booked.length + rows.transactions.pending.length} rows, ${(body.length / 1024).toFixed(1)} KiB per response`,
      ...(ctx.nginx ? [] : [nginxMissing]),
    ],
    checks: () => [],
  };
}

export async function refreshScenario(ctx: Context): Promise<Scenario> {
  const users = await ctx.spread();
  const sessions = await ctx.bankSessions();
  const bankRequests = sessions.map(bankAccountsRequest);
  const anchors: Target[] = [];
  if (ctx.nginx)
    anchors.push({
      id: 'nginx-sandbox',
      label: 'nginx proxy_pass → sandbox GET accounts',
      origin: ctx.nginx.origins.sandbox!,
      requests: bankRequests,
      serves: ctx.nginx.child,
      primary: true,
    });
  anchors.push({
    id: 'sandbox',
    label: 'sandbox GET accounts, direct',
    origin: ctx.sandbox.origin,
    requests: bankRequests,
    serves: ctx.sandbox.child,
    primary: !ctx.nginx,
  });
  return {
    id: 'refresh',
    title: `attended read over ${users.length} consents`,
    request: 'GET /api/v1/consents/{id}/accounts?refresh=true',
    bff: bffTarget(
      ctx,
      'BFF attended read (bank now)',
      users.map((u) => ({ method: 'GET', path: `${accountsPath(u)}?refresh=true`, headers: bearer(u.token) })),
    ),
    anchors,
    notes: [
      `${users.length} users, each with its own consent, read in turn by ${ctx.options.connections} connections${users.length >= 2 * ctx.options.connections ? ' (identical reads rarely overlap, so coalescing them could not flatter the figure)' : ''}; the anchors read ${sessions.length} consents of the bank the same way`,
      'CPU per request counts the hop alone (BFF, or nginx), not the bank behind it',
      ...(ctx.nginx ? [] : [nginxMissing, 'the sandbox direct is the anchor instead']),
    ],
    checks: (bff, nginx) => {
      if (!ctx.nginx) return [];
      return [
        {
          target: 'attended read ≥ 40% of nginx proxy_pass to the same bank (req/s)',
          measured: fmt(ratio(bff.rps, nginx!.rps)),
          ok: ratio(bff.rps, nginx!.rps) >= 0.4,
        },
        { target: "attended read p99 ≤ 2× nginx's", measured: `${fmt(ratio(bff.p99Ms, nginx!.p99Ms))}×`, ok: ratio(bff.p99Ms, nginx!.p99Ms) <= 2 },
      ];
    },
  };
}

export async function paymentsScenario(ctx: Context): Promise<Scenario> {
  const user = await ctx.primary();
  const [session] = await ctx.bankSessions();
  const request: LoadRequest = {
    method: 'POST',
    path: paymentsPath(user),
    headers: { ...bearer(user.token), 'Content-Type': 'application/json', 'Idempotency-Key': '{key}' },
    body: JSON.stringify(PAYMENT_REQUEST),
  };
  const tally = { bank: 0, created: 0, open: 0 };
  let bankBefore = 0;
  let dbBefore = 0;
  const sent = async () => Number((await ctx.db.query<{ n: string }>('SELECT count(*) AS n FROM payments WHERE bank_payment_id IS NOT NULL'))[0]!.n);
  const bff = bffTarget(ctx, 'BFF POST payments (new key each)', [request], {
    countStatuses: true,
    before: async () => {
      bankBefore = await bankPaymentsCreated(ctx.sandbox);
      dbBefore = await sent();
    },
    after: async () => {
      // Requests cut off by the end of the load still finish at the bank: wait until none is in flight.
      for (let i = 0; i < 100; i++) {
        const [{ n }] = await ctx.db.query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE status = 'pending'");
        if (Number(n) === 0) break;
        await sleep(100);
      }
      tally.bank += (await bankPaymentsCreated(ctx.sandbox)) - bankBefore;
      tally.created += (await sent()) - dbBefore;
    },
  });
  const anchors: Target[] = [
    {
      id: 'sandbox',
      label: 'sandbox POST sepa-credit-transfers, direct',
      origin: ctx.sandbox.origin,
      requests: [bankPaymentRequest(session!)],
      serves: ctx.sandbox.child,
      primary: true,
    },
  ];
  if (ctx.nginx)
    anchors.push({
      id: 'nginx-sandbox',
      label: 'nginx proxy_pass → sandbox payments',
      origin: ctx.nginx.origins.sandbox!,
      requests: [bankPaymentRequest(session!)],
      serves: ctx.nginx.child,
    });
  return {
    id: 'payments',
    title: 'payment creation',
    request: 'POST /api/v1/connections/{id}/payments',
    bff,
    anchors,
    notes: ['every BFF request carries a new Idempotency-Key, so each one is a new payment at the bank', ...(ctx.nginx ? [] : [nginxMissing])],
    checks: (bff, sandbox) => [
      {
        target: "payment creation ≥ 25% of the sandbox's own payment rate (req/s)",
        measured: fmt(ratio(bff.rps, sandbox!.rps)),
        ok: ratio(bff.rps, sandbox!.rps) >= 0.25,
      },
    ],
    verify: async () => {
      const [{ n: open }] = await ctx.db.query<{ n: string }>("SELECT count(*) AS n FROM payments WHERE status IN ('pending', 'unknown')");
      tally.open = Number(open);
      const ok = tally.bank === tally.created && tally.open === 0;
      return {
        check: {
          target: 'payments at the bank = payments created',
          measured: `${tally.bank} at the bank, ${tally.created} created${tally.open ? `, ${tally.open} pending or unknown` : ''}`,
          ok,
        },
        notes: [],
      };
    },
  };
}
