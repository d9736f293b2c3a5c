import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { MetricsService } from '../../src/common/metrics/metrics.service.js';
import { PaymentStore } from '../../src/modules/pis/payment.store.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { startSandbox } from '../support/bank-world.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { connect, pay, paymentBody, pisEnv, userToken } from './support.js';

/**
 * Status changes are written in one statement that only lands on the row version they were decided
 * on (compare-and-set on PostgreSQL's xmin): a change decided on a stale read is decided again on
 * the current row, as a row lock would have had it, and nothing is lost when two changes race.
 */
describe('payment store: one-statement changes on the row version they were decided on', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let aliceFlowe: string;
  let store: PaymentStore;

  const db = <T>(sql: string, params: unknown[] = []) => withClient(bff.db.url, async (c) => (await c.query(sql, params)).rows as T[]);
  const history = async (paymentId: string) =>
    (
      await db<{ status: string; sca_status: string | null }>('SELECT status, sca_status FROM payment_status_changes WHERE payment_id = $1 ORDER BY id', [
        paymentId,
      ])
    ).map((h) => `${h.status}/${h.sca_status}`);
  const events = async (paymentId: string) =>
    (
      await db<{ payload: { status: string; scaStatus: string | null } }>(
        `SELECT payload FROM outbox_events WHERE type = 'payment.status' AND payload->>'paymentId' = $1 ORDER BY id`,
        [paymentId],
      )
    ).map((e) => `${e.payload.status}/${e.payload.scaStatus}`);
  const pollItems = async (paymentId: string) =>
    (await db<{ n: number }>('SELECT count(*)::int AS n FROM poll_items WHERE resource_id = $1', [paymentId]))[0]!.n;
  const newPayment = async (amount: string) => {
    const res = await pay(bff, alice, aliceFlowe, paymentBody({ instructedAmount: { amount, currency: 'EUR' } })).expect(201);
    expect(res.body).toMatchObject({ status: 'RCVD', scaStatus: 'received' });
    return res.body.id as string;
  };

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(pisEnv(sandbox));
    alice = await userToken(bff, 'alice');
    aliceFlowe = await connect(bff, alice, 'alice', 'flowe');
    store = bff.app.get(PaymentStore);
  });

  afterAll(async () => {
    await bff?.close();
    await sandbox?.close();
  });

  it('decides a change read before another one committed again on the current row: a late poll never overwrites a cancellation', async () => {
    const id = await newPayment('3.01');
    const stale = (await store.findById(id))!;
    await store.transition((await store.findById(id))!, { status: 'CANC', source: 'cancel' });

    const seen: string[] = [];
    const late = await store.transition(stale, {
      status: 'ACSP',
      source: 'poll',
      onlyIf: (p) => {
        seen.push(p.status);
        return p.status !== 'CANC';
      },
    });

    // The condition ran on the stale row, the write missed its version, and the condition ran again on the current row.
    expect(seen).toEqual(['RCVD', 'CANC']);
    expect(late).toMatchObject({ id, status: 'CANC' });
    expect((await store.findById(id))!.status).toBe('CANC');
    expect(await history(id)).toEqual(['RCVD/received', 'CANC/received']);
    expect(await events(id)).toEqual(['RCVD/received', 'CANC/received']);
    expect(await pollItems(id)).toBe(0);
  });

  it('keeps both of two changes decided on the same read: neither writes back the field the other changed', async () => {
    const id = await newPayment('3.02');
    const read = (await store.findById(id))!;

    await Promise.all([store.transition(read, { status: 'ACSP', source: 'poll' }), store.transition(read, { scaStatus: 'finalised', source: 'refresh' })]);

    expect(await store.findById(id)).toMatchObject({ status: 'ACSP', scaStatus: 'finalised' });
    const changes = await history(id);
    expect(changes).toHaveLength(3);
    expect(changes.at(-1)).toBe('ACSP/finalised');
    expect(await events(id)).toEqual(changes);
    expect(await pollItems(id)).toBe(1);
  });

  it('writes nothing for a poll that learns nothing new', async () => {
    const id = await newPayment('3.03');
    const before = (await store.findById(id))!;
    const after = await store.transition(before, { status: 'RCVD', scaStatus: 'received', source: 'poll' });
    expect(after).toBe(before);
    expect((await store.findById(id))!.version).toBe(before.version);
    expect(await history(id)).toEqual(['RCVD/received']);
  });

  it('creates a payment in three round trips: the connection, the reservation (which looks up the key) and the bank’s answer', async () => {
    const metrics = bff.app.get(MetricsService);
    const statements = async () => (await metrics.dbQueries.get()).values[0]?.value ?? 0;
    const before = await statements();
    await newPayment('3.04');
    expect((await statements()) - before).toBe(3);
  });

  it('still answers a retry with its key after the connection was disconnected; a new key is refused', async () => {
    const connectionId = await connect(bff, alice, 'alice', 'flowe');
    const body = paymentBody({ instructedAmount: { amount: '3.05', currency: 'EUR' } });
    const key = randomUUID();
    const first = await pay(bff, alice, connectionId, body, key).expect(201);
    await request(bff.url).delete(`/api/v1/connections/${connectionId}`).set('Authorization', `Bearer ${alice}`).expect(204);

    const retry = await pay(bff, alice, connectionId, body, key).expect(201);
    expect(retry.body).toEqual(first.body);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect((await pay(bff, alice, connectionId, body).expect(409)).body).toMatchObject({ code: 'connection_not_active', connectionStatus: 'revoked' });
  });
});
