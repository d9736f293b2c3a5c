import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { SharedUserRateLimiter } from '../../src/modules/fairness/shared-rate-limiter.js';
import { PaymentsService } from '../../src/modules/pis/payments.service.js';
import { addDays, utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { sandboxLogin } from '../support/bank-login.js';
import { freePort, startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient } from '../support/database.js';
import { isUp, runBuilt, stopProcess, waitFor, type RunningProcess } from '../support/process.js';
import { paymentBody } from '../support/payment-fixtures.js';
import { admin, bankEnv, connectUser, startBankWorld, startSandbox, type BankWorld, type Connected } from '../support/bank-world.js';
import { auth, bankConsentIdOf, bankRequests, decide, validConsent } from '../ais/support.js';
import { scrape } from '../scheduler/support.js';

/*
 * Fairness and deadlines on bank calls, measured against the sandbox with a slow bank: identical
 * concurrent reads share one bank call, one user's burst never delays another user's read, no
 * request outlives its deadline by more than a second, status requests keep to one per second per
 * resource on every path and replica, and the per-user API limit answers 429 before the bank is
 * touched. The figures are printed (FAIRNESS_REPORT=1) for the record.
 */

const BANK_LATENCY_MS = 2000;
const DEADLINE_MS = 5000;

interface Timed {
  status: number;
  ms: number;
}

async function timedGet(url: string, token: string): Promise<Timed> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, ms: Math.round(performance.now() - started) };
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function report(what: string, figures: Record<string, unknown>): void {
  if (process.env.FAIRNESS_REPORT === '1') process.stdout.write(`[fairness] ${what}: ${JSON.stringify(figures)}\n`);
}

async function accountReadsAtBank(world: BankWorld, bankConsentId: string, afterSeq: number): Promise<number> {
  return (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'accounts' })).filter((r) => r.seq > afterSeq && r.consentId === bankConsentId)
    .length;
}

async function lastSeq(world: BankWorld): Promise<number> {
  return Math.max(0, ...(await bankRequests(world.sandbox.httpUrl)).map((r) => r.seq));
}

describe('fairness under a slow bank', () => {
  let world: BankWorld;
  let bff: RunningProcess;
  let alice: Connected;
  let bob: Connected;
  let aliceConsent: string;
  let bobConsent: string;

  beforeAll(async () => {
    // The BFF in its own process, as it runs in production: the test's own load (1,000 requests
    // made here) and the sandbox do not share its event loop.
    const sandbox = await startSandbox();
    const db = await createTestDatabase();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    bff = runBuilt('dist/src/main.js', {
      ...bankEnv(sandbox),
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      LOG_LEVEL: 'warn',
      SCHEDULER_ENABLED: 'false',
      API_BANK_DEADLINE_MS: String(DEADLINE_MS),
      BANK_CALLS_PER_USER: '2',
      BANK_CALLS_PER_CONNECTION: '2',
      RATE_LIMIT_PER_USER: '100000',
    });
    await waitFor(() => isUp(`${url}/health/ready`), 30_000, 'the BFF');
    world = {
      sandbox,
      bff: { url, db } as TestBff,
      close: async () => {
        await stopProcess(bff);
        await db.drop();
        await sandbox.close();
      },
    };
    alice = await connectUser(world.bff.url, 'alice', 'flowe');
    bob = await connectUser(world.bff.url, 'bob', 'flowe');
    aliceConsent = await validConsent(world, alice);
    bobConsent = await validConsent(world, bob);
    // Stored copies first: the burst below is all `?refresh=true`.
    for (const [c, id] of [
      [alice, aliceConsent],
      [bob, bobConsent],
    ] as const)
      await request(world.bff.url).get(`/api/v1/consents/${id}/accounts`).set(auth(c.token)).expect(200);
  }, 60_000);
  afterAll(async () => {
    await world.close();
  });
  afterEach(async () => {
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('1,000 concurrent refreshes by one user make a handful of bank calls; another user is answered within the bank latency plus a margin', async () => {
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', latencyMs: BANK_LATENCY_MS });
    const seq = await lastSeq(world);
    const started = performance.now();
    const burst = Promise.all(
      Array.from({ length: 1000 }, () => timedGet(`${world.bff.url}/api/v1/consents/${aliceConsent}/accounts?refresh=true`, alice.token)),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    const other = await timedGet(`${world.bff.url}/api/v1/consents/${bobConsent}/accounts?refresh=true`, bob.token);
    const answers = await burst;
    const wallMs = Math.round(performance.now() - started);

    const aliceCalls = await accountReadsAtBank(world, await bankConsentIdOf(world.bff.db, aliceConsent), seq);
    const bobCalls = await accountReadsAtBank(world, await bankConsentIdOf(world.bff.db, bobConsent), seq);
    const ms = answers.map((a) => a.ms);
    report('burst', {
      requests: answers.length,
      statuses: Object.fromEntries([...new Set(answers.map((a) => a.status))].map((s) => [s, answers.filter((a) => a.status === s).length])),
      bankCallsForTheBurst: aliceCalls,
      burstMs: { p50: percentile(ms, 50), p99: percentile(ms, 99), max: Math.max(...ms) },
      otherUserMs: other.ms,
      bankLatencyMs: BANK_LATENCY_MS,
      wallMs,
    });
    // Answered, or ended at the deadline when this busy process could not even read a request in time.
    expect(answers.filter((a) => a.status !== 200 && a.status !== 504)).toEqual([]);
    expect(answers.filter((a) => a.status === 200).length).toBeGreaterThanOrEqual(900);
    expect(aliceCalls).toBeGreaterThanOrEqual(1);
    expect(aliceCalls).toBeLessThanOrEqual(3);
    expect(other.status).toBe(200);
    expect(bobCalls).toBe(1);
    // Not queued behind alice's burst: without fair shares her uncoalesced calls would hold every socket
    // for ~1000/32 × 2 s ≈ 60 s. The bound sits far below that and far above what a 2-core machine
    // busy with 1,000 requests in this process alongside other test files needs (CPU time, not bank
    // time): it asserts behaviour, not speed. The report shows the real figure.
    expect(other.ms).toBeLessThan(BANK_LATENCY_MS + 18_000);
    // The server ends a request at its deadline with 504 (the next test holds it to deadline + 1 s).
    // Times measured here include this process's own queueing of 1,000 requests, so they are
    // reported, not asserted.
    expect(await scrape(world.bff.url)).toMatch(/^api_requests_coalesced_total\{[^}]*resource="accounts"[^}]*\} [1-9]\d*/m);
  }, 60_000);

  it('ends a request at its deadline, however slow the bank', async () => {
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', latencyMs: DEADLINE_MS + 4000 });
    const res = await timedGet(`${world.bff.url}/api/v1/consents/${aliceConsent}/accounts?refresh=true`, alice.token);
    report('deadline', { status: res.status, ms: res.ms, deadlineMs: DEADLINE_MS });
    expect(res.status).toBe(504);
    expect(res.ms).toBeGreaterThanOrEqual(DEADLINE_MS - 100);
    expect(res.ms).toBeLessThan(DEADLINE_MS + 1000);
  }, 30_000);

  it("queues one user's distinct bank calls behind their share, then answers 429; other users are not held", async () => {
    // Slow transactions: alice's different reads need a slot each (2 per user), the third and later wait.
    const accounts = await request(world.bff.url).get(`/api/v1/consents/${aliceConsent}/accounts`).set(auth(alice.token)).expect(200);
    const accountId = accounts.body.accounts[0].id as string;
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'transactions', latencyMs: DEADLINE_MS + 2000 });
    const seq = await lastSeq(world);
    const reads = Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        request(world.bff.url)
          .get(`/api/v1/consents/${aliceConsent}/accounts/${accountId}/transactions?refresh=true&dateFrom=${addDays(utcDate(), -10 - i)}`)
          .set(auth(alice.token)),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const other = await timedGet(`${world.bff.url}/api/v1/consents/${bobConsent}/accounts?refresh=true`, bob.token);
    const answers = await reads;
    report('shares', { alice: answers.map((a) => [a.status, a.body.code]), otherUser: other });
    expect(other.status).toBe(200);
    // Held behind alice's slow reads, bob would wait for her deadline (5 s); CPU on a busy machine is not that.
    expect(other.ms).toBeLessThan(DEADLINE_MS - 1000);
    // Only two of alice's reads ever reached the bank (her share); the others waited and were refused
    // (429), or got a slot when no time was left and were answered 504 without a bank call.
    const atBank = (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'transactions' })).filter((r) => r.seq > seq);
    expect(atBank).toHaveLength(2);
    expect(answers.every((a) => a.status === 504 || a.status === 429)).toBe(true);
    const refused = answers.filter((a) => a.status === 429);
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const res of refused) {
      expect(res.body).toMatchObject({ code: 'rate_limited', aspspId: 'flowe' });
      expect(res.headers['retry-after']).toBe('1');
    }
    expect(await scrape(world.bff.url)).toMatch(/^bank_calls_shed_total\{[^}]*aspsp="flowe"[^}]*limit="(user|connection)"[^}]*\} [1-9]/m);
  }, 30_000);
});

describe('status requests: coalesced, and one per second per resource on every path and replica', () => {
  let world: BankWorld;
  let replica: TestBff;
  let alice: Connected;
  /** Alice's demo token on the replica (each app signs its own). */
  let aliceOnReplica: string;

  beforeAll(async () => {
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
    replica = await startTestBff({ ...bankEnv(world.sandbox), SCHEDULER_ENABLED: 'false' }, { db: world.bff.db });
    alice = await connectUser(world.bff.url, 'alice', 'flowe');
    aliceOnReplica = await sandboxLogin(replica.url, 'alice');
  }, 60_000);
  afterAll(async () => {
    await replica.close();
    await world.close();
  });

  async function newPayment(): Promise<{ id: string; bankId: string }> {
    const res = await request(world.bff.url)
      .post(`/api/v1/connections/${alice.connectionId}/payments`)
      .set(auth(alice.token))
      .set('Idempotency-Key', randomUUID())
      .send(paymentBody());
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const bankId = await withClient(
      world.bff.db.url,
      async (c) => (await c.query('SELECT bank_payment_id FROM payments WHERE id = $1', [id])).rows[0].bank_payment_id as string,
    );
    return { id, bankId };
  }

  const statusCalls = async (seq: number) =>
    (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'payment-status' })).filter((r) => r.seq > seq);
  const refresh = (bff: TestBff, id: string) =>
    request(bff.url)
      .get(`/api/v1/payments/${id}?refresh=true`)
      .set(auth(bff === replica ? aliceOnReplica : alice.token));
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('10 concurrent GET /payments/{id}?refresh=true make one status call', async () => {
    const { id } = await newPayment();
    await wait(1200); // the initiation is not a status call, but keep clear of any earlier one
    const seq = await lastSeq(world);
    const answers = await Promise.all(Array.from({ length: 10 }, () => refresh(world.bff, id)));
    expect(answers.map((a) => a.status)).toEqual(Array.from({ length: 10 }, () => 200));
    const calls = await statusCalls(seq);
    report('payment-status', { requests: 10, statusCalls: calls.length });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.status).toBe(200);
  });

  it('a refresh within a second of the last status request, on another replica or by the scheduler, serves the stored status', async () => {
    const { id, bankId } = await newPayment();
    await wait(1200);
    const seq = await lastSeq(world);
    await refresh(world.bff, id).expect(200);
    await refresh(replica, id).expect(200); // another replica, same second
    await world.bff.app.get(PaymentsService).pollStatus(id); // the scheduler's poll, same second
    expect(await statusCalls(seq)).toHaveLength(1);
    await wait(1200);
    await decide(world.sandbox.httpUrl, 'payment', bankId, 'approve');
    const later = await refresh(replica, id).expect(200);
    expect(later.body.status).toBe('ACSP');
    const calls = await statusCalls(seq);
    expect(calls).toHaveLength(2);
    // Never two within a second, and never refused by the bank for asking too often.
    expect(calls.every((c) => c.status === 200)).toBe(true);
    expect(await scrape(world.bff.url)).toMatch(/^bank_status_reads_deferred_total\{[^}]*aspsp="flowe"[^}]*\} [1-9]/m);
  });
});

describe('per-user API rate limit', () => {
  it('answers 429 problem+json with Retry-After once a user is over the limit, before the bank is touched; other users go on', async () => {
    const world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false', RATE_LIMIT_PER_USER: '6', RATE_LIMIT_WINDOW_SECONDS: '60' } });
    try {
      const alice = await connectUser(world.bff.url, 'alice', 'flowe');
      const bob = await connectUser(world.bff.url, 'bob', 'flowe');
      const consentId = await validConsent(world, alice);
      // 3 requests so far (the connection, the consent's creation and its refresh), then 3 reads: 6.
      for (let i = 0; i < 3; i++) await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200);
      const seq = await lastSeq(world);
      const limited = await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(alice.token));
      expect(limited.status).toBe(429);
      expect(limited.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(limited.body).toMatchObject({ code: 'rate_limited' });
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
      expect((await bankRequests(world.sandbox.httpUrl)).filter((r) => r.seq > seq)).toEqual([]); // nothing reached the bank
      await request(world.bff.url).get('/api/v1/connections').set(auth(bob.token)).expect(200);
    } finally {
      await world.close();
    }
  }, 60_000);

  it('holds across replicas with the PostgreSQL store, without a database round trip per request', async () => {
    const env = {
      SCHEDULER_ENABLED: 'false',
      RATE_LIMIT_PER_USER: '10',
      RATE_LIMIT_WINDOW_SECONDS: '600',
      RATE_LIMIT_STORE: 'postgres',
      RATE_LIMIT_SYNC_MS: '600000',
    };
    const world = await startBankWorld({ env });
    const replica = await startTestBff({ ...bankEnv(world.sandbox), ...env }, { db: world.bff.db });
    try {
      const alice = await connectUser(world.bff.url, 'alice', 'flowe'); // 1 request on the first replica
      const tokens = new Map([
        [world.bff, alice.token],
        [replica, await sandboxLogin(replica.url, 'alice')],
      ]);
      const list = (bff: TestBff) =>
        request(bff.url)
          .get('/api/v1/connections')
          .set(auth(tokens.get(bff)!));
      for (let i = 0; i < 6; i++) await list(world.bff).expect(200); // 7 on the first replica
      await list(replica).expect(200); // 1 on the second
      await world.bff.app.get(SharedUserRateLimiter).sync();
      await replica.app.get(SharedUserRateLimiter).sync();
      const queries = async () => Number(/^db_queries_total\{[^}]*\} (\d+)/m.exec(await scrape(replica.url))?.[1] ?? 0);
      // What a scrape itself costs (gauges read from the database), measured with nothing in between.
      const scrapeCost = -(await queries()) + (await queries());
      const queriesBefore = await queries();
      // 8 counted together: the second replica admits 2 more, then refuses.
      const second = [];
      for (let i = 0; i < 4; i++) second.push((await list(replica)).status);
      expect(second).toEqual([200, 200, 429, 429]);
      // The four requests cost the replica one query per admitted request (listing connections) and
      // none for the limit; the only other queries are the metrics scrape's own.
      const queriesAfter = await queries();
      report('shared-limit', { replicaQueriesFor4Requests: queriesAfter - queriesBefore - scrapeCost });
      expect(queriesAfter - queriesBefore - scrapeCost).toBeLessThanOrEqual(2);
      await replica.app.get(SharedUserRateLimiter).sync();
      await world.bff.app.get(SharedUserRateLimiter).sync();
      expect((await list(world.bff)).status).toBe(429);
    } finally {
      await replica.close();
      await world.close();
    }
  }, 60_000);
});
