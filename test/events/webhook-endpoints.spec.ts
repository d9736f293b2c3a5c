import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/config/define-config.js';
import { eventsConfig } from '../../src/config/events.config.js';
import { verifyWebhook } from '../../src/modules/events/webhook-signature.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { waitFor } from '../support/process.js';
import { emit, startWebhookReceiver, type ReceivedWebhook, type WebhookReceiver } from './support.js';

const DEFAULT_SECRET = 'whsec_default_0123456789abcdef0123456789abcdef';
const LEDGER_SECRET = 'whsec_ledger_0123456789abcdef0123456789abcdef';
const AUDIT_SECRET = 'whsec_audit_0123456789abcdef0123456789abcdef01';
const OPS_TOKEN = 'ops-token-7f1d2c9a0b8e4f6a1c3d5e7f9a0b2c4d';

const idOf = (r: ReceivedWebhook) => r.headers['x-event-id'] as string;
const typesOf = (receiver: WebhookReceiver) => receiver.accepted().map((e) => e.type);
const paymentIdsOf = (receiver: WebhookReceiver) => receiver.accepted().map((e) => e.data.paymentId);

/** Several receivers (WEBHOOK_URL and WEBHOOK_ENDPOINTS), each with its own event filter and its own retries, and the ops replay. */
describe('webhook endpoints', () => {
  let home: WebhookReceiver;
  let ledger: WebhookReceiver;
  let audit: WebhookReceiver;
  let bff: TestBff;

  beforeAll(async () => {
    [home, ledger, audit] = await Promise.all([startWebhookReceiver(), startWebhookReceiver(), startWebhookReceiver()]);
    const secretFile = join(mkdtempSync(join(tmpdir(), 'webhook-endpoints-')), 'ledger-secret');
    writeFileSync(secretFile, `${LEDGER_SECRET}\n`);
    bff = await startTestBff({
      SCHEDULER_ENABLED: 'false',
      OPS_TOKEN,
      WEBHOOK_URL: home.url,
      WEBHOOK_SECRET: DEFAULT_SECRET,
      WEBHOOK_EVENT_TYPES: 'connection.status',
      WEBHOOK_ENDPOINTS: JSON.stringify([
        { id: 'ledger', url: ledger.url, secretFile, eventTypes: ['payment.status'] },
        { id: 'audit', url: audit.url, secret: AUDIT_SECRET },
      ]),
      WEBHOOK_POLL_MS: '50',
      WEBHOOK_TIMEOUT_MS: '5000',
      WEBHOOK_MAX_BACKOFF_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await bff.close();
    await Promise.all([home.close(), ledger.close(), audit.close()]);
  });

  const replay = (eventId: string, query = '', token: string | null = OPS_TOKEN) =>
    fetch(`${bff.url}/ops/webhooks/events/${eventId}/replay${query}`, { method: 'POST', headers: token ? { authorization: `Bearer ${token}` } : {} });

  it('sends each receiver exactly the types its filter takes, signed with its own secret', async () => {
    await emit(bff, 'alice', 'payment.status', { paymentId: 'p-1', status: 'ACSC' });
    await emit(bff, 'alice', 'connection.status', { connectionId: 'c-1', status: 'revoked' });
    await emit(bff, 'bob', 'consent.expiring', { consentId: 'k-1', validUntil: '2026-12-31' });
    await waitFor(() => audit.accepted().length === 3 && ledger.accepted().length === 1 && home.accepted().length === 1, 10_000, 'every delivery');
    // Nothing else arrives later: only the rows each filter took were ever queued.
    await new Promise((r) => setTimeout(r, 500));
    expect(typesOf(home)).toEqual(['connection.status']);
    expect(typesOf(ledger)).toEqual(['payment.status']);
    expect(typesOf(audit).sort()).toEqual(['connection.status', 'consent.expiring', 'payment.status']);
    const now = Math.floor(Date.now() / 1000);
    for (const [receiver, secret] of [
      [home, DEFAULT_SECRET],
      [ledger, LEDGER_SECRET],
      [audit, AUDIT_SECRET],
    ] as const) {
      for (const r of receiver.received) expect(verifyWebhook(secret, r.body, r.headers['x-signature'] as string, now)).toBe(true);
      expect(receiver.received.some((r) => r.headers['x-event-replay'] !== undefined)).toBe(false);
    }
    // The same event reaches two receivers under the same id.
    expect(idOf(ledger.received[0])).toBe(audit.received.map(idOf).find((id) => id === idOf(ledger.received[0])));
    const rows = await withClient(bff.db.url, async (c) => (await c.query('SELECT endpoint_id FROM webhook_deliveries ORDER BY endpoint_id')).rows);
    expect(rows.map((r) => r.endpoint_id)).toEqual(['audit', 'audit', 'audit', 'default', 'ledger']);
  });

  it('keeps delivering to the others while one receiver hangs, and delivers to it once it is back', async () => {
    ledger.answer(0);
    const before = ledger.received.length;
    await emit(bff, 'alice', 'payment.status', { paymentId: 'p-hang-0', status: 'ACSC' });
    await waitFor(() => ledger.received.length > before, 5_000, 'the ledger hanging on a POST');
    const sent: Record<string, number> = {};
    for (let i = 1; i <= 4; i++) {
      sent[`p-hang-${i}`] = Date.now();
      await emit(bff, 'alice', 'payment.status', { paymentId: `p-hang-${i}`, status: 'ACSC' });
    }
    await waitFor(() => Object.keys(sent).every((p) => paymentIdsOf(audit).includes(p)), 5_000, 'the audit receiver getting every event');
    // Well within the hung POST's timeout (5 s): the audit endpoint never waited for the ledger.
    const latencies = audit.received
      .map((r) => ({ at: r.at, paymentId: (JSON.parse(r.body) as { data: { paymentId?: string } }).data.paymentId ?? '' }))
      .filter((r) => sent[r.paymentId] !== undefined)
      .map((r) => r.at - sent[r.paymentId]);
    expect(latencies).toHaveLength(4);
    expect(Math.max(...latencies)).toBeLessThan(2500);
    expect(paymentIdsOf(ledger).filter((p) => String(p).startsWith('p-hang'))).toEqual([]);

    ledger.answer(204);
    await waitFor(() => [0, 1, 2, 3, 4].every((i) => paymentIdsOf(ledger).includes(`p-hang-${i}`)), 20_000, 'the ledger catching up');
    const metrics = await (await fetch(`${bff.url}/metrics`, { headers: { authorization: `Bearer ${OPS_TOKEN}` } })).text();
    expect(metrics).toMatch(/^webhook_deliveries_total\{endpoint="ledger",outcome="failed"[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^webhook_deliveries_total\{endpoint="audit",outcome="delivered"[^}]*\} [1-9]\d*$/m);
    expect(metrics).toMatch(/^webhook_pending_events\{endpoint="ledger"[^}]*\} 0$/m);
  });

  it('replays one event on an ops request: same id, signed, marked as a replay, to every endpoint that takes it or the one named', async () => {
    const event = ledger.received.find((r) => r.answered === 204)!;
    const eventId = idOf(event);
    const [ledgerBefore, auditBefore, homeBefore] = [ledger.received.length, audit.received.length, home.received.length];

    const all = await replay(eventId);
    expect(all.status).toBe(202);
    expect(await all.json()).toEqual({ eventId, type: 'payment.status', endpoints: ['audit', 'ledger'] });
    await waitFor(() => ledger.received.length > ledgerBefore && audit.received.length > auditBefore, 10_000, 'the replays');
    for (const [receiver, secret] of [
      [ledger, LEDGER_SECRET],
      [audit, AUDIT_SECRET],
    ] as const) {
      const again = receiver.received.at(-1)!;
      expect(idOf(again)).toBe(eventId);
      expect(again.headers['x-event-replay']).toBe('true');
      expect(verifyWebhook(secret, again.body, again.headers['x-signature'] as string, Math.floor(Date.now() / 1000))).toBe(true);
      expect(JSON.parse(again.body)).toEqual(JSON.parse(event.body));
    }
    expect(home.received.length).toBe(homeBefore);

    const one = await replay(eventId, '?endpoint=ledger');
    expect(await one.json()).toEqual({ eventId, type: 'payment.status', endpoints: ['ledger'] });
    await waitFor(() => ledger.received.filter((r) => idOf(r) === eventId).length === 3, 10_000, 'the second replay');
    await new Promise((r) => setTimeout(r, 300));
    expect(audit.received.filter((r) => idOf(r) === eventId)).toHaveLength(2);
  });

  it('answers the replay route with problems: unknown event 404, unknown endpoint 400, an endpoint that does not take the type 409', async () => {
    const eventId = idOf(ledger.received[0]);
    const unknown = await replay('999999999');
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toContain('application/problem+json');
    const badEndpoint = await replay(eventId, '?endpoint=nope');
    expect(badEndpoint.status).toBe(400);
    expect(((await badEndpoint.json()) as { errors: { field: string }[] }).errors[0].field).toBe('endpoint');
    expect((await replay('abc')).status).toBe(400);
    const notTaken = await replay(eventId, '?endpoint=default');
    expect(notTaken.status).toBe(409);
    expect(((await notTaken.json()) as { code: string }).code).toBe('webhook_not_configured');
    // The ops token is required on the main port, even in sandbox mode.
    expect((await replay(eventId, '', null)).status).toBe(401);
    expect((await replay(eventId, '', 'wrong-token-wrong-token-wrong-token')).status).toBe(401);
  });

  it('answers 409 when no webhook is configured, and is not served on the main port without an ops token', async () => {
    const plain = await startTestBff({ SCHEDULER_ENABLED: 'false', OPS_TOKEN });
    const open = await startTestBff({ SCHEDULER_ENABLED: 'false' });
    try {
      await emit(plain, 'alice', 'payment.status', { paymentId: 'p-1', status: 'ACSC' });
      const res = await fetch(`${plain.url}/ops/webhooks/events/1/replay`, { method: 'POST', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
      expect(res.status).toBe(409);
      expect(((await res.json()) as { code: string }).code).toBe('webhook_not_configured');
      // Sandbox mode serves metrics to anyone, but an action never: without OPS_TOKEN it does not exist on the main port.
      expect((await fetch(`${open.url}/metrics`)).status).toBe(200);
      expect((await fetch(`${open.url}/ops/webhooks/events/1/replay`, { method: 'POST' })).status).toBe(404);
      expect((await fetch(`${open.url}/OPS/webhooks/events/1/replay`, { method: 'POST' })).status).toBe(404);
    } finally {
      await plain.close();
      await open.close();
    }
  });
});

describe('WEBHOOK_ENDPOINTS configuration', () => {
  const parse =
    (endpoints: unknown, env: Record<string, string> = {}) =>
    () =>
      eventsConfig.parse({ WEBHOOK_ENDPOINTS: JSON.stringify(endpoints), ...env });
  const ok = { id: 'ledger', url: 'https://ledger.example/hooks', secret: LEDGER_SECRET, eventTypes: ['payment.status'] };

  it('reads endpoints with their own filters next to WEBHOOK_URL, secrets kept out of serialisation', () => {
    const config = eventsConfig.parse({ WEBHOOK_URL: 'https://tpp.example/hooks', WEBHOOK_SECRET: DEFAULT_SECRET, WEBHOOK_ENDPOINTS: JSON.stringify([ok]) });
    expect(config.webhook?.endpoints.map((e) => [e.id, e.eventTypes])).toEqual([
      ['default', ['consent.status', 'payment.status', 'connection.status', 'connection.expiring', 'consent.expiring']],
      ['ledger', ['payment.status']],
    ]);
    expect(config.webhook?.endpoints[1].secret).toBe(LEDGER_SECRET);
    expect(JSON.stringify(config)).not.toContain(LEDGER_SECRET);
    expect(JSON.stringify(config)).not.toContain(DEFAULT_SECRET);
    const dir = mkdtempSync(join(tmpdir(), 'webhook-endpoints-'));
    writeFileSync(join(dir, 'endpoints.json'), JSON.stringify([ok]));
    expect(eventsConfig.parse({ WEBHOOK_ENDPOINTS_FILE: join(dir, 'endpoints.json') }).webhook?.endpoints.map((e) => e.id)).toEqual(['ledger']);
  });

  it.each([
    ['not JSON', () => eventsConfig.parse({ WEBHOOK_ENDPOINTS: '[{' }), /WEBHOOK_ENDPOINTS must be a JSON array/],
    ['a duplicate id', parse([ok, { ...ok, url: 'https://other.example/' }]), /the endpoint id "ledger" is used twice/],
    [
      'the id of WEBHOOK_URL',
      parse([{ ...ok, id: 'default' }], { WEBHOOK_URL: 'https://tpp.example/hooks', WEBHOOK_SECRET: DEFAULT_SECRET }),
      /the endpoint id "default" is used twice/,
    ],
    ['a bad URL', parse([{ ...ok, url: 'ftp://ledger.example' }]), /WEBHOOK_ENDPOINTS\[0\] \("ledger"\): url must be an absolute http\(s\) URL/],
    ['a short secret', parse([{ ...ok, secret: 'short' }]), /\("ledger"\): secret must be at least 32 characters/],
    ['no secret', parse([{ ...ok, secret: undefined }]), /secret or secretFile must be set/],
    ['a missing secret file', parse([{ ...ok, secret: undefined, secretFile: '/nonexistent/secret' }]), /secretFile points to a file that does not exist/],
    ['an unknown type', parse([{ ...ok, eventTypes: ['payment.made'] }]), /\("ledger"\): eventTypes must list one or more of/],
    ['a bad id', parse([{ ...ok, id: 'Ledger One' }]), /WEBHOOK_ENDPOINTS\[0\]: id must be/],
    ['an unknown field', parse([{ ...ok, secrets: 'x' }]), /has an unknown field "secrets"/],
    ['http in production', parse([{ ...ok, url: 'http://ledger.example/' }], { APP_MODE: 'production' }), /url must be an https URL in production mode/],
  ])('refuses %s with a problem naming the endpoint, never its secret', (_why, run, message) => {
    let error: unknown;
    try {
      run();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(message);
    expect((error as ConfigError).message).not.toContain(LEDGER_SECRET);
  });
});
