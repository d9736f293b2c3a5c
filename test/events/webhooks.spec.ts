import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { ConfigError } from '../../src/config/define-config.js';
import { eventsConfig } from '../../src/config/events.config.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { signWebhook, verifyWebhook } from '../../src/modules/events/webhook-signature.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { waitFor } from '../support/process.js';
import { emit } from './support.js';

const SECRET = 'whsec_test_0123456789abcdef0123456789abcdef';

interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
  answered: number;
  at: number;
}

/** A webhook receiver on 127.0.0.1 that fails the first delivery of every event with a 500. */
async function startReceiver(): Promise<{ url: string; deliveries: Delivery[]; close(): Promise<void> }> {
  const deliveries: Delivery[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const id = req.headers['x-event-id'];
      const answered = deliveries.some((d) => d.headers['x-event-id'] === id) ? 204 : 500;
      deliveries.push({ headers: req.headers, body, answered, at: Date.now() });
      res.writeHead(answered).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/tpp`,
    deliveries,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}

describe('webhooks: every outbox event POSTed, signed, at least once', () => {
  let db: TestDatabase;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let a: TestBff;
  let b: TestBff;

  beforeAll(async () => {
    receiver = await startReceiver();
    db = await createTestDatabase();
    const env = { SCHEDULER_ENABLED: 'false', WEBHOOK_URL: receiver.url, WEBHOOK_SECRET: SECRET, WEBHOOK_POLL_MS: '100' };
    a = await startTestBff(env, { db });
    b = await startTestBff(env, { db });
  });
  afterAll(async () => {
    await a.close();
    await b.close();
    await db.drop();
    await receiver.close();
  });

  it('delivers every event from two replicas exactly once when all goes well, retrying after a 500', async () => {
    for (let i = 0; i < 20; i++) await emit(i % 2 ? a : b, i % 3 ? 'alice' : 'bob', 'payment.status', { paymentId: `p-${i}`, status: 'ACSC' });
    const deadline = Date.now() + 15_000;
    const delivered = () => new Set(receiver.deliveries.filter((d) => d.answered === 204).map((d) => d.headers['x-event-id']));
    while (delivered().size < 20 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(delivered().size).toBe(20);

    const now = Math.floor(Date.now() / 1000);
    for (const d of receiver.deliveries) {
      expect(verifyWebhook(SECRET, d.body, d.headers['x-signature'] as string, now)).toBe(true);
      expect(d.headers['content-type']).toBe('application/json');
      const body = JSON.parse(d.body) as { id: string; type: string; occurredAt: string; userId: string; data: { paymentId: string } };
      expect(body).toEqual({
        id: d.headers['x-event-id'],
        type: 'payment.status',
        occurredAt: expect.any(String),
        userId: expect.any(String),
        data: { paymentId: expect.stringMatching(/^p-\d+$/), status: 'ACSC' },
      });
      // The receiver serves every user: each event names the one it belongs to.
      expect(body.userId).toBe(Number(body.data.paymentId.slice(2)) % 3 ? 'alice' : 'bob');
    }
    // Each event: one refused attempt, then one accepted after a backoff; never a second accepted one.
    const byEvent = new Map<string, Delivery[]>();
    for (const d of receiver.deliveries) byEvent.set(d.headers['x-event-id'] as string, [...(byEvent.get(d.headers['x-event-id'] as string) ?? []), d]);
    expect(byEvent.size).toBe(20);
    for (const attempts of byEvent.values()) {
      expect(attempts.map((d) => d.answered)).toEqual([500, 204]);
      expect(attempts[1].at - attempts[0].at).toBeGreaterThanOrEqual(450);
    }
    const rows = await withClient(db.url, async (c) => (await c.query('SELECT endpoint_id, delivered_at, attempts, replay FROM webhook_deliveries')).rows);
    expect(rows).toHaveLength(20);
    for (const row of rows) expect(row).toEqual({ endpoint_id: 'default', delivered_at: expect.any(Date), attempts: 2, replay: false });
    // Either replica may have made the refused attempts: read both replicas' metrics.
    const metrics = (await Promise.all([a, b].map(async (r) => (await fetch(`${r.url}/metrics`)).text()))).join('\n');
    expect(metrics).toMatch(/^webhook_deliveries_total\{[^}]*outcome="failed"[^}]*\} \d+$/m);
  });

  it('delivers an event whose transaction commits after later events were delivered', async () => {
    const accepted = (paymentId: string) =>
      receiver.deliveries.some((d) => d.answered === 204 && (JSON.parse(d.body) as { data: { paymentId?: string } }).data.paymentId === paymentId);
    const slow = a.app.get(DataSource).createQueryRunner();
    await slow.connect();
    await slow.startTransaction();
    try {
      await a.app.get(OutboxStore).record(slow.manager, { userId: 'alice', type: 'payment.status', data: { paymentId: 'late', status: 'ACSP' } });
      await emit(b, 'alice', 'payment.status', { paymentId: 'early', status: 'ACSP' });
      await waitFor(() => accepted('early'), 10_000, 'the early event at the receiver');
      await slow.commitTransaction();
    } finally {
      await slow.release();
    }
    await waitFor(() => accepted('late'), 10_000, 'the late event at the receiver');
    const ids = receiver.deliveries.filter((d) => d.answered === 204).map((d) => JSON.parse(d.body) as { id: string; data: { paymentId?: string } });
    expect(BigInt(ids.find((e) => e.data.paymentId === 'late')!.id)).toBeLessThan(BigInt(ids.find((e) => e.data.paymentId === 'early')!.id));
  });

  it('signs "<t>.<body>" so that a changed body, another secret or an old timestamp fail verification', () => {
    const body = '{"id":"1","type":"payment.status","data":{"status":"ACSC"}}';
    const now = 1_800_000_000;
    const header = signWebhook(SECRET, body, now);
    expect(header).toMatch(/^t=1800000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(SECRET, body, header, now)).toBe(true);
    expect(verifyWebhook(SECRET, body.replace('ACSC', 'RJCT'), header, now)).toBe(false);
    expect(verifyWebhook(`${SECRET}x`, body, header, now)).toBe(false);
    expect(verifyWebhook(SECRET, body, header, now + 301)).toBe(false);
    expect(verifyWebhook(SECRET, body, header.replace('t=1800000000', 't=1800000001'), now)).toBe(false);
  });

  it('refuses a webhook configuration without a strong secret, or over http in production, never printing the secret', () => {
    const url = 'https://tpp.example/hooks';
    expect(() => eventsConfig.parse({ WEBHOOK_URL: url })).toThrow(new ConfigError('WEBHOOK_SECRET or WEBHOOK_SECRET_FILE must be set when WEBHOOK_URL is'));
    expect(() => eventsConfig.parse({ WEBHOOK_URL: url, WEBHOOK_SECRET: 'short-secret' })).toThrow(/WEBHOOK_SECRET must be at least 32/);
    expect(() => eventsConfig.parse({ WEBHOOK_URL: url, WEBHOOK_SECRET_FILE: '/nonexistent/secret' })).toThrow(/WEBHOOK_SECRET_FILE/);
    expect(() => eventsConfig.parse({ APP_MODE: 'production', WEBHOOK_URL: 'http://tpp.example/hooks', WEBHOOK_SECRET: SECRET })).toThrow(
      /WEBHOOK_URL must be an https URL/,
    );
    expect(() => eventsConfig.parse({ WEBHOOK_URL: 'ftp://tpp.example', WEBHOOK_SECRET: SECRET })).toThrow(/WEBHOOK_URL/);
    const parsed = eventsConfig.parse({ WEBHOOK_URL: url, WEBHOOK_SECRET: SECRET });
    expect(parsed.webhook?.endpoints).toEqual([{ id: 'default', url, eventTypes: expect.arrayContaining(['payment.status']) }]);
    expect(parsed.webhook?.endpoints[0].secret).toBe(SECRET);
    expect(JSON.stringify(parsed)).not.toContain(SECRET);
    expect(eventsConfig.parse({}).webhook).toBeUndefined();
  });

  it('sends only the event types WEBHOOK_EVENT_TYPES lists, and queues no delivery for the others', async () => {
    const filteredDb = await createTestDatabase();
    const filteredReceiver = await startReceiver();
    const only = await startTestBff(
      {
        SCHEDULER_ENABLED: 'false',
        WEBHOOK_URL: filteredReceiver.url,
        WEBHOOK_SECRET: SECRET,
        WEBHOOK_POLL_MS: '100',
        WEBHOOK_EVENT_TYPES: 'connection.status,connection.expiring',
      },
      { db: filteredDb },
    );
    try {
      await emit(only, 'alice', 'payment.status', { paymentId: 'p-skip', status: 'ACSC' });
      await emit(only, 'alice', 'connection.status', { connectionId: 'c-1', status: 'reauth_required' });
      await emit(only, 'alice', 'consent.expiring', { consentId: 'k-skip', validUntil: '2026-12-31' });
      // Settled: the wanted event accepted (after its one refused attempt); the others were never queued for the webhook.
      const deliveries = () =>
        withClient(
          filteredDb.url,
          async (c) => (await c.query('SELECT o.type, d.delivered_at FROM webhook_deliveries d JOIN outbox_events o ON o.id = d.event_id')).rows,
        );
      await waitFor(async () => (await deliveries()).every((d) => d.delivered_at !== null), 15_000);
      expect((await deliveries()).map((d) => d.type)).toEqual(['connection.status']);
      expect(new Set(filteredReceiver.deliveries.map((d) => d.headers['x-event-type']))).toEqual(new Set(['connection.status']));
      expect(filteredReceiver.deliveries.some((d) => d.answered === 204)).toBe(true);
      expect(() =>
        eventsConfig.parse({ WEBHOOK_URL: 'https://tpp.example/hooks', WEBHOOK_SECRET: SECRET, WEBHOOK_EVENT_TYPES: 'payment.status,payment.made' }),
      ).toThrow(/WEBHOOK_EVENT_TYPES/);
    } finally {
      await only.close();
      await filteredDb.drop();
      await filteredReceiver.close();
    }
  });
});
