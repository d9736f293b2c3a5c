import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { admin, bankEnv, startSandbox } from '../support/bank-world.js';
import { SseClient, type ReceivedEvent } from '../events/sse-client.js';
import { ALICE_FLOWE_IBAN, BOB_FLOWE_IBAN } from './bank-support.js';
import { FAST_SCHEDULER, pollRows, until } from './support.js';

/** A settled payment is asked about this often (production: hourly) while its window runs. */
const SETTLED_POLL_SECONDS = 2;

/**
 * The real pollers (AIS and PIS services behind the scheduler), end to end: the frontend creates
 * a consent or a payment, the PSU decides in the sandbox's bank app, and nothing but the
 * scheduler brings the outcome back — to the API and, within 2 s, to the user's event stream.
 */
describe('scheduler with the AIS and PIS services: from the PSU decision to the event stream', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  let bff: TestBff;
  let token: string;
  let connectionId: string;
  let events: SseClient;

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${bff.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const decide = async (kind: 'consent' | 'payment', id: string, decision: 'approve' | 'reject') => {
    const res = await fetch(`${sandbox.httpUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind, id, decision }),
    });
    expect(res.status).toBe(200);
    return Date.now();
  };
  const pendingConsentAtBank = async () => {
    const res = await fetch(`${sandbox.httpUrl}/psu/api/pending?username=alice`);
    const { consents } = (await res.json()) as { consents: { id: string; createdAt: string }[] };
    return consents.sort((x, y) => y.createdAt.localeCompare(x.createdAt))[0].id;
  };
  const statusEvent = (type: string, key: string, id: string, status: string) => (e: ReceivedEvent) =>
    e.event === type && events.json(e)[key] === id && events.json(e).status === status;

  beforeAll(async () => {
    sandbox = await startSandbox({ settlementSeconds: 3 });
    db = await createTestDatabase();
    bff = await startTestBff({ ...bankEnv(sandbox), ...FAST_SCHEDULER, PIS_SETTLED_POLL_SECONDS: String(SETTLED_POLL_SECONDS) }, { db });
    token = await sandboxLogin(bff.url, 'alice');
    const flow = await startConnect(bff.url, token, 'flowe', { username: 'alice' });
    const outcome = await finishConnect(flow);
    if (outcome.result !== 'success') throw new Error(`connecting failed: ${JSON.stringify(outcome)}`);
    connectionId = flow.connectionId;
    events = await SseClient.open(`${bff.url}/api/v1/events`, token);
  });
  afterAll(async () => {
    await events.close();
    await bff.close();
    await db.drop();
    await sandbox.close();
  });

  it('an approved payment reaches ACSC at the next cut-off and stays watched; a clearing reject after ACSC reaches the stream as RJCT', async () => {
    const created = await api(
      'POST',
      `/connections/${connectionId}/payments`,
      {
        debtorAccount: { iban: ALICE_FLOWE_IBAN },
        creditorAccount: { iban: BOB_FLOWE_IBAN },
        creditorName: 'Bob Bianchi',
        instructedAmount: { currency: 'EUR', amount: '12.50' },
      },
      { 'idempotency-key': randomUUID() },
    );
    expect(created).toMatchObject({ status: 201, body: { status: 'RCVD', statusTracking: { active: true } } });
    const id = created.body.id as string;
    const bankId = created.body.bankPaymentId as string;
    await until('the first scheduler poll', async () => (await pollRows(db.url, 'payment'))[0]?.attempts >= 1, 3000);

    const approved = await decide('payment', bankId, 'approve');
    const acsp = await events.waitFor('ACSP', statusEvent('payment.status', 'paymentId', id, 'ACSP'), 3000);
    expect(acsp.receivedAt - approved).toBeLessThan(2000);
    // Flowe clears at its cut-offs (every minute of the sandbox clock): move the clock past the next one.
    const moved = Date.now();
    await admin(sandbox.httpUrl, 'clock', { advanceSeconds: 63 });
    const acsc = await events.waitFor('ACSC', statusEvent('payment.status', 'paymentId', id, 'ACSC'), 4000);
    expect(acsc.receivedAt - moved).toBeLessThan(3000);
    const settled = (await api('GET', `/payments/${id}`)).body;
    expect(settled).toMatchObject({ status: 'ACSC', statusTracking: { active: true, until: expect.any(String) } });
    // Watched for the settlement window from acceptance (the default five days), on the slow schedule.
    const acceptedAt = Date.parse((settled.statusHistory as { status: string; at: string }[]).find((h) => h.status === 'ACSP')!.at);
    expect(Date.parse((settled.statusTracking as { until: string }).until) - acceptedAt).toBe(5 * 86_400_000);
    const [item] = await pollRows(db.url, 'payment');
    expect(item).toMatchObject({ resource_id: id, last_status: 'ACSC' });

    // Clearing returns a pac.002 after ACSC: the next slow poll finds RJCT and the stream gets it.
    const rejected = await fetch(`${sandbox.httpUrl}/admin/payments/${bankId}/clearing-reject`, { method: 'POST' });
    expect(rejected.status).toBe(200);
    const rejectedAt = Date.now();
    const rjct = await events.waitFor('RJCT after ACSC', statusEvent('payment.status', 'paymentId', id, 'RJCT'), SETTLED_POLL_SECONDS * 1000 + 4000);
    expect(rjct.receivedAt - rejectedAt).toBeLessThan(SETTLED_POLL_SECONDS * 1000 + 3000);
    const [acspId, acscId, rjctId] = [acsp, acsc, rjct].map((e) => BigInt(e.id!));
    expect(acspId < acscId && acscId < rjctId).toBe(true);
    const final = (await api('GET', `/payments/${id}`)).body;
    expect(final).toMatchObject({ status: 'RJCT', statusTracking: { active: false, endReason: 'final_status' } });
    expect((final.statusHistory as { status: string }[]).map((h) => h.status)).toEqual(['RCVD', 'ACSP', 'ACSC', 'RJCT']);
    await until('polling to stop', async () => (await pollRows(db.url, 'payment')).length === 0, 2000);
  });

  it('an approved consent becomes valid via the scheduler, and is then kept fresh by an unattended refresh item', async () => {
    const created = await api('POST', `/connections/${connectionId}/consents`, {});
    expect(created).toMatchObject({ status: 201, body: { status: 'received' } });
    const id = created.body.id as string;
    const approved = await decide('consent', await pendingConsentAtBank(), 'approve');
    const valid = await events.waitFor('valid', statusEvent('consent.status', 'consentId', id, 'valid'), 3000);
    expect(valid.receivedAt - approved).toBeLessThan(2000);
    expect(events.json(valid)).toMatchObject({ reconsentRequired: false });
    expect((await api('GET', `/consents/${id}`)).body).toMatchObject({ status: 'valid' });
    const kinds = async () => (await pollRows(db.url)).filter((r) => r.resource_id === id).map((r) => r.kind);
    await until('the consent item to give way to an ais-refresh item', async () => JSON.stringify(await kinds()) === '["ais-refresh"]', 3000);

    // The first unattended refresh runs at once, without PSU-IP-Address; the next waits hours, within the budget.
    const refresh = await until(
      'the first unattended refresh',
      async () => (await pollRows(db.url, 'ais-refresh')).find((r) => r.resource_id === id && r.attempts === 1),
      5000,
    );
    expect(refresh.last_status).toBe('refreshed:complete');
    expect(refresh.next_poll_at.getTime() - refresh.last_polled_at!.getTime()).toBeGreaterThanOrEqual(6 * 3600_000 - 1000);
    const reads = ((await (await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=accounts`)).json()) as { requests: { psuIpPresent: boolean }[] })
      .requests;
    expect(reads.length).toBeGreaterThanOrEqual(1);
    expect(reads.every((r) => !r.psuIpPresent)).toBe(true);
  });

  it('a consent the PSU never approves expires at its deadline, with reconsentRequired', async () => {
    const created = await api('POST', `/connections/${connectionId}/consents`, {});
    const id = created.body.id as string;
    // As if SCHEDULER_CONSENT_DEADLINE_SECONDS (15 min) had passed.
    await withClient(db.url, (c) =>
      c.query("UPDATE poll_items SET deadline_at = now() - interval '1 second' WHERE kind = 'consent' AND resource_id = $1", [id]),
    );
    const expired = await events.waitFor('expired', statusEvent('consent.status', 'consentId', id, 'expired'), 4000);
    expect(events.json(expired)).toMatchObject({ reconsentRequired: true });
    expect((await api('GET', `/consents/${id}`)).body).toMatchObject({ status: 'expired', reconsentRequired: true });
    expect((await pollRows(db.url)).some((r) => r.resource_id === id)).toBe(false);
  });

  it('a refused payment ends CANC', async () => {
    const created = await api(
      'POST',
      `/connections/${connectionId}/payments`,
      {
        debtorAccount: { iban: ALICE_FLOWE_IBAN },
        creditorAccount: { iban: BOB_FLOWE_IBAN },
        creditorName: 'Bob Bianchi',
        instructedAmount: { currency: 'EUR', amount: '3.00' },
      },
      { 'idempotency-key': randomUUID() },
    );
    const id = created.body.id as string;
    const refused = await decide('payment', created.body.bankPaymentId as string, 'reject');
    const canc = await events.waitFor('CANC', statusEvent('payment.status', 'paymentId', id, 'CANC'), 3000);
    expect(canc.receivedAt - refused).toBeLessThan(2000);
  });
});
