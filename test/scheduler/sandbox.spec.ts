import { randomUUID } from 'node:crypto';
import { AspspRegistry } from '../../src/aspsp/aspsp.registry.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { admin, bankEnv, startSandbox } from '../support/bank-world.js';
import { SseClient } from '../events/sse-client.js';
import { bankStatusHandler, connectFlowe, initiateAtBank } from './bank-support.js';
import { FAST_SCHEDULER, pollRows, register, schedule, scrape, until, type PollCall } from './support.js';

interface LoggedRequest {
  route: string;
  resourceId?: string;
  timestampMs: number;
  durationMs?: number;
  status: number;
}

async function statusRequests(sandbox: SandboxApp, paymentId?: string): Promise<LoggedRequest[]> {
  const res = await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=payment-status`);
  const { requests } = (await res.json()) as { requests: LoggedRequest[] };
  return requests.filter((r) => !paymentId || r.resourceId === paymentId);
}

async function decide(sandbox: SandboxApp, id: string, decision: 'approve' | 'reject'): Promise<void> {
  const res = await fetch(`${sandbox.httpUrl}/psu/api/decisions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ kind: 'payment', id, decision }),
  });
  expect(res.status).toBe(200);
}

const spacing = (requests: LoggedRequest[]) => requests.slice(1).map((r, i) => r.timestampMs - requests[i].timestampMs);

describe('scheduler against the sandbox bank: approval, SSE, 429 and 5xx', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  let bff: TestBff;
  let accessToken: string;
  let connectionId: string;
  const bankIds = new Map<string, string>();
  const log: PollCall[] = [];

  /** A payment at the bank and its poll item, returned as [local id, bank id]. */
  async function payment(): Promise<[string, string]> {
    const bankId = await initiateAtBank(bff, accessToken);
    const id = randomUUID();
    bankIds.set(id, bankId);
    await schedule(bff, [{ kind: 'payment', resourceId: id }]);
    return [id, bankId];
  }

  beforeAll(async () => {
    // ACSP lasts 3 s before ACSC, with no cut-off to wait for: long enough for the 1 s polls to see it.
    sandbox = await startSandbox({ settlementSeconds: 3, modes: { flowe: { cutoffTimes: [] } } });
    db = await createTestDatabase();
    bff = await startTestBff({ ...bankEnv(sandbox), ...FAST_SCHEDULER }, { db });
    ({ accessToken, connectionId } = await connectFlowe(bff, 'alice'));
    register(bff, 'payment', bankStatusHandler(bff, { app: 'a', log, accessToken, bankIds, userId: 'alice', connectionId }));
  });
  beforeEach(async () => {
    await withClient(db.url, (c) => c.query('DELETE FROM poll_items'));
    await admin(sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });
  afterAll(async () => {
    await bff.close();
    await db.drop();
    await sandbox.close();
  });

  it("brings an approved payment to ACSC through the scheduler alone; the user's SSE stream sees each change within 2 s", async () => {
    const alice = await SseClient.open(`${bff.url}/api/v1/events`, await sandboxLogin(bff.url, 'alice'));
    const bob = await SseClient.open(`${bff.url}/api/v1/events`, await sandboxLogin(bff.url, 'bob'));
    try {
      const [id, bankId] = await payment();
      await until('the first poll', () => log.some((c) => c.resourceId === id), 3000);
      const approved = Date.now();
      await decide(sandbox, bankId, 'approve');
      const acsp = await alice.waitFor('ACSP', (e) => alice.json(e).status === 'ACSP', 3000);
      expect(acsp.receivedAt - approved).toBeLessThan(2000);
      expect(acsp.event).toBe('payment.status');
      expect(alice.json(acsp)).toMatchObject({ paymentId: id });
      const acsc = await alice.waitFor('ACSC', (e) => alice.json(e).status === 'ACSC', 6000);
      expect(acsc.receivedAt - approved).toBeLessThan(3000 + 2000); // settlement + at most 2 s
      await until('the item to be removed', async () => (await pollRows(db.url)).length === 0, 2000);
      const polls = await statusRequests(sandbox, bankId);
      for (const gap of spacing(polls)) expect(gap).toBeGreaterThanOrEqual(1000);
      expect(bob.events).toEqual([]);
    } finally {
      await alice.close();
      await bob.close();
    }
  });

  it('waits out Retry-After after a 429 from the bank before polling again', async () => {
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payment-status', force429: true, retryAfterSeconds: 3, times: 1 });
    const [, bankId] = await payment();
    await until('a poll after the 429', async () => (await pollRows(db.url))[0]?.last_outcome === 'ok', 6000);
    const [limited, next] = await statusRequests(sandbox, bankId);
    expect(limited.status).toBe(429);
    expect(next.status).toBe(200);
    expect(next.timestampMs - limited.timestampMs).toBeGreaterThanOrEqual(3000);
    const [row] = await pollRows(db.url);
    expect(row.failures).toBe(0);
    expect(await scrape(bff.url)).toMatch(/^scheduler_polls_total\{[^}]*aspsp="flowe",kind="payment",outcome="rate_limited"[^}]*\} 1$/m);
  });

  it('backs off with growing, jittered delays while the bank answers 503, then returns to its 1 s rhythm', async () => {
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payment-status', errorRate: 1, errorStatus: 503, times: 2 });
    const [, bankId] = await payment();
    await until('two polls after the failures', async () => (await statusRequests(sandbox, bankId)).filter((r) => r.status === 200).length >= 2, 10_000);
    const requests = (await statusRequests(sandbox, bankId)).slice(0, 4);
    expect(requests.map((r) => r.status)).toEqual([503, 503, 200, 200]);
    const [afterFirst, afterSecond, afterSuccess] = spacing(requests);
    expect(afterFirst).toBeGreaterThanOrEqual(1000); // 1st failure: 1–2 s
    expect(afterSecond).toBeGreaterThanOrEqual(2000); // 2nd failure: 2–4 s
    expect(afterSecond).toBeLessThan(4500);
    expect(afterSuccess).toBeLessThan(2000); // back to one poll a second
  });

  it('exports the circuit state and does not poll a bank whose circuit is open', async () => {
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payment-status', errorRate: 1, errorStatus: 503 });
    const [, bankId] = await payment();
    await until('the first failing poll', async () => (await statusRequests(sandbox, bankId)).length >= 1, 3000);
    // Trip the breaker (5 consecutive failures) the way a burst of failing calls would.
    const api = bff.app.get(AspspRegistry).get('flowe').api;
    for (let i = 0; i < 5; i++)
      await api
        .call({ method: 'GET', operation: 'payment-status', service: 'pis', path: `/payments/sepa-credit-transfers/${bankId}/status`, accessToken })
        .catch(() => undefined);
    expect(await scrape(bff.url)).toMatch(/^bank_circuit_state\{[^}]*aspsp="flowe"[^}]*\} 1$/m);
    expect(await scrape(bff.url)).toMatch(/^bank_circuit_state\{[^}]*aspsp="connectpay"[^}]*\} 0$/m);
    const seen = (await statusRequests(sandbox, bankId)).length;
    await until('a poll refused by the open circuit', async () => (await pollRows(db.url))[0]?.last_outcome === 'unavailable', 6000);
    const [row] = await pollRows(db.url);
    expect(row.next_poll_at.getTime() - row.last_polled_at!.getTime()).toBeGreaterThanOrEqual(10_000);
    expect((await statusRequests(sandbox, bankId)).length).toBe(seen); // the open circuit kept it off the bank
  });
});
