import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { accountsOf, advanceClock, bgClient, call, connectPayTokens, consentBody, decide, floweTokens, PSU_IP, startSandbox, validConsent } from './helpers.js';

let sandbox: SandboxApp;
let base: string;
let flowe: string;
let connectpay: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
  flowe = (await floweTokens(base)).access;
  connectpay = (await connectPayTokens(base)).access;
});
afterAll(() => sandbox.close());

const today = () => new Date().toISOString().slice(0, 10);
const inDays = (days: number) => new Date(Date.parse(`${today()}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

describe('Flowe consent policy (guide 4.1)', () => {
  const refused: [string, Record<string, unknown>, string, string][] = [
    ['a dedicated-account consent (global consent only)', { access: { accounts: [{ iban: 'IT60X0542811101000000123456' }] } }, 'FORMAT_ERROR', 'access'],
    ['allPsd2 without availableAccounts', { access: { allPsd2: 'allAccounts' } }, 'FORMAT_ERROR', 'access'],
    ['allAccountsWithOwnerName', { access: { availableAccounts: 'allAccountsWithOwnerName', allPsd2: 'allAccountsWithOwnerName' } }, 'FORMAT_ERROR', 'access'],
    ['recurringIndicator false', { recurringIndicator: false }, 'FORMAT_ERROR', 'recurringIndicator'],
    ['validUntil after today + 90 days', { validUntil: inDays(91) }, 'PERIOD_INVALID', 'validUntil'],
    ['validUntil in the past', { validUntil: inDays(-1) }, 'TIMESTAMP_INVALID', 'validUntil'],
    ['frequencyPerDay above 4', { frequencyPerDay: 5 }, 'FORMAT_ERROR', 'frequencyPerDay'],
    ['frequencyPerDay 0', { frequencyPerDay: 0 }, 'FORMAT_ERROR', 'frequencyPerDay'],
    ['a fractional frequencyPerDay', { frequencyPerDay: 1.5 }, 'FORMAT_ERROR', 'frequencyPerDay'],
    ['a combined service', { combinedServiceIndicator: true }, 'SESSIONS_NOT_SUPPORTED', 'combinedServiceIndicator'],
    ['a missing combinedServiceIndicator', { combinedServiceIndicator: undefined }, 'FORMAT_ERROR', 'combinedServiceIndicator'],
    ['a malformed validUntil', { validUntil: '2030-02-30' }, 'FORMAT_ERROR', 'validUntil'],
  ];
  it.each(refused)('refuses %s with 400 %s naming the rule', async (_, overrides, expectedCode, path) => {
    const res = await bgClient(base, 'flowe', flowe).post('/consents', consentBody(overrides));
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ category: 'ERROR', code: expectedCode, path });
    expect(res.body.tppMessages[0].text.length).toBeGreaterThan(10);
    assertBerlinGroupResponse('POST', '/v1/consents', 400, res.body);
  });

  it('accepts the limits: validUntil today + 90 days, frequencyPerDay 4; and a one-shot consent for today', async () => {
    expect((await bgClient(base, 'flowe', flowe).post('/consents', consentBody({ validUntil: inDays(90), frequencyPerDay: 4 }))).status).toBe(200);
    expect((await bgClient(base, 'flowe', flowe).post('/consents', consentBody({ validUntil: today(), frequencyPerDay: 1 }))).status).toBe(200);
  });

  it('in berlin-group mode, answers 201 with self, status and scaStatus links and a Location header', async () => {
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', consentCreated: 'berlin-group' } });
    const res = await bgClient(base, 'flowe', flowe).post('/consents', consentBody());
    await call(`${base}/admin/modes`, { method: 'DELETE' });
    expect(res.status).toBe(201);
    const id = res.body.consentId;
    expect(id).toMatch(/^[A-Z0-9]{18}$/);
    expect(res.body._links).toEqual({
      self: { href: `/flowe/openbankingais/v1/consents/${id}` },
      status: { href: `/flowe/openbankingais/v1/consents/${id}/status` },
      scaStatus: { href: `/flowe/openbankingais/v1/consents/${id}/authorisations/${id}-AUTH-1` },
    });
    expect(res.headers.get('location')).toBe(`/flowe/openbankingais/v1/consents/${id}`);
    expect(res.headers.get('aspsp-sca-approach')).toBe('DECOUPLED');
  });
});

describe("consent creation answer: the Flowe guide's sample or Berlin Group's 201", () => {
  afterEach(async () => {
    await call(`${base}/admin/reset`, { method: 'POST' });
  });

  it('guide: 200 with consentId, only _links.status as /v1/consents/{id}/status, consentStatus received — and the link works', async () => {
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', consentCreated: 'guide' } });
    const res = await bgClient(base, 'flowe', flowe).post('/consents', consentBody());
    expect(res.status).toBe(200);
    const id = res.body.consentId as string;
    expect(res.text).toBe(JSON.stringify({ consentId: id, _links: { status: { href: `/v1/consents/${id}/status` } }, consentStatus: 'received' }));
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('aspsp-sca-approach')).toBeNull();
    assertBerlinGroupResponse('POST', '/v1/consents', 201, res.body);
    // The href is relative to the API root (/flowe/openbankingais), as the guide's sample shows.
    expect((await bgClient(base, 'flowe', flowe).get(`/flowe/openbankingais${res.body._links.status.href}`)).body).toEqual({ consentStatus: 'received' });
  });

  it('berlin-group is selectable per bank: ConnectPay in guide mode answers 200 too, Flowe back to 201', async () => {
    await call(`${base}/admin/modes`, { json: { profile: 'connectpay', consentCreated: 'guide' } });
    expect((await bgClient(base, 'connectpay', connectpay).post('/consents', consentBody())).status).toBe(200);
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', consentCreated: 'berlin-group' } });
    expect((await bgClient(base, 'flowe', flowe).post('/consents', consentBody())).status).toBe(201);
  });
});

describe('ConnectPay consent rules (Berlin Group defaults)', () => {
  it('refuses frequencyPerDay above 4', async () => {
    const res = await bgClient(base, 'connectpay', connectpay).post('/consents', consentBody({ frequencyPerDay: 5 }));
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'frequencyPerDay' });
  });

  it('caps a far-future validUntil (9999-12-31) to today + 90 days', async () => {
    const res = await bgClient(base, 'connectpay', connectpay).post('/consents', consentBody({ validUntil: '9999-12-31' }));
    expect(res.status).toBe(201);
    const info = await bgClient(base, 'connectpay', connectpay).get(`/consents/${res.body.consentId}`);
    expect(info.body.validUntil).toBe(inDays(90));
    assertBerlinGroupResponse('GET', '/v1/consents/{consentId}', 200, info.body);
  });

  it('refuses a one-off consent with frequencyPerDay above 1', async () => {
    const res = await bgClient(base, 'connectpay', connectpay).post('/consents', consentBody({ recurringIndicator: false, frequencyPerDay: 2 }));
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0].path).toBe('frequencyPerDay');
  });

  it("refuses a dedicated consent on an account that is not the PSU's (400 RESOURCE_UNKNOWN)", async () => {
    const bobs = await accountsOf(base, 'bob', 'connectpay');
    const res = await bgClient(base, 'connectpay', connectpay).post('/consents', consentBody({ access: { accounts: [{ iban: bobs[0]!.iban }] } }));
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'RESOURCE_UNKNOWN', path: 'access.accounts[0].iban' });
  });

  it('limits a dedicated or availableAccounts consent to what it names', async () => {
    const own = await accountsOf(base, 'alice', 'connectpay');
    const dedicated = await validConsent(base, 'connectpay', connectpay, { access: { balances: [{ iban: own[0]!.iban }] } });
    const api = bgClient(base, 'connectpay', connectpay);
    const headers = { 'Consent-ID': dedicated, 'PSU-IP-Address': PSU_IP };
    const list = await api.get('/accounts', headers);
    expect(list.body.accounts.map((a: { iban: string }) => a.iban)).toEqual([own[0]!.iban]);
    expect((await api.get(`/accounts/${own[0]!.resourceId}/balances`, headers)).status).toBe(200);
    const transactions = await api.get(`/accounts/${own[0]!.resourceId}/transactions?bookingStatus=booked`, headers);
    expect(transactions.status).toBe(401);
    expect(transactions.body.tppMessages[0].code).toBe('CONSENT_INVALID');

    const listOnly = await validConsent(base, 'connectpay', connectpay, { access: { availableAccounts: 'allAccounts' } });
    expect((await api.get('/accounts', { 'Consent-ID': listOnly, 'PSU-IP-Address': PSU_IP })).body.accounts).toHaveLength(own.length);
    expect((await api.get(`/accounts/${own[0]!.resourceId}/balances`, { 'Consent-ID': listOnly, 'PSU-IP-Address': PSU_IP })).status).toBe(401);
  });
});

describe('consent lifecycle', () => {
  const accountsWith = (token: string, profile: 'flowe' | 'connectpay', consentId: string) =>
    bgClient(base, profile, token).get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP });

  it('goes received → valid on PSU approval; account reads need a valid consent', async () => {
    const api = bgClient(base, 'flowe', flowe);
    const created = await api.post('/consents', consentBody());
    const before = await accountsWith(flowe, 'flowe', created.body.consentId);
    expect(before.status).toBe(401);
    expect(before.body.tppMessages[0].code).toBe('CONSENT_INVALID');
    assertBerlinGroupResponse('GET', '/v1/accounts', 401, before.body);
    await decide(base, 'consent', created.body.consentId);
    expect((await accountsWith(flowe, 'flowe', created.body.consentId)).status).toBe(200);
  });

  it('goes received → rejected when the PSU refuses (scaStatus failed)', async () => {
    const api = bgClient(base, 'flowe', flowe);
    const created = await api.post('/consents', consentBody());
    expect((await decide(base, 'consent', created.body.consentId, 'reject')).body).toMatchObject({ status: 'rejected', scaStatus: 'failed' });
    expect((await api.get(`/consents/${created.body.consentId}/status`)).body.consentStatus).toBe('rejected');
    const authorisationId = (await api.get(`/consents/${created.body.consentId}/authorisations`)).body.authorisationIds[0];
    expect((await api.get(`/consents/${created.body.consentId}/authorisations/${authorisationId}`)).body.scaStatus).toBe('failed');
    expect((await accountsWith(flowe, 'flowe', created.body.consentId)).body.tppMessages[0].code).toBe('CONSENT_INVALID');
  });

  it('becomes revokedByPsu through the admin call', async () => {
    const id = await validConsent(base, 'flowe', flowe);
    const revoked = await call(`${base}/admin/consents/${id}/revoke`, { method: 'POST' });
    expect(revoked.body).toEqual({ consentId: id, consentStatus: 'revokedByPsu' });
    expect((await bgClient(base, 'flowe', flowe).get(`/consents/${id}/status`)).body.consentStatus).toBe('revokedByPsu');
    expect((await accountsWith(flowe, 'flowe', id)).body.tppMessages[0].code).toBe('CONSENT_INVALID');
  });

  it('becomes terminatedByTpp on DELETE (204)', async () => {
    const id = await validConsent(base, 'connectpay', connectpay);
    const deleted = await bgClient(base, 'connectpay', connectpay).delete(`/consents/${id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await bgClient(base, 'connectpay', connectpay).get(`/consents/${id}/status`)).body.consentStatus).toBe('terminatedByTpp');
    expect((await accountsWith(connectpay, 'connectpay', id)).status).toBe(401);
  });

  it('belongs to its PSU: another PSU gets 403 CONSENT_UNKNOWN on the path, 400 CONSENT_UNKNOWN in the header', async () => {
    const id = await validConsent(base, 'flowe', flowe);
    const bob = (await floweTokens(base, { username: 'bob' })).access;
    const path = await bgClient(base, 'flowe', bob).get(`/consents/${id}`);
    expect(path.status).toBe(403);
    expect(path.body.tppMessages[0].code).toBe('CONSENT_UNKNOWN');
    assertBerlinGroupResponse('GET', '/v1/consents/{consentId}', 403, path.body);
    const header = await accountsWith(bob, 'flowe', id);
    expect(header.status).toBe(400);
    expect(header.body.tppMessages[0].code).toBe('CONSENT_UNKNOWN');
    const missing = await bgClient(base, 'flowe', bob).get('/accounts');
    expect(missing.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'Consent-ID' });
  });

  it('lets the PSU decide once: 409 afterwards, 404 for an unknown id, 400 for a bad body', async () => {
    const created = await bgClient(base, 'flowe', flowe).post('/consents', consentBody());
    expect((await decide(base, 'consent', created.body.consentId)).status).toBe(200);
    expect((await decide(base, 'consent', created.body.consentId, 'reject')).status).toBe(409);
    expect((await decide(base, 'consent', 'NOPE')).status).toBe(404);
    expect((await call(`${base}/psu/api/decisions`, { json: { kind: 'consent', id: created.body.consentId, decision: 'maybe' } })).status).toBe(400);
  });
});

describe('consent expiry (sandbox clock)', () => {
  it('turns valid into expired once the clock passes validUntil: 401 CONSENT_EXPIRED', async () => {
    const own = await startSandbox({ accessTokenTtlSeconds: 10 * 86_400 });
    try {
      const token = (await floweTokens(own.httpUrl)).access;
      const id = await validConsent(own.httpUrl, 'flowe', token, { validUntil: inDays(1) });
      const api = bgClient(own.httpUrl, 'flowe', token);
      await advanceClock(own.httpUrl, 86_400);
      expect((await api.get(`/consents/${id}/status`)).body.consentStatus).toBe('valid');
      await advanceClock(own.httpUrl, 86_400);
      expect((await api.get(`/consents/${id}/status`)).body.consentStatus).toBe('expired');
      const res = await api.get('/accounts', { 'Consent-ID': id, 'PSU-IP-Address': PSU_IP });
      expect(res.status).toBe(401);
      expect(res.body.tppMessages[0].code).toBe('CONSENT_EXPIRED');
    } finally {
      await own.close();
    }
  });
});
