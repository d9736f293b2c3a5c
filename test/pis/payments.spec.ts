import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { PaymentsService } from '../../src/modules/pis/payments.service.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { accessTokenOf, admin, nextStatusWindow, sandboxRequests, startOfCutoffCycle, startSandbox } from '../support/bank-world.js';
import { connect, decide, getPayment, IBAN, initiationsAtBank, pay, paymentBody, userToken, pisEnv } from './support.js';

describe('payments: lifecycle against the sandbox', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let bob: string;
  let aliceFlowe: string;
  let aliceConnectPay: string;
  let bobFlowe: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(pisEnv(sandbox));
    [alice, bob] = await Promise.all([userToken(bff, 'alice'), userToken(bff, 'bob')]);
    [aliceFlowe, aliceConnectPay, bobFlowe] = await Promise.all([
      connect(bff, alice, 'alice', 'flowe'),
      connect(bff, alice, 'alice', 'connectpay'),
      connect(bff, bob, 'bob', 'flowe'),
    ]);
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  // As the scheduler polls: never twice within the banks' one-status-request-per-second window.
  const poll = async (id: string) => {
    await nextStatusWindow();
    return bff.app.get(PaymentsService).pollStatus(id);
  };
  /** Past settlement and the next cut-off (Flowe clears every minute of the sandbox clock). */
  const toNextCutoff = () => admin(sandbox.httpUrl, 'clock', { advanceSeconds: sandbox.config.settlementSeconds + 61 });
  const db = <T>(sql: string, params: unknown[] = []) => withClient(bff.db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const events = (paymentId: string) =>
    db<{ payload: { status: string; scaStatus: string | null; connectionId: string } }>(
      `SELECT payload FROM outbox_events WHERE type = 'payment.status' AND payload->>'paymentId' = $1 ORDER BY id`,
      [paymentId],
    );

  it('initiates a Flowe payment and follows the PSU’s approval: RCVD → ACSP → ACSC, with history, SCA status and outbox events', async () => {
    const res = await pay(bff, alice, aliceFlowe, paymentBody()).expect(201);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.location).toBe(`/api/v1/payments/${res.body.id}`);
    expect(res.body).toMatchObject({
      status: 'RCVD',
      scaStatus: 'received',
      connectionId: aliceFlowe,
      aspspId: 'flowe',
      debtorAccount: { iban: IBAN.aliceFlowe },
      creditorAccount: { iban: IBAN.bobFlowe },
      creditorName: 'Bob Bianchi',
      instructedAmount: { amount: '12.50', currency: 'EUR' },
      chargeBearer: 'DEBT',
      endToEndIdentification: res.body.id.replace(/-/g, ''),
    });
    expect(res.body.bankPaymentId).toMatch(/^PI/);
    const { id, bankPaymentId } = res.body;

    // The bank received it with the PSU's IP (mandatory on initiation) and the PSU sees it in the app.
    const [initiation] = (await sandboxRequests(sandbox.httpUrl, { profile: 'flowe', route: 'payments' })) as unknown as {
      psuIpPresent: boolean;
      status: number;
    }[];
    expect(initiation).toMatchObject({ psuIpPresent: true, status: 201 });
    const pending = (await (await fetch(`${sandbox.httpUrl}/psu/api/pending?username=alice`)).json()) as { payments: unknown[] };
    expect(pending.payments).toContainEqual(
      expect.objectContaining({ id: bankPaymentId, amount: { currency: 'EUR', amount: '12.50' }, creditorIban: IBAN.bobFlowe, debtorIban: IBAN.aliceFlowe }),
    );

    // A poll item exists for the scheduler from the start.
    expect(await db('SELECT 1 FROM poll_items WHERE kind = $1 AND resource_id = $2', ['payment', id])).toHaveLength(1);
    await expect(poll(id)).resolves.toEqual({ final: false, status: 'RCVD' });

    await startOfCutoffCycle(sandbox.httpUrl);
    await decide(sandbox.httpUrl, bankPaymentId, 'approve');
    await expect(poll(id)).resolves.toEqual({ final: false, status: 'ACSP' });
    expect((await getPayment(bff, alice, id).expect(200)).body).toMatchObject({ status: 'ACSP', scaStatus: 'finalised' });

    await toNextCutoff();
    await nextStatusWindow(); // the poll above just asked
    const settled = (await getPayment(bff, alice, id, true).expect(200)).body;
    expect(settled).toMatchObject({ status: 'ACSC', scaStatus: 'finalised' });
    expect(settled.statusHistory.map((h: { status: string }) => h.status)).toEqual(['RCVD', 'ACSP', 'ACSC']);
    expect(settled.statusHistory.every((h: { at: string }) => !Number.isNaN(Date.parse(h.at)))).toBe(true);

    // Settled is not the end: clearing may still reject it, so it stays polled, on the slow
    // schedule, until the settlement window after its acceptance closes.
    const acceptedAt = Date.parse(settled.statusHistory[1].at);
    expect(settled.statusTracking).toEqual({ active: true, until: new Date(acceptedAt + 5 * 86_400_000).toISOString() });
    expect(await db('SELECT 1 FROM poll_items WHERE resource_id = $1', [id])).toHaveLength(1);
    const next = await poll(id);
    expect(next).toMatchObject({ final: false, status: 'ACSC' });
    expect(next.nextPollAt!.getTime() - Date.now()).toBeGreaterThan(3590_000);

    expect((await events(id)).map((e) => [e.payload.status, e.payload.scaStatus])).toEqual([
      ['RCVD', 'received'],
      ['ACSP', 'finalised'],
      ['ACSC', 'finalised'],
    ]);
    expect((await events(id))[0].payload.connectionId).toBe(aliceFlowe);
  });

  it('records the PSU’s refusal as CANC with a failed SCA', async () => {
    const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
    await decide(sandbox.httpUrl, bankPaymentId, 'reject');
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'CANC' });
    expect((await getPayment(bff, alice, id).expect(200)).body).toMatchObject({ status: 'CANC', scaStatus: 'failed' });
    expect(await db('SELECT 1 FROM poll_items WHERE resource_id = $1', [id])).toHaveLength(0);
  });

  it('records a clearing rejection as RJCT', async () => {
    const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody({ creditorAccount: { iban: IBAN.reject } })).expect(201)).body;
    await decide(sandbox.httpUrl, bankPaymentId, 'approve');
    await toNextCutoff();
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'RJCT' });
    expect((await getPayment(bff, alice, id).expect(200)).body.statusHistory.map((h: { status: string }) => h.status)).toEqual(['RCVD', 'RJCT']);
  });

  it('cancels before approval: 204 and CANC at the bank; a second DELETE does not call the bank again', async () => {
    const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
    await request(bff.url).delete(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${alice}`).expect(204);
    expect((await getPayment(bff, alice, id).expect(200)).body).toMatchObject({ status: 'CANC' });
    // The bank agrees: the PSU can no longer approve it.
    const decision = await fetch(`${sandbox.httpUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'payment', id: bankPaymentId, decision: 'approve' }),
    });
    expect(decision.status).toBe(409);
    const cancels = (await sandboxRequests(sandbox.httpUrl, { route: 'payment-cancel' })).length;
    await request(bff.url).delete(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${alice}`).expect(204);
    expect((await sandboxRequests(sandbox.httpUrl, { route: 'payment-cancel' })).length).toBe(cancels);
    expect((await events(id)).map((e) => e.payload.status)).toEqual(['RCVD', 'CANC']);
  });

  it('answers 409 when the bank says the payment can no longer be cancelled (405), with the status it has now', async () => {
    const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
    await startOfCutoffCycle(sandbox.httpUrl);
    await decide(sandbox.httpUrl, bankPaymentId, 'approve');
    const res = await request(bff.url).delete(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${alice}`).expect(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.body).toMatchObject({ code: 'payment_not_cancellable', aspspId: 'flowe', bankCode: 'CANCELLATION_INVALID', paymentStatus: 'ACSP' });
    expect((await getPayment(bff, alice, id).expect(200)).body.status).toBe('ACSP');
    // Settled payments are refused locally, without asking the bank.
    await toNextCutoff();
    await expect(poll(id)).resolves.toMatchObject({ final: false, status: 'ACSC' });
    const cancels = (await sandboxRequests(sandbox.httpUrl, { route: 'payment-cancel' })).length;
    await request(bff.url).delete(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${alice}`).expect(409);
    expect((await sandboxRequests(sandbox.httpUrl, { route: 'payment-cancel' })).length).toBe(cancels);
  });

  it('never gives up on ACSP within the settlement window, then lets go of the payment and says why', async () => {
    const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
    await startOfCutoffCycle(sandbox.httpUrl);
    await decide(sandbox.httpUrl, bankPaymentId, 'approve');
    await expect(poll(id)).resolves.toEqual({ final: false, status: 'ACSP' });
    // Two days of ACSP (the bank waits for a cut-off, or is slow to report it): still asked about.
    await db("UPDATE payments SET accepted_at = now() - interval '2 days' WHERE id = $1", [id]);
    await expect(poll(id)).resolves.toEqual({ final: false, status: 'ACSP' });
    expect(await db('SELECT 1 FROM poll_items WHERE resource_id = $1', [id])).toHaveLength(1);

    // Past the window (five days from acceptance): the BFF stops asking, and says so.
    await db("UPDATE payments SET accepted_at = now() - interval '5 days 1 second' WHERE id = $1", [id]);
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'ACSP' });
    const payment = (await getPayment(bff, alice, id).expect(200)).body;
    expect(payment).toMatchObject({ status: 'ACSP', statusTracking: { active: false, endedAt: expect.any(String), endReason: 'settlement_window_closed' } });
    expect(await db('SELECT 1 FROM poll_items WHERE resource_id = $1', [id])).toHaveLength(0);
    const last = (await events(id)).at(-1)!.payload as Record<string, unknown>;
    expect(last).toMatchObject({ paymentId: id, status: 'ACSP', trackingEndReason: 'settlement_window_closed' });
    // Nothing is asked any more, not even on an explicit refresh.
    const reads = (await sandboxRequests(sandbox.httpUrl, { profile: 'flowe', route: 'payment-status' })).length;
    await expect(poll(id)).resolves.toEqual({ final: true, status: 'ACSP' });
    await getPayment(bff, alice, id, true).expect(200);
    expect((await sandboxRequests(sandbox.httpUrl, { profile: 'flowe', route: 'payment-status' })).length).toBe(reads);
  });

  it('pays with ConnectPay behind the same interface (Berlin Group defaults: SLEV, UUID ids)', async () => {
    const res = await pay(
      bff,
      alice,
      aliceConnectPay,
      paymentBody({ debtorAccount: { iban: IBAN.aliceConnectPay }, creditorAccount: { iban: IBAN.bobConnectPay } }),
    ).expect(201);
    expect(res.body).toMatchObject({ status: 'RCVD', scaStatus: 'received', aspspId: 'connectpay', chargeBearer: 'SLEV' });
    expect(res.body.bankPaymentId).toMatch(/^[0-9a-f-]{36}$/);
    await decide(sandbox.httpUrl, res.body.bankPaymentId, 'approve');
    expect((await getPayment(bff, alice, res.body.id, true).expect(200)).body).toMatchObject({ status: 'ACSP', scaStatus: 'finalised' });
  });

  it('maps the bank’s refusal of an initiation to 422 naming the bank, records it as RJCT, and replays it', async () => {
    const key = randomUUID();
    // Bob's IBAN is not an account of Alice's bank login: the bank refuses (400 RESOURCE_UNKNOWN).
    const body = paymentBody({ debtorAccount: { iban: IBAN.bobFlowe }, creditorAccount: { iban: IBAN.aliceFlowe } });
    const first = await pay(bff, alice, aliceFlowe, body, key).expect(422);
    expect(first.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(first.body).toMatchObject({
      code: 'bank_rejected',
      aspspId: 'flowe',
      bankErrorKind: 'rejected',
      bankCode: 'RESOURCE_UNKNOWN',
      paymentStatus: 'RJCT',
    });
    const payment = (await getPayment(bff, alice, first.body.paymentId).expect(200)).body;
    expect(payment).toMatchObject({ status: 'RJCT', failureCode: 'RESOURCE_UNKNOWN' });
    expect(payment.bankPaymentId).toBeUndefined();
    const before = await initiationsAtBank(sandbox.httpUrl);
    const again = await pay(bff, alice, aliceFlowe, body, key).expect(422);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before);
  });

  it('lists the user’s payments newest first, paged with a cursor, and only theirs', async () => {
    const made: string[] = [];
    for (let i = 0; i < 3; i++)
      made.push(
        (
          await pay(
            bff,
            bob,
            bobFlowe,
            paymentBody({ debtorAccount: { iban: IBAN.bobFlowe }, creditorAccount: { iban: IBAN.aliceFlowe }, creditorName: `Alice ${i}` }),
          ).expect(201)
        ).body.id,
      );
    const first = await request(bff.url).get('/api/v1/payments?limit=2').set('Authorization', `Bearer ${bob}`).expect(200);
    expect(first.body.payments.map((p: { id: string }) => p.id)).toEqual([made[2], made[1]]);
    expect(first.body.payments[0].statusHistory).toBeUndefined();
    const second = await request(bff.url).get(`/api/v1/payments?limit=2&cursor=${first.body.nextCursor}`).set('Authorization', `Bearer ${bob}`).expect(200);
    expect(second.body.payments.map((p: { id: string }) => p.id)).toEqual([made[0]]);
    expect(second.body.nextCursor).toBeUndefined();

    const alices = (await request(bff.url).get('/api/v1/payments?limit=100').set('Authorization', `Bearer ${alice}`).expect(200)).body.payments;
    expect(alices.length).toBeGreaterThan(0);
    expect(alices.every((p: { connectionId: string }) => p.connectionId !== bobFlowe)).toBe(true);
    const filtered = (await request(bff.url).get(`/api/v1/payments?connectionId=${aliceConnectPay}`).set('Authorization', `Bearer ${alice}`).expect(200)).body
      .payments;
    expect(filtered.every((p: { connectionId: string }) => p.connectionId === aliceConnectPay)).toBe(true);

    for (const query of ['limit=0', 'limit=101', 'limit=abc', 'cursor=%2e%2e', 'cursor=bm9wZQ', 'connectionId=..%2F', 'other=1']) {
      const bad = await request(bff.url).get(`/api/v1/payments?${query}`).set('Authorization', `Bearer ${alice}`).expect(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
  });

  it('keeps every user to their own payments and connections (404), and refuses ids that are not ours (400)', async () => {
    const { id } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
    await getPayment(bff, bob, id).expect(404);
    await getPayment(bff, bob, id, true).expect(404);
    await request(bff.url).delete(`/api/v1/payments/${id}`).set('Authorization', `Bearer ${bob}`).expect(404);
    const before = await initiationsAtBank(sandbox.httpUrl);
    const foreign = await pay(bff, bob, aliceFlowe, paymentBody({ debtorAccount: { iban: IBAN.bobFlowe } })).expect(404);
    expect(foreign.body.code).toBe('not_found');
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before);
    await getPayment(bff, alice, randomUUID()).expect(404);
    for (const bad of ['..%2F..%2Fadmin', '%2e%2e', 'not-a-uuid', 'http%3A%2F%2Fevil.example']) {
      const res = await request(bff.url).get(`/api/v1/payments/${bad}`).set('Authorization', `Bearer ${alice}`);
      expect([400, 404]).toContain(res.status);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    }
    await request(bff.url).get(`/api/v1/payments/${id}`).expect(401);
  });

  it('refuses a connection made without the pis service (409) before anything reaches the bank', async () => {
    const aisOnly = await connect(bff, alice, 'alice', 'flowe', ['ais']);
    const before = await initiationsAtBank(sandbox.httpUrl);
    const res = await pay(bff, alice, aisOnly, paymentBody()).expect(409);
    expect(res.body).toMatchObject({ code: 'service_not_granted', requiredService: 'pis' });
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before);
  });

  it('refuses a revoked connection (409) but still replays a key answered before, and still shows its payments', async () => {
    const connection = await connect(bff, alice, 'alice', 'flowe');
    const key = randomUUID();
    const first = await pay(bff, alice, connection, paymentBody(), key).expect(201);
    await request(bff.url).delete(`/api/v1/connections/${connection}`).set('Authorization', `Bearer ${alice}`).expect(204);
    const refused = await pay(bff, alice, connection, paymentBody()).expect(409);
    expect(refused.body).toMatchObject({ code: 'connection_not_active', connectionStatus: 'revoked' });
    expect((await pay(bff, alice, connection, paymentBody(), key).expect(201)).body).toEqual(first.body);
    expect((await getPayment(bff, alice, first.body.id).expect(200)).body.status).toBe('RCVD');
  });

  it.each([['api-relative'], ['absolute']])('follows the bank’s %s _links to the SCA status', async (style) => {
    await admin(sandbox.httpUrl, 'link-quirks', { profile: 'flowe', style });
    try {
      const { id, bankPaymentId } = (await pay(bff, alice, aliceFlowe, paymentBody()).expect(201)).body;
      await decide(sandbox.httpUrl, bankPaymentId, 'reject');
      expect((await getPayment(bff, alice, id, true).expect(200)).body).toMatchObject({ status: 'CANC', scaStatus: 'failed' });
      expect(await db('SELECT authorisation_id FROM payments WHERE id = $1', [id])).toEqual([{ authorisation_id: `${bankPaymentId}-AUTH-1` }]);
    } finally {
      await admin(sandbox.httpUrl, 'link-quirks', { profile: 'flowe', style: 'host-relative' });
    }
  });

  it('puts no bank secret in any answer or stored replay', async () => {
    const accessToken = await accessTokenOf(bff, aliceFlowe);
    const answers = [
      await pay(bff, alice, aliceFlowe, paymentBody()).expect(201),
      await pay(bff, alice, aliceFlowe, paymentBody({ debtorAccount: { iban: IBAN.bobFlowe } })).expect(422),
      await request(bff.url).get('/api/v1/payments').set('Authorization', `Bearer ${alice}`).expect(200),
    ];
    const stored = JSON.stringify(await db('SELECT * FROM payments'));
    for (const text of [...answers.map((a) => JSON.stringify({ headers: a.headers, body: a.body })), stored]) {
      for (const secret of [accessToken, 'flowe-sandbox-subscription-key', 'flowe-sandbox-secret', 'connectpay-sandbox-secret'])
        expect(text).not.toContain(secret);
    }
  });

  it('documents the payment routes in /docs-json', async () => {
    const doc = (await request(bff.url).get('/docs-json').expect(200)).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/connections/{id}/payments', '/api/v1/payments', '/api/v1/payments/{id}']));
    const create = doc.paths['/api/v1/connections/{id}/payments'].post;
    expect(create.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: true }));
    expect(create.requestBody.content['application/json'].schema.$ref).toMatch(/CreatePaymentDto$/);
    expect(Object.keys(doc.paths['/api/v1/payments/{id}'])).toEqual(expect.arrayContaining(['get', 'delete']));
  });
});
