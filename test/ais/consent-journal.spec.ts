import request from 'supertest';
import { AspspRegistry } from '../../src/aspsp/aspsp.registry.js';
import { utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { ConsentStore } from '../../src/modules/ais/consent.store.js';
import { ConsentsService } from '../../src/modules/ais/consents.service.js';
import { PollWorker } from '../../src/modules/scheduler/poll-worker.service.js';
import { accessTokenOf, nextStatusWindow } from '../support/bank-world.js';
import { withClient } from '../support/database.js';
import { scrape, until } from '../scheduler/support.js';
import {
  admin,
  auth,
  bankConsentIdOf,
  bankRequests,
  connect,
  decide,
  outboxEvents,
  pollItems,
  startAisWorld,
  type AisWorld,
  type Connected,
} from './support.js';

/** The BFF gives up on Flowe after this; the sandbox's "process, then never answer" fault outlasts it. */
const FLOWE_TIMEOUT_MS = 3000;

interface PendingAtBank {
  id: string;
}

describe('AIS consent creation, journaled like a payment', () => {
  let world: AisWorld;
  let alice: Connected;
  const api = () => request(world.bff.url);
  const consents = () => world.bff.app.get(ConsentsService);
  const atBank = async (): Promise<string[]> =>
    ((await (await fetch(`${world.sandbox.httpUrl}/psu/api/pending?username=alice`)).json()) as { consents: PendingAtBank[] }).consents.map((c) => c.id);
  const unreconciled = async () => Number(/^ais_consents_unreconciled\{[^}]*aspsp="flowe"[^}]*\} (\d+)$/m.exec(await scrape(world.bff.url))![1]);

  beforeAll(async () => {
    world = await startAisWorld({ env: { FLOWE_TIMEOUT_MS: String(FLOWE_TIMEOUT_MS) } });
    alice = await connect(world.bff.url, 'alice', 'flowe');
  });
  afterAll(() => world.close());

  it.each([
    ['times out (the bank created it, then never answered)', 'hang', 504, 'bank_timeout', 'bank_timeout'],
    ['loses the connection after the bank created it', 'reset', 503, 'bank_unavailable', 'bank_error'],
  ] as const)(
    'keeps a consent whose creation %s as unknown: announced, counted, never re-sent, never forgotten',
    async (_what, dropResponse, status, code, reason) => {
      const before = await atBank();
      const gauge = await unreconciled();
      const sent = (await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length;
      await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consents', dropResponse, times: 1 });
      const res = await api().post(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).send({}).expect(status);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
      expect(res.body).toMatchObject({
        code,
        aspspId: 'flowe',
        detail: expect.stringMatching(/^flowe:/),
        consentId: expect.any(String),
        consentStatus: 'unknown',
      });
      const consentId = res.body.consentId as string;

      // The bank did create it (the PSU has a request to approve), and it was sent exactly once.
      expect((await atBank()).filter((id) => !before.includes(id))).toHaveLength(1);
      expect((await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length).toBe(sent + 1);
      // Visible with a clear status, announced once, counted.
      const view = await api().get(`/api/v1/consents/${consentId}`).set(auth(alice.token)).expect(200);
      expect(view.body).toMatchObject({ status: 'unknown', statusReason: reason, reconsentRequired: false });
      expect((await outboxEvents(world.bff.db, consentId)).map((e) => e.payload)).toEqual([
        { consentId, connectionId: alice.connectionId, status: 'unknown', reconsentRequired: false },
      ]);
      expect(await unreconciled()).toBe(gauge + 1);
      // Without the bank's id nothing can be asked: the scheduler has nothing to poll, the mark stays.
      expect(await pollItems(world.bff.db, consentId)).toEqual([]);
      await expect(consents().pollStatus(consentId)).resolves.toEqual({ final: true, status: 'unknown' });
      expect((await api().get(`/api/v1/consents/${consentId}?refresh=true`).set(auth(alice.token)).expect(200)).body.status).toBe('unknown');
      await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    },
  );

  it('reconciles an unknown consent the bank gave its id for: asks its status, then polls it like any other', async () => {
    // The journal's steps with a real bank consent: reserved, created at the bank, answer unreadable (no status).
    const store = world.bff.app.get(ConsentStore);
    const reserved = await store.reserve(
      {
        userId: 'alice',
        connectionId: alice.connectionId,
        aspspId: 'flowe',
        validUntil: utcDate(),
        frequencyPerDay: 1,
        recurringIndicator: true,
        budgetBlockedUntil: null,
        accountsFetchedAt: null,
        statusChangedAt: new Date(),
      },
      new Date(Date.now() + 60_000),
    );
    const adapter = world.bff.app.get(AspspRegistry).get('flowe');
    const created = await adapter.ais.createConsent(
      await accessTokenOf(world.bff, alice.connectionId),
      adapter.consentBody({ validUntil: utcDate(), frequencyPerDay: 1, recurringIndicator: true }),
    );
    const unknown = await store.recordCreated(reserved.id, created.consentId, undefined);
    expect(unknown).toMatchObject({ status: 'unknown', statusReason: 'unreadable_status', bankConsentId: created.consentId });
    expect(await pollItems(world.bff.db, reserved.id)).toEqual(['consent']);

    await expect(consents().pollStatus(reserved.id)).resolves.toEqual({ final: false, status: 'received' });
    await decide(world.sandbox.httpUrl, 'consent', created.consentId, 'approve');
    await nextStatusWindow(); // one status request per consent per second
    await expect(consents().pollStatus(reserved.id)).resolves.toEqual({ final: true, status: 'valid' });
    expect(await pollItems(world.bff.db, reserved.id)).toEqual(['ais-refresh']);
    expect((await outboxEvents(world.bff.db, reserved.id)).map((e) => e.payload.status)).toEqual(['unknown', 'received', 'valid']);
  });

  it('settles a creation whose process died mid-call: the scheduler finds the pending row and marks it unknown', async () => {
    const store = world.bff.app.get(ConsentStore);
    const reserved = await store.reserve(
      {
        userId: 'alice',
        connectionId: alice.connectionId,
        aspspId: 'flowe',
        validUntil: utcDate(),
        frequencyPerDay: 1,
        recurringIndicator: true,
        budgetBlockedUntil: null,
        accountsFetchedAt: null,
        statusChangedAt: new Date(),
      },
      new Date(Date.now() + 3_600_000),
    );
    // While the call could still be running, the row is pending: shown, not announced, not deletable.
    expect((await api().get(`/api/v1/consents/${reserved.id}`).set(auth(alice.token)).expect(200)).body.status).toBe('pending');
    expect((await api().delete(`/api/v1/consents/${reserved.id}`).set(auth(alice.token)).expect(409)).body).toMatchObject({
      code: 'consent_not_valid',
      consentStatus: 'pending',
    });
    await expect(consents().pollStatus(reserved.id)).resolves.toMatchObject({ final: false, status: 'pending', nextPollAt: expect.any(Date) });
    expect(await outboxEvents(world.bff.db, reserved.id)).toEqual([]);

    // Long after any call could have ended, the scheduler's item fires.
    await withClient(world.bff.db.url, async (c) => {
      await c.query("UPDATE ais_consents SET created_at = now() - interval '1 hour' WHERE id = $1", [reserved.id]);
      await c.query("UPDATE poll_items SET next_poll_at = now() WHERE kind = 'consent' AND resource_id = $1", [reserved.id]);
    });
    const worker = world.bff.app.get(PollWorker);
    await until('the scheduler to settle the abandoned creation', async () => {
      await worker.tick();
      await until('polls to finish', () => worker.busy === 0, 5000);
      const view = await api().get(`/api/v1/consents/${reserved.id}`).set(auth(alice.token)).expect(200);
      return view.body.status === 'unknown' && view.body;
    });
    expect((await api().get(`/api/v1/consents/${reserved.id}`).set(auth(alice.token)).expect(200)).body).toMatchObject({
      status: 'unknown',
      statusReason: 'interrupted',
    });
    expect((await outboxEvents(world.bff.db, reserved.id)).map((e) => e.payload.status)).toEqual(['unknown']);
    expect(await pollItems(world.bff.db, reserved.id)).toEqual([]);
  });

  it('keeps nothing when the consent request never left: the access token could not be refreshed', async () => {
    const before = (await api().get('/api/v1/consents').set(auth(alice.token)).expect(200)).body.consents.length;
    const sent = (await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length;
    await withClient(world.bff.db.url, (c) =>
      c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [alice.connectionId]),
    );
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 503 });
    try {
      const res = await api().post(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).send({}).expect(503);
      expect(res.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe' });
      expect(res.body.consentId).toBeUndefined();
    } finally {
      await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    }
    expect((await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length).toBe(sent);
    expect((await api().get('/api/v1/consents').set(auth(alice.token)).expect(200)).body.consents.length).toBe(before);
  });

  it('answers with the bank’s own refusal and keeps nothing when the bank refused the consent', async () => {
    const before = (await api().get('/api/v1/consents').set(auth(alice.token)).expect(200)).body.consents.length;
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consents', force429: true, times: 1 });
    const res = await api().post(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).send({}).expect(503);
    expect(res.body).toMatchObject({ code: 'bank_rate_limited', aspspId: 'flowe' });
    expect(res.body.consentId).toBeUndefined();
    expect((await api().get('/api/v1/consents').set(auth(alice.token)).expect(200)).body.consents.length).toBe(before);
    // A normal creation after it works, and answers as the bank's guide shows it (200, one link) are understood.
    const ok = await api().post(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).send({}).expect(201);
    expect(ok.body.status).toBe('received');
    expect(await bankConsentIdOf(world.bff.db, ok.body.id)).toMatch(/^AAAC/);
  });
});
