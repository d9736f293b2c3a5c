import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { groupCpuMs, startChild, stopChild, type Child } from '../lib/children.js';
import type { Context } from '../lib/context.js';
import { mapLimit, sleep } from '../lib/http.js';
import { paths } from '../lib/paths.js';
import type { SseResult, SseSide } from '../lib/results.js';
import { demoLogin } from '../lib/world.js';

interface Delivered {
  delivered: number;
  firstAt: number;
  lastAt: number;
  latencies: { p50: number; p99: number };
}

/** Talks to the SSE client process. */
class Clients {
  private readonly waiters = new Map<string, (message: never) => void>();

  constructor(readonly child: Child) {
    child.proc.on('message', (message: Record<string, unknown>) => {
      const key = `${String(message.cmd)}:${String(message.group)}`;
      this.waiters.get(key)?.(message as never);
      this.waiters.delete(key);
    });
  }

  private ask<T>(message: Record<string, unknown>, reply: string): Promise<T> {
    return new Promise((resolve) => {
      this.waiters.set(`${reply}:${String(message.group)}`, resolve);
      this.child.proc.send(message);
    });
  }

  open(group: string, url: string, tokens: (string | null)[]) {
    return this.ask<{ opened: number; failed: number; firstError?: string }>({ cmd: 'open', group, url, tokens }, 'opened');
  }

  /** Resolves once the client is counting; its `delivered` once `events` arrived (or the timeout passed). */
  async expect(group: string, events: number, timeoutMs: number): Promise<{ delivered: Promise<Delivered> }> {
    const delivered = new Promise<Delivered>((resolve) => this.waiters.set(`delivered:${group}`, resolve));
    await this.ask({ cmd: 'expect', group, events, timeoutMs }, 'expecting');
    return { delivered };
  }
}

/**
 * Fan-out: `sseStreams` users each hold one GET /api/v1/events stream; bursts of status events
 * are written to the outbox (as the pollers do, in bulk with SQL) and the time until every stream
 * has its events gives events/s. Anchor: the same number of streams on a bare node:http server
 * writing the same frames, received by the same client process.
 */
export async function runSse(ctx: Context): Promise<SseResult> {
  const n = ctx.options.sseStreams;
  const perStream = 2;
  const bursts = ctx.options.rounds;
  ctx.log(`  ${n} demo logins`);
  const tokens = await mapLimit(
    Array.from({ length: n }, (_, i) => `sse-user-${i}`),
    16,
    (userId) => demoLogin(ctx.bff, userId),
  );
  const child = startChild('sse clients', process.execPath, [paths.sseClients], {
    env: { PATH: process.env.PATH ?? '' },
    logFile: join(ctx.ws.dir, 'sse-clients.log'),
    ipc: true,
  });
  const clients = new Clients(child);
  try {
    const bff = await clients.open('bff', `${ctx.bff.origin}/api/v1/events`, tokens);
    const anchor = await clients.open(
      'anchor',
      `${ctx.bare.origin}/_bench/events`,
      tokens.map(() => null),
    );
    if (bff.opened !== n || anchor.opened !== n)
      throw new Error(
        `SSE streams: ${bff.opened}/${n} opened on the BFF (${bff.firstError ?? ''}), ${anchor.opened}/${n} on the anchor (${anchor.firstError ?? ''})`,
      );
    ctx.log(`  ${n} streams open on the BFF and on the anchor`);
    await sleep(500);

    const sides = { bff: newTally(), anchor: newTally() };
    const events = n * perStream;
    for (let burst = 0; burst < bursts; burst++) {
      // BFF: events written to the outbox, read by the hub within EVENTS_POLL_MS, written to each user's stream.
      {
        const cpu = groupCpuMs(ctx.bff.child);
        const queries = await ctx.bff.metric('db_queries_total');
        const { delivered } = await clients.expect('bff', events, 30_000);
        const sentAt = Date.now();
        await ctx.db.query(
          `INSERT INTO outbox_events (user_id, type, payload)
           SELECT 'sse-user-' || (g % $1), 'payment.status', jsonb_build_object('paymentId', gen_random_uuid(), 'connectionId', gen_random_uuid(), 'status', 'ACSC', 'scaStatus', 'finalised', 'sentAt', $2::bigint)
           FROM generate_series(0, $3 - 1) g ORDER BY g`,
          [n, sentAt, events],
        );
        const result = await delivered;
        add(sides.bff, result, sentAt, events, groupCpuMs(ctx.bff.child) - cpu, (await ctx.bff.metric('db_queries_total')) - queries);
        ctx.log(`  burst ${burst + 1}/${bursts} BFF: ${result.delivered}/${events} events in ${result.lastAt - sentAt} ms`);
      }
      {
        const cpu = groupCpuMs(ctx.bare.child);
        const { delivered } = await clients.expect('anchor', events, 30_000);
        const sentAt = Date.now();
        const res = await fetch(`${ctx.bare.origin}/_bench/emit?perStream=${perStream}`, {
          method: 'POST',
          body: JSON.stringify({ paymentId: randomUUID(), connectionId: randomUUID(), status: 'ACSC', scaStatus: 'finalised' }),
        });
        await res.arrayBuffer();
        const result = await delivered;
        add(sides.anchor, result, sentAt, events, groupCpuMs(ctx.bare.child) - cpu);
        ctx.log(`  burst ${burst + 1}/${bursts} anchor: ${result.delivered}/${events} events in ${result.lastAt - sentAt} ms`);
      }
      await ctx.db.vacuum('outbox_events');
    }
    const bffSide = toSide('BFF GET /api/v1/events', n, sides.bff, true);
    const anchorSide = toSide('bare node:http SSE, same frames', n, sides.anchor, false);
    return {
      bff: bffSide,
      anchor: anchorSide,
      ratio: bffSide.eventsPerSecond / anchorSide.eventsPerSecond,
      notes: [
        `${bursts} bursts of ${perStream} events per stream (${events} events each), BFF and anchor in turn; events/s = events delivered ÷ time from the write to the last delivery`,
        'the hub reads at most 500 outbox rows per EVENTS_POLL_MS (250 ms) tick, about 2,000 events/s per replica',
      ],
    };
  } finally {
    await stopChild(child, 2_000);
  }
}

interface Tally {
  events: number;
  delivered: number;
  ms: number;
  cpuMs: number;
  queries: number;
  p50: number[];
  p99: number[];
}

const newTally = (): Tally => ({ events: 0, delivered: 0, ms: 0, cpuMs: 0, queries: 0, p50: [], p99: [] });

function add(t: Tally, d: Delivered, sentAt: number, events: number, cpuMs: number, queries = 0): void {
  t.events += events;
  t.delivered += d.delivered;
  t.ms += Math.max(1, d.lastAt - sentAt);
  t.cpuMs += cpuMs;
  t.queries += queries;
  t.p50.push(d.latencies.p50);
  t.p99.push(d.latencies.p99);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;

function toSide(label: string, streams: number, t: Tally, bff: boolean): SseSide {
  return {
    label,
    streams,
    events: t.events,
    delivered: t.delivered,
    eventsPerSecond: t.delivered / (t.ms / 1000),
    latencyP50Ms: median(t.p50),
    latencyP99Ms: median(t.p99),
    cpuMsPerThousandEvents: (t.cpuMs / t.delivered) * 1000,
    ...(bff ? { dbQueriesPerThousandEvents: (t.queries / t.delivered) * 1000 } : {}),
  };
}
