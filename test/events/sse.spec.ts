import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { EventStreamHub } from '../../src/modules/events/event-stream.hub.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { SseClient } from './sse-client.js';
import { emit, eventsUrl } from './support.js';

// Events as the server writes them: resource ids are UUIDs (the contract check holds the stream to its schema).
const [C1, K1, K2, P9, P1, P2, LATE, EARLY1, EARLY2, EARLY] = Array.from({ length: 10 }, () => randomUUID());

const ENV = { SCHEDULER_ENABLED: 'false', SSE_HEARTBEAT_SECONDS: '1', SSE_MAX_STREAMS_PER_USER: '3' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('GET /api/v1/events: server-sent events from the outbox', () => {
  let db: TestDatabase;
  let a: TestBff;
  let b: TestBff;
  const open: SseClient[] = [];
  const stream = async (bff: TestBff, user: string, headers: Record<string, string> = {}) => {
    const client = await SseClient.open(eventsUrl(bff), await sandboxLogin(bff.url, user), headers);
    open.push(client);
    return client;
  };

  /** New streams first catch up through a per-user query; after two hub ticks they take the shared feed. */
  const steady = () => sleep(600);

  beforeAll(async () => {
    db = await createTestDatabase();
    a = await startTestBff(ENV, { db });
    b = await startTestBff(ENV, { db });
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
  });

  it("streams each user's own changes within 2 s of the commit, from any replica, never another user's", async () => {
    const aliceOnA = await stream(a, 'alice');
    const aliceOnB = await stream(b, 'alice');
    const bobOnA = await stream(a, 'bob');
    await steady();
    expect(aliceOnA.response.status).toBe(200);
    expect(aliceOnA.response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(aliceOnA.response.headers.get('cache-control')).toBe('no-store');

    const committed = Date.now();
    await emit(b, 'alice', 'consent.status', { consentId: C1, connectionId: K1, status: 'valid', reconsentRequired: false });
    await emit(a, 'bob', 'payment.status', { paymentId: P9, connectionId: K2, status: 'ACSC', scaStatus: 'finalised' });

    for (const client of [aliceOnA, aliceOnB]) {
      const event = await client.waitFor('alice consent event', (e) => e.event === 'consent.status', 2000);
      expect(event.receivedAt - committed).toBeLessThan(2000);
      expect(event.id).toMatch(/^\d+$/);
      expect(client.json(event)).toEqual({
        eventId: event.id,
        consentId: C1,
        connectionId: K1,
        status: 'valid',
        reconsentRequired: false,
        occurredAt: expect.any(String),
      });
    }
    const bobs = await bobOnA.waitFor('bob payment event', (e) => e.event === 'payment.status', 2000);
    expect(bobOnA.json(bobs)).toMatchObject({ paymentId: P9, connectionId: K2, status: 'ACSC' });
    await sleep(600); // two more hub ticks: nothing else may arrive
    expect(aliceOnA.events.map((e) => e.event)).toEqual(['consent.status']);
    expect(aliceOnB.events.map((e) => e.event)).toEqual(['consent.status']);
    expect(bobOnA.events.map((e) => e.event)).toEqual(['payment.status']);
    expect(aliceOnA.retryMs).toBe(2000);
  });

  it('resumes after Last-Event-ID with exactly the events missed, in order', async () => {
    const first = await stream(a, 'alice');
    await emit(a, 'alice', 'payment.status', { paymentId: P1, connectionId: K1, status: 'RCVD' });
    const seen = await first.waitFor(P1, (e) => first.json(e).paymentId === P1);
    await first.close();

    await emit(a, 'alice', 'payment.status', { paymentId: P1, connectionId: K1, status: 'ACSP' });
    await emit(b, 'bob', 'payment.status', { paymentId: P2, connectionId: K1, status: 'ACSP' });
    await emit(b, 'alice', 'payment.status', { paymentId: P1, connectionId: K1, status: 'ACSC' });

    const resumed = await stream(b, 'alice', { 'last-event-id': seen.id! });
    await resumed.waitFor('ACSC', (e) => resumed.json(e).status === 'ACSC');
    await sleep(400);
    expect(resumed.events.map((e) => [resumed.json(e).paymentId, resumed.json(e).status])).toEqual([
      [P1, 'ACSP'],
      [P1, 'ACSC'],
    ]);
    const ids = resumed.events.map((e) => BigInt(e.id!));
    expect(ids[0]).toBeGreaterThan(BigInt(seen.id!));
    expect(ids[1]).toBeGreaterThan(ids[0]);
  });

  it('resumes on another replica without losing an event whose transaction committed after later ones were sent', async () => {
    const first = await stream(a, 'alice');
    await steady();
    // A status change whose transaction is still open: its outbox row has a lower id than the two below.
    const slow = a.app.get(DataSource).createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    try {
      await a.app
        .get(OutboxStore)
        .record(slow.manager, { userId: 'alice', type: 'payment.status', data: { paymentId: LATE, connectionId: K1, status: 'ACSP' } });
      await emit(a, 'alice', 'payment.status', { paymentId: EARLY1, connectionId: K1, status: 'ACSP' });
      await emit(b, 'alice', 'payment.status', { paymentId: EARLY2, connectionId: K1, status: 'ACSP' });
      await sleep(1000); // several hub ticks on both replicas
      await first.close(); // the client leaves (or its replica dies)...
      await slow.commitTransaction(); // ...and only then does the earlier change commit
    } finally {
      await slow.release();
    }
    // The client resumes where it was, on the other replica.
    expect(first.lastEventId).toMatch(/^\d+$/);
    const resumed = await stream(b, 'alice', { 'last-event-id': first.lastEventId! });
    await resumed.waitFor('the late event', (e) => resumed.json(e).paymentId === LATE, 3000);
    await resumed.waitFor(EARLY2, (e) => resumed.json(e).paymentId === EARLY2, 3000);
    await sleep(600);
    // Across both streams, after de-duplication by id, every event exactly once.
    const received = [...first.events, ...resumed.events];
    const byId = new Map(received.map((e) => [e.id!, resumed.json(e).paymentId]));
    expect([...byId.values()].sort()).toEqual([EARLY1, EARLY2, LATE].sort());
    for (const e of received) expect(resumed.json(e).eventId).toBe(e.id);
  });

  it('holds later events back while an earlier insert is in flight, from any code path, then delivers them in id order', async () => {
    const alice = await stream(a, 'alice');
    await steady();
    await withClient(db.url, async (slow) => {
      await slow.query('BEGIN');
      await slow.query('INSERT INTO outbox_events (user_id, type, payload) VALUES ($1, $2, $3)', [
        'alice',
        'payment.status',
        JSON.stringify({ paymentId: LATE, connectionId: K1, status: 'ACSP' }),
      ]);
      await emit(a, 'alice', 'payment.status', { paymentId: EARLY, connectionId: K1, status: 'ACSP' });
      await sleep(1000);
      expect(alice.events).toEqual([]);
      const committed = Date.now();
      await slow.query('COMMIT');
      await alice.waitFor(EARLY, (e) => alice.json(e).paymentId === EARLY, 2000);
      expect(Date.now() - committed).toBeLessThan(2000);
    });
    expect(alice.events.map((e) => alice.json(e).paymentId)).toEqual([LATE, EARLY]);
    expect(BigInt(alice.events[0].id!)).toBeLessThan(BigInt(alice.events[1].id!));
  });

  it('sends heartbeats and forgets a stream once its client has gone', async () => {
    const hub = a.app.get(EventStreamHub);
    // Streams of earlier tests end on the server a moment after their clients close.
    for (const deadline = Date.now() + 2000; hub.streamCount > 0 && Date.now() < deadline;) await sleep(20);
    const before = hub.streamCount;
    expect(before).toBe(0);
    const client = await stream(a, 'carol');
    expect(hub.streamCount).toBe(before + 1);
    const deadline = Date.now() + 2500;
    while (!client.comments.includes('keep-alive') && Date.now() < deadline) await sleep(50);
    expect(client.comments).toContain('keep-alive');
    await client.close();
    while (hub.streamCount > before && Date.now() < deadline + 2000) await sleep(20);
    expect(hub.streamCount).toBe(before);
    expect(await (await fetch(`${a.url}/metrics`)).text()).toMatch(/^sse_streams\{[^}]*\} 0$/m);
  });

  it('catches up from ?after= as from Last-Event-ID, the header winning when both are sent', async () => {
    await emit(a, 'frank', 'payment.status', { paymentId: P9, connectionId: K2, status: 'RCVD' });
    const [{ id: firstId }] = await withClient(
      db.url,
      async (c) => (await c.query("SELECT id::text FROM outbox_events WHERE user_id = 'frank' ORDER BY id")).rows,
    );
    await emit(a, 'frank', 'payment.status', { paymentId: P9, connectionId: K2, status: 'ACSP' });
    await emit(b, 'frank', 'payment.status', { paymentId: P9, connectionId: K2, status: 'ACSC' });
    const token = await sandboxLogin(a.url, 'frank');

    const caughtUp = await SseClient.open(`${eventsUrl(b)}?after=${firstId}`, token);
    open.push(caughtUp);
    await caughtUp.waitFor('ACSC', (e) => caughtUp.json(e).status === 'ACSC');
    expect(caughtUp.events.map((e) => caughtUp.json(e).status)).toEqual(['ACSP', 'ACSC']);

    const both = await SseClient.open(`${eventsUrl(a)}?after=0`, token, { 'last-event-id': caughtUp.events[0].id! });
    open.push(both);
    await both.waitFor('ACSC', (e) => both.json(e).status === 'ACSC');
    expect(both.events.map((e) => both.json(e).status)).toEqual(['ACSC']);

    const bad = await SseClient.open(`${eventsUrl(a)}?after=abc`, token);
    expect(bad.response.status).toBe(400);
    expect(await bad.response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'after' }] });
  });

  it('refuses a missing user token, a malformed Last-Event-ID and more streams than the per-user limit', async () => {
    const anonymous = await SseClient.open(eventsUrl(a), undefined);
    expect(anonymous.response.status).toBe(401);
    expect(anonymous.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);

    for (const bad of ['abc', '-1', '1e5', '12345678901234567890', '../1']) {
      const res = await SseClient.open(eventsUrl(a), await sandboxLogin(a.url, 'alice'), { 'last-event-id': bad });
      expect(res.response.status).toBe(400);
      expect(await res.response.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'header:Last-Event-ID' }] });
    }

    for (let i = 0; i < 3; i++) expect((await stream(a, 'dave')).response.status).toBe(200);
    const fourth = await stream(a, 'dave');
    expect(fourth.response.status).toBe(429);
    expect(fourth.response.headers.get('retry-after')).toBe('5');
    expect(fourth.response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await stream(a, 'erin')).response.status).toBe(200);
    expect((await stream(b, 'dave')).response.status).toBe(200); // the limit is per replica
  });

  it('is documented in the OpenAPI description', async () => {
    const doc = (await (await fetch(`${a.url}/docs-json`)).json()) as {
      paths: Record<string, { get?: { responses: Record<string, { content?: Record<string, unknown> }>; parameters?: { name: string }[] } }>;
    };
    const op = doc.paths['/api/v1/events'].get!;
    expect(Object.keys(op.responses['200'].content ?? {})).toContain('text/event-stream');
    expect(op.parameters?.map((p) => p.name)).toContain('Last-Event-ID');
  });
});
