import request from 'supertest';
import { addDays, utcDate } from '../../src/aspsp/berlin-group/dates.js';
import { ConsentsService } from '../../src/modules/ais/consents.service.js';
import { nextStatusWindow } from '../support/bank-world.js';
import { withClient } from '../support/database.js';
import {
  admin,
  aisReads,
  auth,
  bankConsentIdOf,
  bankRequests,
  connect,
  createConsent,
  decide,
  outboxEvents,
  pollItems,
  startAisWorld,
  validConsent,
  type AisWorld,
  type Connected,
} from './support.js';

describe('AIS consents: creation within the bank’s rules, status, deletion, re-consent', () => {
  let world: AisWorld;
  let flowe: Connected;
  let connectpay: Connected;
  const api = () => request(world.bff.url);
  const today = utcDate();

  beforeAll(async () => {
    world = await startAisWorld();
    flowe = await connect(world.bff.url, 'alice', 'flowe');
    connectpay = await connect(world.bff.url, 'alice', 'connectpay');
  });
  afterAll(() => world.close());

  it('creates a Flowe global consent with working defaults, stores it as received and queues its polling', async () => {
    const consent = await createConsent(world.bff.url, flowe);
    expect(consent).toMatchObject({
      status: 'received',
      validUntil: addDays(today, 90),
      frequencyPerDay: 4,
      recurringIndicator: true,
      reconsentRequired: false,
      aspspId: 'flowe',
    });
    expect(JSON.stringify(consent)).not.toMatch(/token|AAAC/i); // neither a token nor the bank's consent id
    const bankId = await bankConsentIdOf(world.bff.db, consent.id);
    const pending = (await (await fetch(`${world.sandbox.httpUrl}/psu/api/pending?username=alice`)).json()) as {
      consents: { id: string; access: unknown; validUntil: string; frequencyPerDay: number; recurringIndicator: boolean }[];
    };
    expect(pending.consents.find((c) => c.id === bankId)).toMatchObject({
      access: { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' },
      validUntil: addDays(today, 90),
      frequencyPerDay: 4,
      recurringIndicator: true,
    });
    // The PSU's IP went with the creation (an attended request); the bank answered as its guide shows (200, one `/v1/…` link).
    const creation = (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'consents' })).at(-1)!;
    expect(creation).toMatchObject({ status: 200, psuIpPresent: true, psuIp: '127.0.0.1' });
    expect(consent.budget).toEqual({ limit: 4, used: 0, remaining: 4, counting: 'per_call' });
    expect(await pollItems(world.bff.db, consent.id)).toEqual(['consent']);
    expect((await outboxEvents(world.bff.db, consent.id)).map((e) => e.payload)).toEqual([
      { consentId: consent.id, connectionId: flowe.connectionId, status: 'received', reconsentRequired: false },
    ]);
  });

  it('creates a ConnectPay consent (allPsd2) and caps a validUntil beyond 90 days as the bank does', async () => {
    const consent = await createConsent(world.bff.url, connectpay, { validUntil: addDays(today, 400), frequencyPerDay: 2 });
    expect(consent).toMatchObject({ status: 'received', validUntil: addDays(today, 90), frequencyPerDay: 2 });
    const bankId = await bankConsentIdOf(world.bff.db, consent.id);
    const pending = (await (await fetch(`${world.sandbox.httpUrl}/psu/api/pending?username=alice`)).json()) as {
      consents: { id: string; access: unknown; validUntil: string }[];
    };
    expect(pending.consents.find((c) => c.id === bankId)).toMatchObject({ access: { allPsd2: 'allAccounts' }, validUntil: addDays(today, 90) });
  });

  it.each([
    [
      'recurringIndicator false',
      { recurringIndicator: false },
      'recurringIndicator',
      /Flowe rule: must be true; for a one-shot consent send frequencyPerDay 1 and validUntil today/,
    ],
    ['validUntil beyond today + 90 days', { validUntil: addDays(today, 91) }, 'validUntil', /Flowe rule: cannot be later than today \(UTC\) \+ 90 days/],
    ['frequencyPerDay above 4', { frequencyPerDay: 5 }, 'frequencyPerDay', /Flowe rule: cannot be greater than 4/],
    ['validUntil in the past', { validUntil: addDays(today, -1) }, 'validUntil', /must not be in the past/],
  ])('refuses a Flowe consent with %s: 400 naming the rule, no bank call', async (_name, body, field, message) => {
    const before = (await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length;
    const res = await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).send(body).expect(400);
    expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
    expect((await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length).toBe(before);
  });

  it('applies the defaults to a POST without any body', async () => {
    const res = await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).expect(201);
    expect(res.body).toMatchObject({ status: 'received', validUntil: addDays(today, 90), frequencyPerDay: 4, recurringIndicator: true });
  });

  it('answers 5xx naming the bank when the bank fails, and changes nothing', async () => {
    const consent = await createConsent(world.bff.url, flowe);
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consent-status', errorRate: 1, errorStatus: 503, times: 3 });
    const res = await api().get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(flowe.token)).expect(503);
    expect(res.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe', detail: expect.stringMatching(/^flowe:/) });
    expect((await api().get(`/api/v1/consents/${consent.id}`).set(auth(flowe.token)).expect(200)).body.status).toBe('received');
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('keeps a consent the bank may have created (500) as unknown, never re-sent, and drops one the bank could not handle or refused', async () => {
    const list = async () => (await api().get('/api/v1/consents').set(auth(flowe.token)).expect(200)).body.consents as { id: string; status: string }[];
    const creations = async () => (await bankRequests(world.sandbox.httpUrl, { route: 'consents' })).length;
    const before = (await list()).length;
    // A 500 may come after the bank stored the consent: the request is kept as unknown, with its event.
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consents', errorRate: 1, errorStatus: 500, times: 1 });
    const sent = await creations();
    const failed = await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).send({}).expect(503);
    expect(failed.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe', consentId: expect.any(String), consentStatus: 'unknown' });
    expect(await creations()).toBe(sent + 1);
    const unknown = (await list()).find((c) => c.id === failed.body.consentId);
    expect(unknown).toMatchObject({ status: 'unknown', statusReason: 'bank_error', reconsentRequired: false });
    expect((await outboxEvents(world.bff.db, failed.body.consentId)).map((e) => e.payload.status)).toEqual(['unknown']);
    // Without the bank's id there is nothing to ask: no poll item; the user can end it (no bank call).
    expect(await pollItems(world.bff.db, failed.body.consentId)).toEqual([]);
    const deletes = (await bankRequests(world.sandbox.httpUrl, { route: 'consent-delete' })).length;
    expect((await api().delete(`/api/v1/consents/${failed.body.consentId}`).set(auth(flowe.token)).expect(200)).body).toMatchObject({
      status: 'terminatedByTpp',
      statusReason: 'bank_id_unknown',
    });
    expect((await bankRequests(world.sandbox.httpUrl, { route: 'consent-delete' })).length).toBe(deletes);

    // (A good answer in between keeps the bank's circuit breaker closed after the failures above.)
    await createConsent(world.bff.url, flowe);
    // A 503 ("unable to handle the request") and a 429 create nothing: the journaled row goes, nothing is announced.
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consents', errorRate: 1, errorStatus: 503, times: 1 });
    const unavailable = await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).send({}).expect(503);
    expect(unavailable.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe' });
    expect(unavailable.body.consentId).toBeUndefined();
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'consents', force429: true, times: 1 });
    await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).send({}).expect(503);
    expect((await list()).length).toBe(before + 2);
    expect(
      await withClient(world.bff.db.url, async (c) => (await c.query("SELECT count(*)::int AS n FROM ais_consents WHERE status = 'pending'")).rows[0].n),
    ).toBe(0);
    await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
  });

  it('accepts a Flowe one-shot consent (frequency 1, validUntil today)', async () => {
    const consent = await createConsent(world.bff.url, flowe, { frequencyPerDay: 1, validUntil: today });
    expect(consent).toMatchObject({ frequencyPerDay: 1, validUntil: today, recurringIndicator: true });
  });

  it('refuses a ConnectPay one-off consent used more than once a day (Berlin Group rule)', async () => {
    const res = await api()
      .post(`/api/v1/connections/${connectpay.connectionId}/consents`)
      .set(auth(connectpay.token))
      .send({ recurringIndicator: false, frequencyPerDay: 3 })
      .expect(400);
    expect(res.body.errors).toEqual([{ field: 'frequencyPerDay', message: expect.stringMatching(/one-off consent/) }]);
    const oneOff = await createConsent(world.bff.url, connectpay, { recurringIndicator: false });
    expect(oneOff).toMatchObject({ recurringIndicator: false, frequencyPerDay: 1, validUntil: today });
  });

  it.each([
    [{ validUntil: 'tomorrow' }, ['validUntil']],
    [{ validUntil: '2030-02-30' }, ['validUntil']],
    [{ validUntil: '2030-01-01T00:00:00Z' }, ['validUntil']],
    [{ validUntil: 20300101 }, ['validUntil']],
    [{ frequencyPerDay: 1.5, recurringIndicator: 'yes' }, ['frequencyPerDay', 'recurringIndicator']],
    [{ frequencyPerDay: 0 }, ['frequencyPerDay']],
    [{ access: { allPsd2: 'allAccounts' } }, ['access']],
  ])('refuses a malformed body %j naming each bad field', async (body, fields) => {
    const res = await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).set(auth(flowe.token)).send(body).expect(400);
    expect([...new Set(res.body.errors.map((e: { field: string }) => e.field))].sort()).toEqual(fields);
  });

  it('answers 409 for a connection made without the ais service, 404 for unknown or foreign connections, 400 for a non-uuid id', async () => {
    const pisOnly = await connect(world.bff.url, 'alice', 'flowe', ['pis']);
    const res = await api().post(`/api/v1/connections/${pisOnly.connectionId}/consents`).set(auth(pisOnly.token)).send({}).expect(409);
    expect(res.body).toMatchObject({ code: 'service_not_granted', requiredService: 'ais', detail: expect.stringMatching(/ais/) });
    const bob = await connect(world.bff.url, 'bob', 'flowe');
    await api().post(`/api/v1/connections/${bob.connectionId}/consents`).set(auth(flowe.token)).send({}).expect(404);
    await api().post('/api/v1/connections/6f1c1f0e-9d7a-4a51-8d47-3b1b4c1d2e3f/consents').set(auth(flowe.token)).send({}).expect(404);
    await api().post('/api/v1/connections/..%2F..%2Fadmin/consents').set(auth(flowe.token)).send({}).expect(400);
    await api().post(`/api/v1/connections/${flowe.connectionId}/consents`).send({}).expect(401);
  });

  it('moves to valid when the PSU approves (asked once with refresh=true), announces it and swaps polling for background refreshes', async () => {
    const consent = await createConsent(world.bff.url, flowe);
    const bankId = await bankConsentIdOf(world.bff.db, consent.id);
    const still = await api().get(`/api/v1/consents/${consent.id}`).set(auth(flowe.token)).expect(200);
    expect(still.body.status).toBe('received');
    await decide(world.sandbox.httpUrl, 'consent', bankId, 'approve');
    // Without refresh the stored status is served: no bank call.
    const statusCalls = async () => (await bankRequests(world.sandbox.httpUrl, { route: 'consent-status' })).filter((r) => r.consentId === bankId).length;
    expect((await api().get(`/api/v1/consents/${consent.id}`).set(auth(flowe.token)).expect(200)).body.status).toBe('received');
    expect(await statusCalls()).toBe(0);
    const valid = await api().get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(flowe.token)).expect(200);
    expect(valid.body).toMatchObject({ status: 'valid', reconsentRequired: false });
    expect(await statusCalls()).toBe(1);
    expect(await pollItems(world.bff.db, consent.id)).toEqual(['ais-refresh']);
    // Asking again changes nothing and announces nothing twice.
    await api().get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(flowe.token)).expect(200);
    expect((await outboxEvents(world.bff.db, consent.id)).map((e) => e.payload.status)).toEqual(['received', 'valid']);
  });

  it('lets the scheduler poll: pollStatus asks the bank once, records a rejection with reconsentRequired and is final', async () => {
    const consent = await createConsent(world.bff.url, flowe);
    const consents = world.bff.app.get(ConsentsService);
    await expect(consents.pollStatus(consent.id)).resolves.toEqual({ final: false, status: 'received' });
    await decide(world.sandbox.httpUrl, 'consent', await bankConsentIdOf(world.bff.db, consent.id), 'reject');
    await nextStatusWindow(); // one status request per second per consent
    await expect(consents.pollStatus(consent.id)).resolves.toEqual({ final: true, status: 'rejected' });
    expect(await pollItems(world.bff.db, consent.id)).toEqual([]);
    const view = await api().get(`/api/v1/consents/${consent.id}`).set(auth(flowe.token)).expect(200);
    expect(view.body).toMatchObject({ status: 'rejected', reconsentRequired: true });
    const accounts = await api().get(`/api/v1/consents/${consent.id}/accounts`).set(auth(flowe.token)).expect(409);
    expect(accounts.body).toMatchObject({ code: 'reconsent_required', consentStatus: 'rejected', reconsentRequired: true });
    expect((await outboxEvents(world.bff.db, consent.id)).at(-1)!.payload).toMatchObject({ status: 'rejected', reconsentRequired: true });
    await expect(consents.pollStatus('6f1c1f0e-9d7a-4a51-8d47-3b1b4c1d2e3f')).rejects.toMatchObject({ code: 'not_found' });
  });

  it('expires a consent the PSU never approved when the scheduler says the deadline passed, withdrawing it at the bank', async () => {
    const consent = await createConsent(world.bff.url, flowe);
    await expect(world.bff.app.get(ConsentsService).expireUnapproved(consent.id)).resolves.toEqual({ final: true, status: 'expired' });
    const bankId = await bankConsentIdOf(world.bff.db, consent.id);
    expect((await bankRequests(world.sandbox.httpUrl, { route: 'consent-delete' })).some((r) => r.consentId === bankId && r.status === 204)).toBe(true);
    const view = await api().get(`/api/v1/consents/${consent.id}`).set(auth(flowe.token)).expect(200);
    expect(view.body).toMatchObject({ status: 'expired', reconsentRequired: true, statusReason: 'approval_timeout' });
  });

  it('DELETE terminates the consent at the bank and here; a second DELETE changes nothing', async () => {
    const id = await validConsent(world, flowe);
    const bankId = await bankConsentIdOf(world.bff.db, id);
    const res = await api().delete(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200);
    expect(res.body).toMatchObject({ status: 'terminatedByTpp', reconsentRequired: false });
    const bankStatus = await bankRequests(world.sandbox.httpUrl, { route: 'consent-delete' });
    expect(bankStatus.filter((r) => r.consentId === bankId)).toHaveLength(1);
    await api().delete(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200);
    expect((await bankRequests(world.sandbox.httpUrl, { route: 'consent-delete' })).filter((r) => r.consentId === bankId)).toHaveLength(1);
    expect(await pollItems(world.bff.db, id)).toEqual([]);
    const consentRead = await api().get(`/api/v1/consents/${id}/accounts?refresh=true`).set(auth(flowe.token)).expect(409);
    expect(consentRead.body.consentStatus).toBe('terminatedByTpp');
  });

  it('hides one user’s consents from another: 404 on read, accounts and delete', async () => {
    const id = await validConsent(world, flowe);
    const bob = await connect(world.bff.url, 'bob', 'flowe');
    await api().get(`/api/v1/consents/${id}`).set(auth(bob.token)).expect(404);
    await api().get(`/api/v1/consents/${id}/accounts`).set(auth(bob.token)).expect(404);
    await api().delete(`/api/v1/consents/${id}`).set(auth(bob.token)).expect(404);
    expect((await api().get('/api/v1/consents').set(auth(bob.token)).expect(200)).body.consents.map((c: { id: string }) => c.id)).not.toContain(id);
    expect((await api().get(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200)).body.status).toBe('valid');
  });

  it('turns a consent the PSU revoked in the bank app into revokedByPsu with reconsentRequired', async () => {
    const id = await validConsent(world, flowe);
    const bankId = await bankConsentIdOf(world.bff.db, id);
    await fetch(`${world.sandbox.httpUrl}/admin/consents/${bankId}/revoke`, { method: 'POST' });
    const res = await api().get(`/api/v1/consents/${id}/accounts?refresh=true`).set(auth(flowe.token)).expect(409);
    expect(res.body).toMatchObject({
      code: 'reconsent_required',
      consentStatus: 'revokedByPsu',
      reconsentRequired: true,
      aspspId: 'flowe',
      bankCode: 'CONSENT_INVALID',
    });
    expect((await api().get(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200)).body).toMatchObject({
      status: 'revokedByPsu',
      reconsentRequired: true,
    });
    expect(await pollItems(world.bff.db, id)).toEqual([]);
  });

  it('maps a consent the bank no longer knows (CONSENT_UNKNOWN) to invalid with reconsentRequired and the bank’s code', async () => {
    const id = await validConsent(world, flowe);
    await withClient(world.bff.db.url, (c) => c.query("UPDATE ais_consents SET bank_consent_id = 'AAACNOTKNOWN00000X' WHERE id = $1", [id]));
    const res = await api().get(`/api/v1/consents/${id}/accounts?refresh=true`).set(auth(flowe.token)).expect(409);
    expect(res.body).toMatchObject({
      consentStatus: 'invalid',
      reconsentRequired: true,
      bankCode: 'CONSENT_UNKNOWN',
      tppMessages: [expect.objectContaining({ code: 'CONSENT_UNKNOWN' })],
    });
    expect((await api().get(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200)).body).toMatchObject({
      status: 'invalid',
      statusReason: 'CONSENT_UNKNOWN',
    });
  });

  it('expires a valid consent once its validUntil has passed, with its event', async () => {
    const id = await validConsent(world, flowe);
    await withClient(world.bff.db.url, (c) => c.query('UPDATE ais_consents SET valid_until = current_date - 1 WHERE id = $1', [id]));
    const res = await api().get(`/api/v1/consents/${id}`).set(auth(flowe.token)).expect(200);
    expect(res.body).toMatchObject({ status: 'expired', reconsentRequired: true, statusReason: 'valid_until_passed' });
    expect((await outboxEvents(world.bff.db, id)).map((e) => e.payload.status)).toEqual(['received', 'valid', 'expired']);
    expect(await aisReads(world.sandbox.httpUrl, await bankConsentIdOf(world.bff.db, id))).toEqual([]);
  });
});

describe('AIS consents: the bank says the consent expired (sandbox clock)', () => {
  let world: AisWorld;
  afterAll(() => world.close());

  it('marks the consent expired with reconsentRequired when the bank answers CONSENT_EXPIRED', async () => {
    world = await startAisWorld();
    const flowe = await connect(world.bff.url, 'alice', 'flowe');
    const id = await validConsent(world, flowe, { frequencyPerDay: 1, validUntil: utcDate() });
    await request(world.bff.url).get(`/api/v1/consents/${id}/accounts`).set(auth(flowe.token)).expect(200);
    await fetch(`${world.sandbox.httpUrl}/admin/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: 86_400 + 60 }),
    });
    const res = await request(world.bff.url).get(`/api/v1/consents/${id}/accounts?refresh=true`).set(auth(flowe.token)).expect(409);
    expect(res.body).toMatchObject({ consentStatus: 'expired', reconsentRequired: true, bankCode: 'CONSENT_EXPIRED' });
    // The stored copy is not served through an expired consent either.
    await request(world.bff.url).get(`/api/v1/consents/${id}/accounts`).set(auth(flowe.token)).expect(409);
  });

  it('keeps the bank’s own code when it refuses a consent request (its day is ahead of ours now)', async () => {
    const connectpay = await connect(world.bff.url, 'alice', 'connectpay');
    const res = await request(world.bff.url)
      .post(`/api/v1/connections/${connectpay.connectionId}/consents`)
      .set(auth(connectpay.token))
      .send({ validUntil: utcDate() })
      .expect(422);
    expect(res.body).toMatchObject({
      code: 'bank_rejected',
      aspspId: 'connectpay',
      bankErrorKind: 'rejected',
      bankCode: 'TIMESTAMP_INVALID',
      tppMessages: [expect.objectContaining({ code: 'TIMESTAMP_INVALID', path: 'validUntil' })],
    });
  });
});
