import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { freePort, startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { runBuilt, type RunningProcess } from '../support/process.js';
import { admin, bankEnv, startSandbox } from '../support/bank-world.js';
import { ALICE_FLOWE_IBAN, BOB_FLOWE_IBAN } from './bank-support.js';
import { FAST_SCHEDULER, pollRows, until } from './support.js';

// The built service (`npm test` builds first), killed with SIGKILL in the middle of a poll.
const MAIN = 'dist/src/main.js';
const LEASE_SECONDS = 3;

describe('a scheduler process killed mid-poll (kill -9)', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  const apps: TestBff[] = [];
  let child: RunningProcess | undefined;

  beforeAll(async () => {
    // ACSC a second after approval, without waiting for a cut-off: this test is about the crash.
    sandbox = await startSandbox({ settlementSeconds: 1, modes: { flowe: { cutoffTimes: [] } } });
    db = await createTestDatabase();
  });
  afterAll(async () => {
    child?.child.kill('SIGKILL');
    await Promise.all(apps.map((app) => app.close()));
    await db.drop();
    await sandbox.close();
  });

  it('loses nothing: once its lease ends another replica polls the payment to its final status', async () => {
    // Replica "api" serves the frontend only; it creates the payment and its poll item.
    const api = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false' }, { db });
    apps.push(api);
    const token = await sandboxLogin(api.url, 'alice');
    const flow = await startConnect(api.url, token, 'flowe', { username: 'alice' });
    expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
    const created = await fetch(`${api.url}/api/v1/connections/${flow.connectionId}/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        debtorAccount: { iban: ALICE_FLOWE_IBAN },
        creditorAccount: { iban: BOB_FLOWE_IBAN },
        creditorName: 'Bob Bianchi',
        instructedAmount: { currency: 'EUR', amount: '7.00' },
      }),
    });
    const payment = (await created.json()) as { id: string; bankPaymentId: string; status: string };
    expect(payment.status).toBe('RCVD');

    // The bank is slow, so the scheduler process is caught mid-poll.
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payment-status', latencyMs: 3000 });
    child = runBuilt(MAIN, {
      ...bankEnv(sandbox),
      DATABASE_URL: db.url,
      PORT: String(await freePort()),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      SCHEDULER_TICK_MS: '50',
      SCHEDULER_LEASE_SECONDS: String(LEASE_SECONDS),
    });
    const pid = child.child.pid!;
    const inFlight = async () => {
      const { requests } = (await (await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=payment-status`)).json()) as {
        requests: { resourceId: string; status: number }[];
      };
      return requests.some((r) => r.resourceId === payment.bankPaymentId && r.status === 0);
    };
    await until('the scheduler process to be waiting on the bank', inFlight, 30_000, 100);
    const [leased] = await pollRows(db.url, 'payment');
    expect(leased.leased_by).toContain(`:${pid}:`);

    child.child.kill('SIGKILL');
    await child.exited;
    const killed = Date.now();
    await admin(sandbox.httpUrl, 'faults', undefined, 'DELETE');

    // A replica that was running all along takes over only when the dead one's lease has ended.
    const survivor = await startTestBff({ ...bankEnv(sandbox), ...FAST_SCHEDULER }, { db });
    apps.push(survivor);
    const taken = await until(
      'the survivor to poll the item',
      async () => (await pollRows(db.url, 'payment')).find((r) => r.attempts >= 1),
      (LEASE_SECONDS + 5) * 1000,
    );
    expect(taken.leased_by === null || !taken.leased_by.includes(`:${pid}:`)).toBe(true);
    expect(taken.last_polled_at!.getTime()).toBeGreaterThanOrEqual(leased.lease_until!.getTime());
    expect(Date.now() - killed).toBeLessThan((LEASE_SECONDS + 5) * 1000);

    const res = await fetch(`${sandbox.httpUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'payment', id: payment.bankPaymentId, decision: 'approve' }),
    });
    expect(res.status).toBe(200);
    const survivorToken = await sandboxLogin(survivor.url, 'alice');
    const settled = async () => {
      const res = await fetch(`${survivor.url}/api/v1/payments/${payment.id}`, { headers: { authorization: `Bearer ${survivorToken}` } });
      return ((await res.json()) as { status: string }).status === 'ACSC';
    };
    await until('the payment to settle', settled, 8000);
    // Settled, and still watched (clearing may reject it later) by the surviving replica alone.
    const [watched] = await pollRows(db.url, 'payment');
    expect(watched.last_status).toBe('ACSC');
    expect(watched.leased_by === null || !watched.leased_by.includes(`:${pid}:`)).toBe(true);
  }, 60_000);
});
