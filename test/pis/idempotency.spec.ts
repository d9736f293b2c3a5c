import { randomUUID } from 'node:crypto';
import { PaymentInitiationService } from '../../src/modules/pis/payment-initiation.service.js';
import { parsePaymentCommand, requestHash } from '../../src/modules/pis/payment-request.js';
import { PaymentStore } from '../../src/modules/pis/payment.store.js';
import { PaymentsService } from '../../src/modules/pis/payments.service.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { admin, startSandbox } from '../support/bank-world.js';
import { connect, getPayment, IBAN, initiationsAtBank, pay, paymentBody, userToken, pisEnv } from './support.js';

/** Waits until the sandbox has logged `count` initiations (a delayed request is logged when it ends). */
async function untilInitiations(sandboxUrl: string, count: number): Promise<number> {
  const deadline = Date.now() + 5_000;
  let seen = await initiationsAtBank(sandboxUrl);
  while (seen < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    seen = await initiationsAtBank(sandboxUrl);
  }
  return seen;
}

describe('payments: exactly once per Idempotency-Key', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  /** Short bank timeout and no waiting for an in-flight twin, to provoke timeouts and 409s. */
  let tight: TestBff;
  let alice: string;
  let bob: string;
  let aliceFlowe: string;
  let aliceFloweAgain: string;
  let bobFlowe: string;
  let tightAlice: string;
  let tightFlowe: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    [bff, tight] = await Promise.all([
      startTestBff(pisEnv(sandbox)),
      startTestBff(pisEnv(sandbox, { FLOWE_TIMEOUT_MS: '1200', PIS_IDEMPOTENCY_WAIT_MS: '150' })),
    ]);
    [alice, bob, tightAlice] = await Promise.all([userToken(bff, 'alice'), userToken(bff, 'bob'), userToken(tight, 'alice')]);
    [aliceFlowe, aliceFloweAgain, bobFlowe, tightFlowe] = await Promise.all([
      connect(bff, alice, 'alice', 'flowe'),
      connect(bff, alice, 'alice', 'flowe'),
      connect(bff, bob, 'bob', 'flowe'),
      connect(tight, tightAlice, 'alice', 'flowe'),
    ]);
  });
  afterEach(async () => {
    await admin(sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });
  afterAll(async () => {
    await Promise.all([bff.close(), tight.close()]);
    await sandbox.close();
  });

  const rowsWithKey = (app: TestBff, key: string) =>
    withClient(app.db.url, async (c) => (await c.query('SELECT id, status FROM payments WHERE idempotency_key = $1', [key])).rows);

  it('50 concurrent identical requests with one key: one payment at the bank, 50 identical answers', async () => {
    const key = randomUUID();
    const body = paymentBody({ remittanceInformationUnstructured: 'concurrent' });
    // The bank answers slowly, so the 49 twins arrive while the first is in flight.
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', latencyMs: 300, times: 1 });
    const before = await initiationsAtBank(sandbox.httpUrl);
    const answers = await Promise.all(Array.from({ length: 50 }, () => pay(bff, alice, aliceFlowe, body, key)));
    expect(answers.map((a) => a.status)).toEqual(Array(50).fill(201));
    expect(new Set(answers.map((a) => JSON.stringify(a.body))).size).toBe(1);
    expect(answers.filter((a) => a.headers['idempotent-replayed'] === 'true')).toHaveLength(49);
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
    expect(await rowsWithKey(bff, key)).toHaveLength(1);

    // Later retries, even with the IBANs typed differently, get the same first answer.
    const later = await pay(bff, alice, aliceFlowe, { ...body, creditorAccount: { iban: 'it45 p367 7201 6000 0000 0420 002' } }, key).expect(201);
    expect(later.body).toEqual(answers[0].body);
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
  });

  it('two replicas on one database: concurrent identical requests still make one payment and one answer', async () => {
    const replica = await startTestBff(pisEnv(sandbox), { db: bff.db });
    try {
      const key = randomUUID();
      const body = paymentBody({ remittanceInformationUnstructured: 'two replicas' });
      await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', latencyMs: 400, times: 1 });
      const before = await initiationsAtBank(sandbox.httpUrl);
      // The replica has its own demo-token key, so its half goes straight to the service, as its controller would.
      const viaReplica = () =>
        replica.app.get(PaymentInitiationService).initiate({ userId: 'alice', connectionId: aliceFlowe, body, idempotencyKey: key, psuIpAddress: '127.0.0.1' });
      const [http, direct] = await Promise.all([
        Promise.all(Array.from({ length: 10 }, () => pay(bff, alice, aliceFlowe, body, key))),
        Promise.all(Array.from({ length: 10 }, viaReplica)),
      ]);
      expect([...http.map((r) => r.status), ...direct.map((r) => r.status)]).toEqual(Array(20).fill(201));
      expect(new Set([...http.map((r) => JSON.stringify(r.body)), ...direct.map((r) => JSON.stringify(r.body))]).size).toBe(1);
      expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
    } finally {
      await replica.close();
    }
  });

  it('same key with another body → 422, and nothing is sent to the bank', async () => {
    const key = randomUUID();
    const first = await pay(bff, alice, aliceFlowe, paymentBody(), key).expect(201);
    const before = await initiationsAtBank(sandbox.httpUrl);
    for (const other of [
      paymentBody({ instructedAmount: { amount: '12.51', currency: 'EUR' } }),
      paymentBody({ creditorName: 'Someone Else' }),
      paymentBody({ remittanceInformationUnstructured: undefined }),
    ]) {
      const res = await pay(bff, alice, aliceFlowe, other, key).expect(422);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe('idempotency_key_reused');
    }
    // The same body on another connection is another request too.
    expect((await pay(bff, alice, aliceFloweAgain, paymentBody(), key).expect(422)).body.code).toBe('idempotency_key_reused');
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before);
    expect((await pay(bff, alice, aliceFlowe, paymentBody(), key).expect(201)).body).toEqual(first.body);
  });

  it('keys are per user: another user’s identical key is a new payment', async () => {
    const key = 'shared-key-0001';
    const a = await pay(bff, alice, aliceFlowe, paymentBody(), key).expect(201);
    const b = await pay(bff, bob, bobFlowe, paymentBody({ debtorAccount: { iban: IBAN.bobFlowe }, creditorAccount: { iban: IBAN.aliceFlowe } }), key).expect(
      201,
    );
    expect(b.body.id).not.toBe(a.body.id);
    await getPayment(bff, bob, a.body.id).expect(404);
  });

  it('a retry while the first request is still at the bank waits, then answers 409 with Retry-After; afterwards the first answer', async () => {
    const key = randomUUID();
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', latencyMs: 700, times: 1 });
    const before = await initiationsAtBank(sandbox.httpUrl);
    const first = pay(tight, tightAlice, tightFlowe, paymentBody(), key).then((r) => r);
    await new Promise((r) => setTimeout(r, 150));
    const started = Date.now();
    const twin = await pay(tight, tightAlice, tightFlowe, paymentBody(), key);
    expect(twin.status).toBe(409);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140); // it waited PIS_IDEMPOTENCY_WAIT_MS first
    expect(twin.headers['retry-after']).toBe('1');
    expect(twin.body.code).toBe('idempotency_key_in_flight');
    const answered = await first;
    expect(answered.status).toBe(201);
    const replay = await pay(tight, tightAlice, tightFlowe, paymentBody(), key).expect(201);
    expect(replay.body).toEqual(answered.body);
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
  });

  it('a bank timeout on initiation leaves the payment unknown: never re-sent, retries get the same answer', async () => {
    const key = randomUUID();
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', latencyMs: 2_000, times: 1 });
    const before = await initiationsAtBank(sandbox.httpUrl);
    const first = await pay(tight, tightAlice, tightFlowe, paymentBody(), key).expect(504);
    expect(first.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(first.body).toMatchObject({ code: 'bank_timeout', aspspId: 'flowe', paymentStatus: 'unknown', paymentId: expect.any(String) });
    for (let i = 0; i < 3; i++) {
      const retry = await pay(tight, tightAlice, tightFlowe, paymentBody(), key).expect(504);
      expect(retry.body).toEqual(first.body);
    }
    // The bank did get (and create) the payment after all: exactly one initiation, however often we retried.
    expect(await untilInitiations(sandbox.httpUrl, before + 1)).toBe(before + 1);
    await pay(tight, tightAlice, tightFlowe, paymentBody(), key).expect(504);
    await new Promise((r) => setTimeout(r, 100));
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);

    const payment = (await getPayment(tight, tightAlice, first.body.paymentId).expect(200)).body;
    expect(payment).toMatchObject({ status: 'unknown', failureCode: 'bank_timeout' });
    expect(payment.endToEndIdentification).toMatch(/^[0-9a-f]{32}$/);
    // Without the bank's paymentId it is reconciled from the statement (reconciliation.spec.ts): it
    // stays polled for that, and no poll ever sends it again.
    expect(payment.reconciliation).toMatchObject({ outcome: 'searching', startedAt: expect.any(String) });
    await expect(tight.app.get(PaymentsService).pollStatus(payment.id)).resolves.toMatchObject({ final: false, status: 'unknown' });
    const items = await withClient(tight.db.url, async (c) => (await c.query('SELECT 1 FROM poll_items WHERE resource_id = $1', [payment.id])).rows);
    expect(items).toHaveLength(1);
    await tight.app.get(PaymentsService).pollStatus(payment.id);
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
  });

  it('a bank 5xx on initiation is an unknown outcome too: answered 5xx naming the bank, not re-sent', async () => {
    const key = randomUUID();
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', errorRate: 1, errorStatus: 500, times: 1 });
    const before = await initiationsAtBank(sandbox.httpUrl);
    const first = await pay(bff, alice, aliceFlowe, paymentBody(), key);
    expect(first.status).toBeGreaterThanOrEqual(500);
    expect(first.body).toMatchObject({ aspspId: 'flowe', paymentStatus: 'unknown' });
    const retry = await pay(bff, alice, aliceFlowe, paymentBody(), key);
    expect({ status: retry.status, body: retry.body }).toEqual({ status: first.status, body: first.body });
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before + 1);
  });

  it('a request the bank refused unprocessed (429) releases the key: the retry is sent', async () => {
    const key = randomUUID();
    await admin(sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'payments', force429: true, retryAfterSeconds: 1, times: 1 });
    const first = await pay(bff, alice, aliceFlowe, paymentBody(), key).expect(503);
    expect(first.body).toMatchObject({ code: 'bank_rate_limited', aspspId: 'flowe' });
    expect(await rowsWithKey(bff, key)).toHaveLength(0);
    const retry = await pay(bff, alice, aliceFlowe, paymentBody(), key).expect(201);
    expect(retry.body.status).toBe('RCVD');
  });

  it('settles a payment whose process died mid-call as unknown, without calling the bank', async () => {
    const store = bff.app.get(PaymentStore);
    const reserveFor = async (key: string) => {
      const command = await parsePaymentCommand(paymentBody(), key, { name: 'Flowe', currencies: ['EUR'] });
      // What a process records before calling the bank, then dies.
      return (await store.reserve({
        userId: 'alice',
        connectionId: aliceFlowe,
        aspspId: 'flowe',
        idempotencyKey: key,
        requestHash: requestHash(aliceFlowe, command.order),
        order: command.order,
        chargeBearer: 'DEBT',
        staleAt: new Date(),
      }))!.payment;
    };
    const before = await initiationsAtBank(sandbox.httpUrl);

    const fresh = await reserveFor(randomUUID());
    await expect(bff.app.get(PaymentsService).pollStatus(fresh.id)).resolves.toEqual({ final: false, status: 'pending' });

    const key = randomUUID();
    const abandoned = await reserveFor(key);
    await withClient(bff.db.url, (c) =>
      c.query("UPDATE payments SET created_at = now() - interval '1 hour', status_changed_at = now() - interval '1 hour' WHERE id IN ($1, $2)", [
        abandoned.id,
        fresh.id,
      ]),
    );
    const res = await pay(bff, alice, aliceFlowe, paymentBody(), key);
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ code: 'bank_error', paymentId: abandoned.id, paymentStatus: 'unknown' });
    expect((await getPayment(bff, alice, abandoned.id).expect(200)).body).toMatchObject({ status: 'unknown', failureCode: 'interrupted' });
    await expect(bff.app.get(PaymentsService).pollStatus(fresh.id)).resolves.toMatchObject({ final: false, status: 'unknown' });
    expect(await initiationsAtBank(sandbox.httpUrl)).toBe(before);
  });
});
