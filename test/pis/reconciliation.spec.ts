import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { PaymentsService } from '../../src/modules/pis/payments.service.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { admin, startOfCutoffCycle, startSandbox } from '../support/bank-world.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { connect, decide, getPayment, IBAN, initiationsAtBank, pay, paymentBody, pisEnv, userToken } from './support.js';

/**
 * Payments whose initiation outcome is unknown (the bank's answer was lost) are reconciled: by the
 * bank's status when its payment id is known, otherwise on the debtor account's statement, found by
 * the end-to-end id the BFF always sends. The sandbox's "process, then never answer" fault makes a
 * payment that exists at the bank while the BFF saw a timeout; "hang before handling" makes one
 * that never reached it.
 */
describe('payments with an unknown outcome are reconciled', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let aliceFlowe: string;
  let consentId: string;
  let accountId: string;

  const db = <T>(sql: string, params: unknown[] = []) => withClient(bff.db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const poll = (id: string) => bff.app.get(PaymentsService).pollStatus(id);
  /** The user reads the account's transactions from the bank (an attended refresh, as the app does). */
  const readStatement = () =>
    request(bff.url).get(`/api/v1/consents/${consentId}/accounts/${accountId}/transactions?refresh=true`).set('Authorization', `Bearer ${alice}`).expect(200);
  const unreconciled = async () => {
    const text = await (await fetch(`${bff.url}/metrics`)).text();
    return [...text.matchAll(/^payments_unreconciled\{([^}]*)\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[2]), 0);
  };
  /** A payment whose initiation timed out: `fault` decides whether the bank made it. */
  const lostAnswer = async (fault: Record<string, unknown>, amount: string, token = alice, connectionId = aliceFlowe) => {
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', times: 1, ...fault });
    const res = await pay(bff, token, connectionId, paymentBody({ instructedAmount: { amount, currency: 'EUR' } })).expect(504);
    expect(res.body).toMatchObject({ code: 'bank_timeout', paymentStatus: 'unknown' });
    return res.body.paymentId as string;
  };
  const pendingAtBank = async (amount: string) => {
    const { payments } = (await (await fetch(`${sandbox.httpUrl}/psu/api/pending?username=alice`)).json()) as {
      payments: { id: string; amount: { amount: string } }[];
    };
    return payments.filter((p) => p.amount.amount === amount).map((p) => p.id);
  };
  const events = (paymentId: string) =>
    db<{ payload: Record<string, unknown> }>(`SELECT payload FROM outbox_events WHERE type = 'payment.status' AND payload->>'paymentId' = $1 ORDER BY id`, [
      paymentId,
    ]);

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(pisEnv(sandbox, { FLOWE_TIMEOUT_MS: '1200' }));
    alice = await userToken(bff, 'alice');
    aliceFlowe = await connect(bff, alice, 'alice', 'flowe');
    // Account information for the same bank: the statement reconciliation reads.
    const consent = await request(bff.url).post(`/api/v1/connections/${aliceFlowe}/consents`).set('Authorization', `Bearer ${alice}`).send({}).expect(201);
    consentId = consent.body.id;
    const [bankConsent] = await db<{ bank_consent_id: string }>('SELECT bank_consent_id FROM ais_consents WHERE id = $1', [consentId]);
    const approved = await fetch(`${sandbox.httpUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'consent', id: bankConsent.bank_consent_id, decision: 'approve' }),
    });
    if (approved.status !== 200) throw new Error(`the consent decision answered ${approved.status}`);
    await request(bff.url).get(`/api/v1/consents/${consentId}?refresh=true`).set('Authorization', `Bearer ${alice}`).expect(200);
    const accounts = await request(bff.url).get(`/api/v1/consents/${consentId}/accounts`).set('Authorization', `Bearer ${alice}`).expect(200);
    accountId = accounts.body.accounts.find((a: { iban: string }) => a.iban === IBAN.aliceFlowe).id;
  });
  afterEach(() => admin(sandbox.httpUrl, 'faults', undefined, 'DELETE'));
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  it('finds a payment the bank made while its answer was lost on the statement, and follows it there to ACSC', async () => {
    const id = await lostAnswer({ dropResponse: 'hang' }, '31.40');
    const [bankId] = await pendingAtBank('31.40');
    expect(bankId).toBeDefined();
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(1);
    expect((await getPayment(bff, alice, id).expect(200)).body).toMatchObject({ status: 'unknown', reconciliation: { outcome: 'searching' } });
    expect(await unreconciled()).toBeGreaterThanOrEqual(1);

    // The PSU approves it in the bank app; until a statement is read, nothing is known.
    await startOfCutoffCycle(sandbox.httpUrl);
    await decide(sandbox.httpUrl, bankId, 'approve');
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'unknown' });
    await readStatement();
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'ACSP' });
    const found = (await getPayment(bff, alice, id).expect(200)).body;
    expect(found).toMatchObject({
      status: 'ACSP',
      reconciliation: { method: 'statement', outcome: 'found', reconciledAt: expect.any(String), startedAt: expect.any(String) },
    });
    expect(found.bankPaymentId).toBeUndefined();
    expect(found.statusHistory.map((h: { status: string }) => h.status)).toEqual(['unknown', 'ACSP']);
    expect((await events(id)).map((e) => [e.payload.status, e.payload.reconciliationOutcome])).toEqual([
      ['unknown', undefined],
      ['ACSP', 'found'],
    ]);

    // Booked at the next cut-off: the statement says so, and so does the payment.
    await admin(sandbox.httpUrl, 'clock', { advanceSeconds: sandbox.config.settlementSeconds + 61 });
    await readStatement();
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'ACSC' });
    expect((await getPayment(bff, alice, id).expect(200)).body).toMatchObject({ status: 'ACSC', statusTracking: { active: true } });
    // Never sent to the bank again.
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(1);
  });

  it('fails a payment the bank never got once a statement read after the window does not show it', async () => {
    const id = await lostAnswer({ hang: true }, '7.10');
    expect(await pendingAtBank('7.10')).toEqual([]);
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'unknown' });

    // Three days on (PIS_RECONCILE_WINDOW_SECONDS), but the last statement was read before they ended: still searching.
    await db("UPDATE payments SET created_at = now() - interval '3 days 1 minute' WHERE id = $1", [id]);
    await db("UPDATE ais_accounts SET transactions_fetched_at = now() - interval '2 minutes' WHERE iban = $1", [IBAN.aliceFlowe]);
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'unknown' });
    expect((await getPayment(bff, alice, id).expect(200)).body.reconciliation).toMatchObject({ outcome: 'searching', checkedAt: expect.any(String) });

    await readStatement();
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'failed' });
    const failed = (await getPayment(bff, alice, id).expect(200)).body;
    expect(failed).toMatchObject({
      status: 'failed',
      failureCode: 'not_found_at_bank',
      reconciliation: { method: 'statement', outcome: 'not_found_at_bank', reconciledAt: expect.any(String) },
      statusTracking: { active: false, endReason: 'final_status' },
    });
    expect((await events(id)).at(-1)!.payload).toMatchObject({ status: 'failed', reconciliationOutcome: 'not_found_at_bank' });
    expect(await db('SELECT 1 FROM poll_items WHERE resource_id = $1', [id])).toHaveLength(0);
  });

  it('says when it cannot look (no account information for the debtor account), and gives up after the window', async () => {
    const bob = await userToken(bff, 'bob');
    const bobPisOnly = await connect(bff, bob, 'bob', 'flowe', ['pis']);
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', times: 1, hang: true });
    const res = await pay(bff, bob, bobPisOnly, paymentBody({ debtorAccount: { iban: IBAN.bobFlowe }, creditorAccount: { iban: IBAN.aliceFlowe } })).expect(
      504,
    );
    const id = res.body.paymentId as string;
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'unknown' });
    expect((await getPayment(bff, bob, id).expect(200)).body.reconciliation).toMatchObject({ outcome: 'no_account_access' });

    await db("UPDATE payments SET created_at = now() - interval '3 days 1 second' WHERE id = $1", [id]);
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'unknown' });
    expect((await getPayment(bff, bob, id).expect(200)).body).toMatchObject({
      status: 'unknown',
      reconciliation: { outcome: 'no_account_access' },
      statusTracking: { active: false, endReason: 'not_reconcilable' },
    });
    expect((await events(id)).at(-1)!.payload).toMatchObject({ status: 'unknown', trackingEndReason: 'not_reconcilable' });
    expect(await (await fetch(`${bff.url}/metrics`)).text()).toMatch(/^payments_unreconciled\{[^}]*outcome="no_account_access"[^}]*\} [1-9]\d*$/m);
  });

  it('asks the bank when the payment id is known', async () => {
    const created = (await pay(bff, alice, aliceFlowe, paymentBody({ instructedAmount: { amount: '2.20', currency: 'EUR' } }), randomUUID()).expect(201)).body;
    // As if a late answer had brought the bank's id to a payment already marked unknown.
    await db("UPDATE payments SET status = 'unknown', reconciliation_started_at = now(), reconciliation_outcome = 'searching' WHERE id = $1", [created.id]);
    await decide(sandbox.httpUrl, created.bankPaymentId, 'approve');
    await expect(poll(created.id)).resolves.toMatchObject({ final: false, status: 'ACSP' });
    expect((await getPayment(bff, alice, created.id).expect(200)).body).toMatchObject({
      status: 'ACSP',
      reconciliation: { method: 'bank_status', outcome: 'found' },
    });
  });
});
