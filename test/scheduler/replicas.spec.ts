import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { bankEnv, startSandbox } from '../support/bank-world.js';
import { bankStatusHandler, connectFlowe, initiateAtBank } from './bank-support.js';
import { byResource, FAST_SCHEDULER, pollRows, register, schedule, sleep, until, type PollCall } from './support.js';

const PAYMENTS = 500;
/** Each payment is polled about twice within a few seconds on an idle machine; a busy one gets longer. */
const RUN_TIMEOUT_MS = 60_000;

interface LoggedRequest {
  resourceId?: string;
  timestampMs: number;
  durationMs?: number;
  status: number;
}

describe('two scheduler replicas on one database, 500 open payments at the sandbox', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  const apps: TestBff[] = [];

  beforeAll(async () => {
    sandbox = await startSandbox();
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++) apps.push(await startTestBff({ ...bankEnv(sandbox), ...FAST_SCHEDULER }, { db }));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db.drop();
    await sandbox.close();
  });

  it(
    'polls every payment, none faster than once a second, never two polls of one payment at a time, losing none',
    async () => {
      const [a, b] = apps;
      const { accessToken, connectionId } = await connectFlowe(a, 'alice');
      const bankIds = new Map<string, string>();
      for (let start = 0; start < PAYMENTS; start += 25) {
        const chunk = await Promise.all(Array.from({ length: Math.min(25, PAYMENTS - start) }, (_, i) => initiateAtBank(a, accessToken, start + i)));
        for (const bankId of chunk) bankIds.set(randomUUID(), bankId);
      }
      const log: PollCall[] = [];
      register(a, 'payment', bankStatusHandler(a, { app: 'a', log, accessToken, bankIds, userId: 'alice', connectionId }));
      register(b, 'payment', bankStatusHandler(b, { app: 'b', log, accessToken, bankIds, userId: 'alice', connectionId }));
      await schedule(
        a,
        [...bankIds.keys()].map((resourceId) => ({ kind: 'payment' as const, resourceId })),
      );

      const statusRequests = async () =>
        ((await (await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=payment-status`)).json()) as { requests: LoggedRequest[] }).requests;
      // Run until every payment was polled and they were polled repeatedly (how long that takes
      // depends on the machine's load), then a little longer so the replicas keep competing.
      await until(
        'every payment polled, most of them twice',
        async () => {
          const seen = await statusRequests();
          return seen.length > PAYMENTS * 1.5 && new Set(seen.map((r) => r.resourceId)).size === PAYMENTS;
        },
        RUN_TIMEOUT_MS,
        250,
      );
      await sleep(500);
      // Stop both replicas (in-flight polls finish and write their outcome) before judging.
      await Promise.all(apps.splice(0).map((app) => app.close()));

      const requests = await statusRequests();
      const perPayment = new Map<string, LoggedRequest[]>();
      for (const r of requests) perPayment.set(r.resourceId!, [...(perPayment.get(r.resourceId!) ?? []), r]);

      expect(perPayment.size).toBe(PAYMENTS); // every payment was polled
      expect(requests.every((r) => r.status === 200)).toBe(true);
      let tightest = Infinity;
      for (const polls of perPayment.values()) {
        polls.sort((x, y) => x.timestampMs - y.timestampMs);
        for (let i = 1; i < polls.length; i++) {
          tightest = Math.min(tightest, polls[i].timestampMs - polls[i - 1].timestampMs);
          expect(polls[i].timestampMs).toBeGreaterThanOrEqual(polls[i - 1].timestampMs + (polls[i - 1].durationMs ?? 0)); // never concurrent
        }
      }
      expect(tightest).toBeGreaterThanOrEqual(1000); // no payment polled faster than once a second
      expect(requests.length).toBeGreaterThan(PAYMENTS * 1.5); // and they were polled repeatedly, not once

      // The same seen from the handlers: both replicas worked, and their polls of one payment never overlapped.
      expect(new Set(log.map((c) => c.app))).toEqual(new Set(['a', 'b']));
      for (const calls of byResource(log).values()) {
        calls.sort((x, y) => x.start - y.start);
        for (let i = 1; i < calls.length; i++) expect(calls[i].start).toBeGreaterThanOrEqual(calls[i - 1].end);
      }

      // Nothing lost: every item is still queued, none left leased by the stopped replicas.
      const rows = await pollRows(db.url, 'payment');
      expect(rows).toHaveLength(PAYMENTS);
      expect(rows.filter((r) => r.leased_by !== null)).toEqual([]);
      expect(rows.every((r) => r.attempts >= 1 && r.last_status === 'RCVD')).toBe(true);
    },
    2 * RUN_TIMEOUT_MS,
  );
});
