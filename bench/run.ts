import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { cleanupAll, groupRssBytes, installExitHandlers, onCleanup, stopChild } from './lib/children.js';
import type { Context } from './lib/context.js';
import { createBenchDatabase } from './lib/database.js';
import { mapLimit } from './lib/http.js';
import { loadGenerator } from './lib/load.js';
import { findNginx, startNginx } from './lib/nginx.js';
import { parseOptions, selected, type ScenarioId } from './lib/options.js';
import { paths } from './lib/paths.js';
import { profileMarkdown, summariseProfile } from './lib/profile.js';
import { allChecks, renderMarkdown, spliceReadme } from './lib/report.js';
import type { BenchResults } from './lib/results.js';
import { newVaultKeys, startBare, startBff, startSandbox, type Workspace } from './lib/servers.js';
import { bankSession, connectedUser, type BankSession, type BffUser } from './lib/world.js';
import {
  accountsScenario,
  adapterScenario,
  adapterShareOfRead,
  healthScenario,
  paymentsScenario,
  refreshScenario,
  runHttpScenario,
  transactionsScenario,
} from './scenarios/http.js';
import { memory, runStartup, runVault } from './scenarios/micro.js';
import { runScheduler } from './scenarios/scheduler.js';
import { runSse } from './scenarios/sse.js';

/**
 * `npm run bench`: the BFF's cost per request, measured side by side with anchors in the same run
 * on the same machine. Every server (BFF, sandbox ASPSP, a bare node:http server, nginx) and the
 * load generator (wrk) run as separate processes; the runner only orchestrates, seeds data and
 * reads counters. Writes bench/results/latest.json and latest.md and, after a complete run,
 * README's Performance section. See --help.
 */
async function main(): Promise<void> {
  installExitHandlers();
  const options = parseOptions(process.argv.slice(2), process.env);
  const started = performance.now();
  const startedAt = new Date();
  const loadStart = loadavg();
  const log = (message: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);

  const dir = mkdtempSync(join(tmpdir(), 'tpp-bench-'));
  onCleanup('remove the run directory', () => rmSync(dir, { recursive: true, force: true }));
  const notes: string[] = [];
  if (loadGenerator.note) notes.push(loadGenerator.note);
  log(`load generator: ${loadGenerator.version}`);

  const db = await createBenchDatabase(process.env.DATABASE_URL);
  log(`database: PostgreSQL ${db.version} (${db.server === 'embedded' ? 'embedded, .data/bench-postgres' : 'DATABASE_URL'})`);
  const ws: Workspace = { dir, databaseUrl: db.url, vaultKeys: newVaultKeys() };
  const sandbox = await startSandbox(ws);
  ws.sandboxOrigin = sandbox.origin;
  log(`sandbox ASPSP ready in ${sandbox.readyMs.toFixed(0)} ms`);
  const profileDir = join(dir, 'profile');
  const bff = await startBff(ws, { name: 'bff', nodeArgs: options.cpuProfile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [] });
  log(`BFF ready in ${bff.readyMs.toFixed(0)} ms (migrations on an empty database)`);
  const bare = await startBare(ws);
  const nginxBinary = findNginx();
  const nginx = nginxBinary
    ? await startNginx(
        nginxBinary,
        { bare: { origin: bare.origin, readyPath: '/_bench/ready' }, sandbox: { origin: sandbox.origin, readyPath: '/admin/clock' } },
        join(dir, 'nginx'),
      )
    : undefined;
  if (!nginx) notes.push('nginx is not installed: the nginx anchors are skipped (apt-get install nginx for the reference setup)');
  log(nginx ? `nginx ${nginx.version} proxying to the bare server and the sandbox` : 'nginx not found: its anchors are skipped');

  const servers = () => [
    { label: 'BFF', child: bff.child },
    { label: 'sandbox ASPSP', child: sandbox.child },
    { label: 'bare node:http', child: bare.child },
    ...(nginx ? [{ label: 'nginx', child: nginx.child }] : []),
  ];
  const rssAtReady = new Map(servers().map((s) => [s.label, groupRssBytes(s.child)]));

  let primary: Promise<BffUser> | undefined;
  let spread: Promise<BffUser[]> | undefined;
  let sessions: Promise<BankSession[]> | undefined;
  const ctx: Context = {
    options,
    ws,
    db,
    sandbox,
    bff,
    bare,
    nginx,
    bffWindows: new Map(),
    servers,
    log,
    primary: () =>
      (primary ??= (async () => {
        log('seeding: a user with a Flowe connection, a valid consent, stored accounts and transactions');
        return connectedUser(bff, sandbox, db, 'bench-user', { transactions: true });
      })()),
    spread: () =>
      (spread ??= (async () => {
        log(`seeding: ${options.consents} users, each with its own connection and valid consent`);
        return mapLimit(
          Array.from({ length: options.consents }, (_, i) => `bench-spread-${i}`),
          8,
          (userId) => connectedUser(bff, sandbox, db, userId),
        );
      })()),
    bankSessions: () =>
      (sessions ??= (async () => {
        log(`seeding: ${options.consents} direct sessions at the bank (token and approved consent) for the anchors`);
        return mapLimit(
          Array.from({ length: options.consents }, () => 0),
          8,
          () => bankSession(sandbox),
        );
      })()),
  };

  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    commit: commit(),
    machine: {
      cpus: cpus().length,
      model: cpus()[0]?.model.trim() ?? 'unknown',
      loadAverageStart: loadStart,
      loadAverageEnd: [],
      node: process.versions.node,
      postgres: db.version,
      database: db.server === 'embedded' ? 'embedded' : 'DATABASE_URL',
    },
    settings: {
      seconds: options.seconds,
      rounds: options.rounds,
      connections: options.connections,
      warmupSeconds: options.warmupSeconds,
      consents: options.consents,
      sseStreams: options.sseStreams,
      loadGenerator: loadGenerator.version,
      nginx: nginx
        ? `bare node:http, ${nginx.version} proxy_pass (upstream keep-alive), the sandbox direct`
        : 'bare node:http and the sandbox direct (nginx not installed)',
      logLevel: process.env.BENCH_LOG_LEVEL ?? 'warn',
    },
    notes,
    http: [],
    memory: [],
  };

  const http: [ScenarioId, (c: Context) => ReturnType<typeof healthScenario>][] = [
    ['health', healthScenario],
    ['accounts', accountsScenario],
    ['adapter', adapterScenario],
    ['transactions', transactionsScenario],
    ['refresh', refreshScenario],
    // Last of the HTTP scenarios: the payments it leaves at the bank make the sandbox's account reads slower.
    ['payments', paymentsScenario],
  ];
  for (const [id, build] of http) {
    if (!selected(options, id)) continue;
    const scenario = await build(ctx);
    log(`${scenario.title}: ${scenario.request}`);
    const result = await runHttpScenario(ctx, scenario);
    results.http.push(result);
    // Autovacuum may be off: the rows this block wrote (seeding, upserts, payments) must not slow the next one.
    await db.query('VACUUM (ANALYZE)');
    log(
      `${scenario.title}: ${result.bff.label} ${result.bff.rps.toFixed(0)} req/s, ${result.ratios ? `${result.ratios.rps.toFixed(3)} of its anchor` : 'no anchor'}`,
    );
  }
  const accountsRead = results.http.find((h) => h.id === 'accounts');
  const adapters = results.http.find((h) => h.id === 'adapter');
  if (accountsRead && adapters) adapters.notes.push(...adapterShareOfRead(accountsRead, adapters));
  if (selected(options, 'sse')) {
    log(`SSE fan-out to ${options.sseStreams} streams`);
    results.sse = await runSse(ctx);
  }
  if (selected(options, 'scheduler')) {
    log('scheduler: claim time by queue size, polls/s with one and two processes');
    results.scheduler = await runScheduler(ctx);
  }
  if (selected(options, 'vault')) {
    log('token vault against raw node:crypto');
    results.vault = await runVault(ctx);
  }
  if (selected(options, 'startup')) {
    log('start-up to ready');
    results.startup = await runStartup(ctx);
  }
  results.memory = memory(ctx, rssAtReady);

  if (options.cpuProfile) {
    await stopChild(bff.child);
    const file = existsSync(profileDir) ? readdirSync(profileDir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (!file) throw new Error('the BFF wrote no CPU profile');
    const windows = [...ctx.bffWindows.values()].flat();
    const scenarios = [...ctx.bffWindows.keys()];
    const summary = summariseProfile(join(profileDir, file), windows);
    const keep = join(paths.root, '.data', 'bench-profiles');
    mkdirSync(keep, { recursive: true });
    const kept = join(keep, `bff-${scenarios.join('-')}.cpuprofile`);
    copyFileSync(join(profileDir, file), kept);
    const markdown = profileMarkdown(summary, scenarios);
    writeFileSync(join(paths.results, `profile-${scenarios.join('-')}.md`), markdown);
    process.stdout.write(`\n${markdown}\n(profile kept in ${kept}; open it in Chrome DevTools)\n`);
  }

  results.machine.loadAverageEnd = loadavg();
  results.durationSeconds = (performance.now() - started) / 1000;
  const markdown = renderMarkdown(results);
  // A complete run is the reference: bench/results and README. A partial or shortened one goes to
  // .data/bench (git-ignored) so it never passes for the reference.
  const out = options.complete ? paths.results : join(paths.root, '.data', 'bench');
  const name = options.complete ? 'latest' : 'partial';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, `${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(out, `${name}.md`), `# tpp-bff benchmark\n\n${markdown}`);
  let written = `${relative(paths.root, join(out, name))}.json and .md written; README.md left as it is (a partial or shortened run)`;
  if (options.complete) {
    const spliced = spliceReadme(readFileSync(paths.readme, 'utf8'), markdown);
    if (spliced) writeFileSync(paths.readme, spliced);
    written = `bench/results/latest.json and .md written; ${spliced ? "README.md's Performance section updated" : 'README.md has no bench:results markers: not updated'}`;
  }
  process.stdout.write(`\n${markdown}\n`);
  const checks = allChecks(results);
  log(`done: ${checks.filter((c) => c.ok).length}/${checks.length} targets met; ${written}`);
}

function commit(): string {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty =
      execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() !== '';
    return dirty ? `${sha}+changes` : sha;
  } catch {
    return 'unknown';
  }
}

try {
  await main();
} finally {
  await cleanupAll();
}
