import { DataSource, type QueryRunner } from 'typeorm';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { PollQueue, type ClaimRequest } from '../../src/modules/polling/poll-queue.store.js';
import { busyShare, groupCpuMs, machineCpu, stopChild } from '../lib/children.js';
import type { Context } from '../lib/context.js';
import { sleep } from '../lib/http.js';
import type { ClaimSample, SchedulerResult } from '../lib/results.js';
import { startBff, type Bff } from '../lib/servers.js';
import { seedPollablePayments } from '../lib/world.js';

const CLAIM_SAMPLES = 50;
/** A scheduler that is limited by its machine, not by its timer: a tick every 50 ms, 64 polls at once. */
const THROUGHPUT_CONFIG = { SCHEDULER_TICK_MS: '50', SCHEDULER_BATCH_SIZE: '100', SCHEDULER_CONCURRENCY: '64' };
const MIN_PAYMENTS = 1000;

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');

export async function runScheduler(ctx: Context): Promise<SchedulerResult> {
  const claim = await claimTimes(ctx);
  const polls = await pollRates(ctx);
  const first = claim[0]!;
  const last = claim[claim.length - 1]!;
  const growth = last.p50Ms / first.p50Ms;
  const scaling = polls.pollsPerSecond.two / polls.pollsPerSecond.one;
  const notes = [...polls.notes];
  if (scaling < 1.8 && polls.machineBusy.two >= 0.9) {
    notes.push(
      `with two processes the machine's CPU was ${(polls.machineBusy.two * 100).toFixed(0)}% busy: the pair is limited by the CPU the BFF processes, the bank and PostgreSQL share here (${fmt(polls.cpuMsPerPoll.two)} ms BFF + ${fmt(polls.bankCpuMsPerPoll.two)} ms bank CPU and ${fmt(polls.dbPerPoll.two, 1)} database round trips per poll), not by the queue`,
    );
  }
  return {
    claim,
    ...polls,
    notes,
    checks: [
      {
        target: `claim at ${last.openItems.toLocaleString('en')} open items within 1.5× of ${first.openItems.toLocaleString('en')}`,
        measured: `${fmt(growth)}×`,
        ok: growth <= 1.5,
      },
      { target: 'two scheduler processes ≥ 1.8× one (polls/s)', measured: `${fmt(scaling)}×`, ok: scaling >= 1.8 },
      // A small table is read faster whole; what matters is that a large queue is not.
      {
        target: `claim at ${last.openItems.toLocaleString('en')} open items reads poll_items through an index`,
        measured: last.index ?? 'sequential scan',
        ok: last.index !== null,
      },
    ],
  };
}

/**
 * The scheduler's claim statement (PollQueue.claim, the code the BFF runs) timed at each number of
 * open items, each queue in a database of its own holding exactly that many items. Samples go
 * round the queues in turn, so drift on a busy machine hits every size alike, and each runs in a
 * transaction that is rolled back, so every sample sees the same queue. 10% of the items are due,
 * the rest spread over the next hour, as a live queue looks.
 */
async function claimTimes(ctx: Context): Promise<ClaimSample[]> {
  const request: ClaimRequest = { owner: 'bench-claim', limit: 50, leaseSeconds: 60, minIntervalMs: 1000, kinds: ['consent', 'payment', 'ais-refresh'] };
  const queues: {
    size: number;
    dataSource: DataSource;
    runner: QueryRunner;
    queue: PollQueue;
    statement?: { sql: string; params: unknown[] };
    times: number[];
    claimed: number;
  }[] = [];
  try {
    for (const size of ctx.options.claimSizes) {
      const dataSource = new DataSource(typeormOptions(await ctx.db.scratch(), 2));
      await dataSource.initialize();
      await dataSource.query(
        `INSERT INTO poll_items (kind, resource_id, aspsp_id, next_poll_at)
         SELECT (ARRAY['consent', 'payment', 'ais-refresh'])[1 + g % 3], gen_random_uuid(), 'flowe',
                CASE WHEN g % 10 = 0 THEN now() - random() * interval '10 minutes' ELSE now() + random() * interval '1 hour' END
         FROM generate_series(1, $1::int) g`,
        [size],
      );
      await dataSource.query('VACUUM (ANALYZE) poll_items');
      const runner = dataSource.createQueryRunner();
      await runner.connect();
      const entry: (typeof queues)[number] = { size, dataSource, runner, queue: undefined as unknown as PollQueue, times: [], claimed: 0 };
      entry.queue = new PollQueue({
        query: (sql: string, params: unknown[]) => {
          entry.statement = { sql, params };
          return runner.query(sql, params);
        },
      } as unknown as DataSource);
      queues.push(entry);
    }
    for (let i = 0; i < CLAIM_SAMPLES; i++) {
      for (const q of queues) {
        await q.runner.startTransaction();
        const started = performance.now();
        q.claimed = (await q.queue.claim(request)).length;
        q.times.push(performance.now() - started);
        await q.runner.rollbackTransaction();
      }
    }
    const samples: ClaimSample[] = [];
    for (const q of queues) {
      await q.runner.startTransaction();
      const plan = ((await q.runner.query(`EXPLAIN (ANALYZE, BUFFERS) ${q.statement!.sql}`, q.statement!.params)) as { 'QUERY PLAN': string }[])
        .map((r) => r['QUERY PLAN'])
        .join('\n');
      await q.runner.rollbackTransaction();
      const [{ due }] = (await q.runner.query('SELECT count(*)::int AS due FROM poll_items WHERE next_poll_at <= now()')) as { due: number }[];
      // Indexes the plan reads poll_items through; null when it scans the whole table instead.
      const used = [...plan.matchAll(/(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (\S+)/g)].map((m) => m[1]!);
      const index = /Seq Scan on poll_items/.test(plan) ? null : [...new Set(used)].join(', ') || null;
      const times = [...q.times].sort((a, b) => a - b);
      samples.push({ openItems: q.size, dueItems: due, claimed: q.claimed, p50Ms: times[times.length >> 1]!, maxMs: times[times.length - 1]!, index, plan });
      ctx.log(`  claim at ${q.size} open items: p50 ${fmt(times[times.length >> 1]!)} ms, ${index ? `index ${index}` : 'sequential scan'}`);
    }
    return samples;
  } finally {
    for (const q of queues) {
      await q.runner.release();
      await q.dataSource.destroy();
    }
  }
}

/**
 * Polls per second of one, then two, scheduler processes (the BFF with SCHEDULER_ENABLED) on the
 * payments still waiting for approval at the bank: every poll is a real status request to the
 * sandbox and a real write. The HTTP BFF serves nothing meanwhile.
 */
async function pollRates(ctx: Context): Promise<Omit<SchedulerResult, 'claim' | 'checks'>> {
  const count = async () => Number((await ctx.db.query<{ n: string }>("SELECT count(*) AS n FROM poll_items WHERE kind = 'payment'"))[0]!.n);
  const have = await count();
  if (have < MIN_PAYMENTS) {
    ctx.log(`  adding ${MIN_PAYMENTS - have} payments awaiting approval at the bank`);
    const [session] = await ctx.bankSessions();
    await seedPollablePayments(ctx.bff, ctx.sandbox, ctx.db, await ctx.primary(), session!, MIN_PAYMENTS - have);
  }
  await ctx.db.query("UPDATE poll_items SET next_poll_at = now(), lease_until = NULL, leased_by = NULL WHERE kind = 'payment'");
  await ctx.db.vacuum('poll_items', 'payments');
  const items = await count();
  const window = ctx.options.seconds * 2;
  const schedulers: Bff[] = [];
  const measure = async (label: string, warmupMs: number) => {
    await sleep(warmupMs);
    const before = await Promise.all(
      schedulers.map(async (s) => ({ polls: await s.metric('scheduler_polls_total'), queries: await s.metric('db_queries_total'), cpu: groupCpuMs(s.child) })),
    );
    const [machineBefore, bankBefore] = [machineCpu(), groupCpuMs(ctx.sandbox.child)];
    const started = performance.now();
    await sleep(window * 1000);
    const seconds = (performance.now() - started) / 1000;
    const [machineAfter, bankAfter] = [machineCpu(), groupCpuMs(ctx.sandbox.child)];
    const after = await Promise.all(
      schedulers.map(async (s) => ({ polls: await s.metric('scheduler_polls_total'), queries: await s.metric('db_queries_total'), cpu: groupCpuMs(s.child) })),
    );
    const sum = (key: 'polls' | 'queries' | 'cpu') => after.reduce((s, a, i) => s + a[key] - before[i]![key], 0);
    const polls = sum('polls');
    const busy = busyShare(machineBefore, machineAfter);
    ctx.log(`  ${label}: ${Math.round(polls / seconds)} polls/s, machine CPU ${(busy * 100).toFixed(0)}% busy`);
    return { polls, seconds, queries: sum('queries'), cpu: sum('cpu'), bank: bankAfter - bankBefore, busy };
  };
  try {
    // one, two, then one again: the single process is measured both before and after the pair, so
    // its JIT warm-up and the machine's drift do not flatter the pair.
    schedulers.push(await startBff(ctx.ws, { name: 'scheduler-1', scheduler: true, env: THROUGHPUT_CONFIG }));
    // The first poll of a payment does more (it records the SCA status the bank reports, with its
    // event) than the steady-state polls measured here: every item is polled once before the first window.
    const deadline = Date.now() + 90_000;
    while (
      Date.now() < deadline &&
      Number((await ctx.db.query<{ n: string }>("SELECT count(*) AS n FROM poll_items WHERE kind = 'payment' AND attempts = 0"))[0]!.n) > 0
    )
      await sleep(250);
    const oneBefore = await measure('one scheduler process', 2_000);
    schedulers.push(await startBff(ctx.ws, { name: 'scheduler-2', scheduler: true, env: THROUGHPUT_CONFIG }));
    const two = await measure('two scheduler processes', 3_000);
    await stopChild(schedulers.pop()!.child);
    const oneAfter = await measure('one scheduler process again', 1_000);
    const one = {
      polls: oneBefore.polls + oneAfter.polls,
      seconds: oneBefore.seconds + oneAfter.seconds,
      queries: oneBefore.queries + oneAfter.queries,
      cpu: oneBefore.cpu + oneAfter.cpu,
      bank: oneBefore.bank + oneAfter.bank,
      busy: (oneBefore.busy + oneAfter.busy) / 2,
    };
    return {
      config: THROUGHPUT_CONFIG,
      items,
      pollsPerSecond: { one: one.polls / one.seconds, two: two.polls / two.seconds },
      dbPerPoll: { one: one.queries / one.polls, two: two.queries / two.polls },
      cpuMsPerPoll: { one: one.cpu / one.polls, two: two.cpu / two.polls },
      bankCpuMsPerPoll: { one: one.bank / one.polls, two: two.bank / two.polls },
      machineBusy: { one: one.busy, two: two.busy },
      notes: [
        `${items} payments awaiting approval, each polled at most once a second (status and SCA status at the bank, then the outcome written); every item is polled once before the ${window} s windows: one process, two, then one again (the two single-process windows are averaged)`,
        `scheduler processes run with ${Object.entries(THROUGHPUT_CONFIG)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')} so the machine, not the timer, limits them (the defaults, 250 ms ticks and 16 polls at once, cap one process near 64 polls/s)`,
      ],
    };
  } finally {
    for (const s of schedulers.reverse()) await stopChild(s.child);
  }
}
