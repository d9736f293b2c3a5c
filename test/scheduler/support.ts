import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { PollHandlers, type PollContext, type PollHandler, type PollResult } from '../../src/modules/polling/poll-handlers.js';
import { PollQueue, type PollKind } from '../../src/modules/polling/poll-queue.store.js';
import type { TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';

/** A fast-ticking scheduler for tests; the bank rules (1 s floor) stay as in production. */
export const FAST_SCHEDULER = { SCHEDULER_TICK_MS: '50', SCHEDULER_LEASE_SECONDS: '30' };

export interface PollRow {
  kind: string;
  resource_id: string;
  next_poll_at: Date;
  lease_until: Date | null;
  leased_by: string | null;
  attempts: number;
  failures: number;
  last_polled_at: Date | null;
  last_outcome: string | null;
  last_status: string | null;
}

export async function schedule(
  bff: TestBff,
  items: { kind: PollKind; resourceId?: string; aspspId?: string; at?: Date; deadlineAt?: Date }[],
): Promise<string[]> {
  const queue = bff.app.get(PollQueue);
  const ids = items.map((i) => i.resourceId ?? randomUUID());
  await bff.app.get(DataSource).transaction(async (manager) => {
    for (const [n, item] of items.entries())
      await queue.schedule(manager, { kind: item.kind, resourceId: ids[n], aspspId: item.aspspId ?? 'flowe', at: item.at, deadlineAt: item.deadlineAt });
  });
  return ids;
}

export async function pollRows(dbUrl: string, kind?: string): Promise<PollRow[]> {
  return withClient(
    dbUrl,
    async (c) => (await c.query('SELECT * FROM poll_items WHERE $1::text IS NULL OR kind = $1 ORDER BY resource_id', [kind ?? null])).rows as PollRow[],
  );
}

export interface PollCall {
  app: string;
  resourceId: string;
  start: number;
  end: number;
  context: PollContext;
}

/**
 * A handler that records every call (which app, when it started and ended) and answers with
 * `answer`. Registered on several apps with one shared log, it shows what the replicas did together.
 */
export function recordingHandler(log: PollCall[], app: string, answer: (context: PollContext, calls: number) => Promise<PollResult> | PollResult): PollHandler {
  return async (context) => {
    const start = Date.now();
    const calls = log.filter((c) => c.resourceId === context.resourceId).length;
    const entry: PollCall = { app, resourceId: context.resourceId, start, end: Number.NaN, context };
    log.push(entry);
    try {
      return await answer(context, calls);
    } finally {
      entry.end = Date.now();
    }
  };
}

export function register(bff: TestBff, kind: PollKind, handler: PollHandler): void {
  bff.app.get(PollHandlers).register(kind, handler);
}

export function byResource<T extends { resourceId: string }>(entries: T[]): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const entry of entries) map.set(entry.resourceId, [...(map.get(entry.resourceId) ?? []), entry]);
  return map;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function until<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function scrape(bffUrl: string): Promise<string> {
  return (await fetch(`${bffUrl}/metrics`)).text();
}
