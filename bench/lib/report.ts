import type { BenchResults, Check, HttpScenarioResult, TargetResult } from './results.js';

const f = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n) ? '—' : n.toLocaleString('en', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ms = (n: number | undefined) => f(n, n !== undefined && n < 0.1 ? 3 : n !== undefined && n < 10 ? 2 : 1);
const x = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(n < 0.1 ? 3 : 2)}`);
const mark = (c: Check) => (c.ok ? '✓' : '✗');

/** The markdown report: bench/results/latest.md, the console, and README's Performance section. */
export function renderMarkdown(r: BenchResults): string {
  const out: string[] = [];
  const s = r.settings;
  out.push(
    `Run ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC, commit \`${r.commit}\`, ${r.durationSeconds.toFixed(0)} s: ${r.machine.cpus} × ${r.machine.model}, load average ${r.machine.loadAverageStart.map((l) => l.toFixed(2)).join(' ')} at the start and ${r.machine.loadAverageEnd.map((l) => l.toFixed(2)).join(' ')} at the end; Node ${r.machine.node}, PostgreSQL ${r.machine.postgres} (${r.machine.database}).`,
    `Load: ${s.loadGenerator}, ${s.connections} connections, ${s.rounds} rounds of ${s.seconds} s per target after a ${s.warmupSeconds} s warm-up, BFF rounds interleaved with their anchors'; each server is its own process, the load generator too. BFF in sandbox mode, LOG_LEVEL=${s.logLevel}. Anchors: ${s.nginx}.`,
    '',
  );
  for (const note of r.notes) out.push(`> ${note}`, '');

  if (r.http.length > 0) {
    out.push(
      '### HTTP',
      '',
      'CPU ms/req is the serving process alone (the BFF, the anchor server, or nginx without its upstream); DB = `db_queries_total` per request. Ratios compare the BFF with the anchor marked ★.',
      '',
      '| scenario | path | req/s | p50 ms | p99 ms | DB/req | CPU ms/req | req/s ÷ ★ | p99 × ★ | CPU × ★ | targets |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const h of r.http) out.push(...httpRows(h));
    out.push('');
    for (const h of r.http) if (h.notes.length > 0) out.push(`- **${h.title}**: ${h.notes.join('; ')}.`);
    out.push('');
    const comparisons = r.http.flatMap((h) => (h.comparisons ?? []).map((c) => ({ title: h.title, c })));
    if (comparisons.length > 0) {
      out.push('| scenario | ratio | req/s | p50 | p99 | CPU ms/req |', '|---|---|---:|---:|---:|---:|');
      for (const { title, c } of comparisons) out.push(`| ${title} | ${c.label} | ${x(c.rps)} | ${x(c.p50)} | ${x(c.p99)} | ${x(c.cpu)} |`);
      out.push('');
    }
  }

  if (r.sse) {
    const { bff, anchor } = r.sse;
    out.push(
      '### SSE fan-out',
      '',
      '| path | streams | events delivered | events/s | latency p50 ms | p99 ms | CPU ms / 1k events | DB / 1k events | events/s ÷ anchor |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
      `| ${bff.label} | ${f(bff.streams)} | ${f(bff.delivered)} / ${f(bff.events)} | ${f(bff.eventsPerSecond)} | ${ms(bff.latencyP50Ms)} | ${ms(bff.latencyP99Ms)} | ${ms(bff.cpuMsPerThousandEvents)} | ${f(bff.dbQueriesPerThousandEvents, 1)} | ${x(r.sse.ratio)} |`,
      `| ↳ ${anchor.label} ★ | ${f(anchor.streams)} | ${f(anchor.delivered)} / ${f(anchor.events)} | ${f(anchor.eventsPerSecond)} | ${ms(anchor.latencyP50Ms)} | ${ms(anchor.latencyP99Ms)} | ${ms(anchor.cpuMsPerThousandEvents)} | — | 1 |`,
      '',
      ...r.sse.notes.map((n) => `- ${n}.`),
      '',
    );
  }

  if (r.scheduler) {
    const sc = r.scheduler;
    const base = sc.claim[0]!;
    out.push(
      '### Scheduler',
      '',
      '| open poll items | due | claim p50 ms | claim max ms | p50 × first | index (EXPLAIN) |',
      '|---:|---:|---:|---:|---:|---|',
      ...sc.claim.map(
        (c) =>
          `| ${f(c.openItems)} | ${f(c.dueItems)} | ${ms(c.p50Ms)} | ${ms(c.maxMs)} | ${x(c.p50Ms / base.p50Ms)} | ${c.index ?? 'none: sequential scan'} |`,
      ),
      '',
      '| scheduler processes | polls/s | DB round trips/poll | BFF CPU ms/poll | bank CPU ms/poll | machine CPU busy | × one process |',
      '|---|---:|---:|---:|---:|---:|---:|',
      `| one | ${f(sc.pollsPerSecond.one)} | ${f(sc.dbPerPoll.one, 1)} | ${ms(sc.cpuMsPerPoll.one)} | ${ms(sc.bankCpuMsPerPoll.one)} | ${f(sc.machineBusy.one * 100)}% | 1 |`,
      `| two | ${f(sc.pollsPerSecond.two)} | ${f(sc.dbPerPoll.two, 1)} | ${ms(sc.cpuMsPerPoll.two)} | ${ms(sc.bankCpuMsPerPoll.two)} | ${f(sc.machineBusy.two * 100)}% | ${x(sc.pollsPerSecond.two / sc.pollsPerSecond.one)} |`,
      '',
      ...sc.notes.map((n) => `- ${n}.`),
      '',
      `<details><summary>EXPLAIN (ANALYZE) of the claim at ${f(sc.claim.at(-1)!.openItems)} open items</summary>`,
      '',
      '```',
      sc.claim.at(-1)!.plan,
      '```',
      '',
      '</details>',
      '',
    );
  }

  if (r.vault) {
    out.push('### Token vault', '', '| operation | ops/s | µs/op | anchor | anchor ops/s | ÷ anchor |', '|---|---:|---:|---|---:|---:|');
    for (const v of r.vault.rows)
      out.push(`| ${v.op} | ${f(v.opsPerSecond)} | ${ms(1e6 / v.opsPerSecond)} | ${v.anchor} | ${f(v.anchorOpsPerSecond)} | ${x(v.ratio)} |`);
    out.push('');
  }

  if (r.startup || r.memory.length > 0) {
    out.push('### Start-up and memory', '');
    if (r.startup) {
      out.push('| process | start to ready ms |', '|---|---:|', ...r.startup.rows.map((row) => `| ${row.label} | ${f(row.readyMs)} |`), '');
    }
    out.push(
      '| process | RSS MiB when ready | RSS MiB after the runs |',
      '|---|---:|---:|',
      ...r.memory.map((m) => `| ${m.label} | ${f(m.rssAtReadyMiB)} | ${f(m.rssMiB)} |`),
      '',
    );
  }

  const checks = allChecks(r);
  if (checks.length > 0) {
    out.push('### Targets', '', 'Reported, never enforced: a benchmark does not fail a build on speed.', '', '| target | measured | |', '|---|---|:-:|');
    for (const c of checks) out.push(`| ${c.target} | ${c.measured} | ${mark(c)} |`);
    out.push('');
  }
  return out.join('\n');
}

function httpRows(h: HttpScenarioResult): string[] {
  const row = (t: TargetResult, first: boolean) => {
    const ratios = first && h.ratios ? [x(h.ratios.rps), x(h.ratios.p99), x(h.ratios.cpu)] : ['', '', ''];
    const name = first ? `**${h.title}**` : '';
    const label = first ? `${t.label}: \`${h.request}\`` : `↳ ${t.label}${t.primary ? ' ★' : ''}`;
    const targets = first ? h.checks.map((c) => `${mark(c)} ${c.target.replace(/ \(req\/s\)$/, '')}`).join('<br>') : '';
    return `| ${name} | ${label} | ${f(t.rps)} | ${ms(t.p50Ms)} | ${ms(t.p99Ms)} | ${t.dbPerRequest === undefined ? '—' : f(t.dbPerRequest, 2)} | ${ms(t.cpuMsPerRequest)} | ${ratios.join(' | ')} | ${targets} |`;
  };
  return [row(h.bff, true), ...h.anchors.map((a) => row(a, false))];
}

export function allChecks(r: BenchResults): Check[] {
  return [...r.http.flatMap((h) => h.checks), ...(r.scheduler?.checks ?? [])];
}

/** Replaces README's results between the markers; false when the markers are missing. */
export function spliceReadme(readme: string, markdown: string): string | undefined {
  const start = '<!-- bench:results:start -->';
  const end = '<!-- bench:results:end -->';
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from < 0 || to < from) return undefined;
  return `${readme.slice(0, from + start.length)}\n${markdown.trim()}\n${readme.slice(to)}`;
}
