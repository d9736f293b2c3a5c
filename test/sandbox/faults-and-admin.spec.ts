import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { bgClient, call, connectPayLogin, connectPayToken, connectPayTokens, consentBody, CP_REDIRECT, floweAuthorizeUrl, floweToken, floweTokens, PSU_IP, startSandbox, validConsent } from './helpers.js';

let sandbox: SandboxApp;
let base: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await call(`${base}/admin/reset`, { method: 'POST' });
});

const fault = async (rule: Record<string, unknown>) => {
  const res = await call(`${base}/admin/faults`, { json: rule });
  expect(res.status).toBe(200);
};

describe('faults', () => {
  it('adds latency before handling', async () => {
    const { access } = await floweTokens(base);
    await fault({ profile: 'flowe', route: 'consents', latencyMs: 250 });
    const started = Date.now();
    expect((await bgClient(base, 'flowe', access).post('/consents', consentBody())).status).toBe(201);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('answers 500/503 on the chosen route only, with an empty Berlin Group body and Retry-After when asked', async () => {
    const { access } = await floweTokens(base);
    const consentId = await validConsent(base, 'flowe', access);
    await fault({ profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 503, retryAfterSeconds: 7 });
    const api = bgClient(base, 'flowe', access);
    const failed = await api.get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP });
    expect(failed.status).toBe(503);
    expect(failed.text).toBe('');
    expect(failed.headers.get('retry-after')).toBe('7');
    assertBerlinGroupResponse('GET', '/v1/accounts', 503, failed.body);
    expect((await api.get(`/consents/${consentId}/status`)).status).toBe(200);
    await fault({ profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 500 });
    expect((await api.get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP })).status).toBe(500);
    expect((await call(`${base}/admin/faults`, { method: 'DELETE' })).status).toBe(204);
    expect((await api.get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP })).status).toBe(200);
  });

  it('never fires with errorRate 0', async () => {
    const { access } = await connectPayTokens(base);
    await fault({ profile: 'connectpay', route: '*', errorRate: 0 });
    expect((await bgClient(base, 'connectpay', access).post('/consents', consentBody())).status).toBe(201);
  });

  it('forces 429 with Retry-After: ACCESS_EXCEEDED on AIS, no body on PIS', async () => {
    const { access } = await floweTokens(base);
    await fault({ profile: 'flowe', route: '*', force429: true, retryAfterSeconds: 30 });
    const ais = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(ais.status).toBe(429);
    expect(ais.headers.get('retry-after')).toBe('30');
    expect(ais.body.tppMessages[0].code).toBe('ACCESS_EXCEEDED');
    const pis = await bgClient(base, 'flowe', access).get('/payments/sepa-credit-transfers/x/status');
    expect(pis.status).toBe(429);
    expect(pis.text).toBe('');
    assertBerlinGroupResponse('GET', '/v1/{payment-service}/{payment-product}/{paymentId}/status', 429, pis.body);
  });

  it('applies faults before authentication and only to the named profile', async () => {
    await fault({ profile: 'connectpay', route: '*', errorRate: 1, errorStatus: 503 });
    expect((await bgClient(base, 'connectpay', 'no-token').get('/accounts')).status).toBe(503);
    expect((await bgClient(base, 'flowe', 'no-token').get('/accounts')).status).toBe(401);
  });

  it('resets the connection (resetRate 1) and logs it without a status', async () => {
    await fault({ profile: 'flowe', route: 'accounts', resetRate: 1 });
    await expect(bgClient(base, 'flowe', 'x').get('/accounts')).rejects.toThrow();
    await waitFor(async () => (await call(`${base}/admin/requests?profile=flowe&route=accounts`)).body.requests[0]?.fault === 'reset');
    const log = await call(`${base}/admin/requests?profile=flowe&route=accounts`);
    expect(log.body.requests).toEqual([expect.objectContaining({ status: 0, fault: 'reset' })]);
  });

  it('hangs (accepts and never answers) until the client gives up', async () => {
    await fault({ profile: 'flowe', route: 'payment-status', hang: true });
    const started = Date.now();
    const hanging = fetch(`${base}/flowe/openbankingpis/v1/payments/sepa-credit-transfers/x/status`, { signal: AbortSignal.timeout(300) });
    await expect(hanging).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    await waitFor(async () => {
      const entry = (await call(`${base}/admin/requests?route=payment-status`)).body.requests[0];
      return entry?.fault === 'hang' && entry.status === 0;
    });
  });

  it('stops after `times` matching requests', async () => {
    await fault({ profile: 'connectpay', route: 'token', errorRate: 1, errorStatus: 500, times: 2 });
    const { code } = await connectPayLogin(base);
    const form = { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT };
    expect((await connectPayToken(base, form)).status).toBe(500);
    const second = await connectPayToken(base, form);
    expect(second.status).toBe(500);
    expect(second.body).toEqual({ error: 'server_error', error_description: 'injected fault' });
    expect((await connectPayToken(base, form)).status).toBe(200);
  });

  it('leaves the refresh token unused when the token endpoint fails (SECURITY.md 13)', async () => {
    const { refresh } = await floweTokens(base);
    await fault({ profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 503, times: 1 });
    const failed = await floweToken(base, { grant_type: 'refresh_token', refresh_token: refresh });
    expect(failed.status).toBe(503);
    expect(failed.body.error).toBe('temporarily_unavailable');
    expect((await floweToken(base, { grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(200);
  });

  it('reaches the browser-facing authorize route only when named explicitly', async () => {
    await fault({ profile: 'flowe', route: '*', errorRate: 1, errorStatus: 503 });
    expect((await call(floweAuthorizeUrl(base))).status).toBe(302);
    await fault({ profile: 'flowe', route: 'authorize', errorRate: 1, errorStatus: 503 });
    expect((await call(floweAuthorizeUrl(base))).status).toBe(503);
  });

  it('validates fault rules', async () => {
    expect((await call(`${base}/admin/faults`, { json: { profile: 'flowe', route: 'accounts', errorStatus: 502, errorRate: 1 } })).status).toBe(400);
    expect((await call(`${base}/admin/faults`, { json: { profile: 'bank', route: '*' } })).status).toBe(400);
    expect((await call(`${base}/admin/faults`, { json: { profile: 'flowe', route: 'accounts', errorRate: 2 } })).status).toBe(400);
  });
});

describe('token quirks', () => {
  it('omits expires_in and scope and writes token_type "bEARER"; the tokens still work', async () => {
    const quirks = await call(`${base}/admin/token-quirks`, { json: { profile: 'connectpay', omitExpiresIn: true, tokenType: 'bEARER', omitScope: true } });
    expect(quirks.status).toBe(200);
    const { code } = await connectPayLogin(base);
    const res = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'bEARER', refresh_token: expect.any(String) });
    expect((await bgClient(base, 'connectpay', res.body.access_token).post('/consents', consentBody())).status).toBe(201);
    // Flowe is not affected.
    expect((await floweTokens(base)).access).toBeDefined();
  });
});

describe('link quirks', () => {
  it('writes api-relative (/v1/...) or absolute hrefs on request', async () => {
    const { access } = await floweTokens(base);
    await call(`${base}/admin/link-quirks`, { json: { profile: 'flowe', style: 'api-relative' } });
    const relative = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(relative.body._links.status.href).toBe(`/v1/consents/${relative.body.consentId}/status`);
    await call(`${base}/admin/link-quirks`, { json: { profile: 'flowe', style: 'absolute' } });
    const absolute = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(absolute.body._links.status.href).toBe(`${base}/flowe/openbankingais/v1/consents/${absolute.body.consentId}/status`);
  });
});

describe('request log, stats and reset', () => {
  it('records token and API requests with route, PSU-IP-Address, X-Request-ID, client cert and status', async () => {
    const { access } = await floweTokens(base);
    const requestId = randomUUID();
    await bgClient(base, 'flowe', access).post('/consents', consentBody(), { 'X-Request-ID': requestId, 'PSU-IP-Address': PSU_IP });
    await bgClient(base, 'flowe', access).get('/consents/UNKNOWN/status');
    const log = await call(`${base}/admin/requests?profile=flowe`);
    const routes = log.body.requests.map((r: { route: string }) => r.route);
    expect(routes).toEqual(['authorize', 'token', 'consents', 'consent-status']);
    const token = log.body.requests[1];
    expect(token).toMatchObject({ kind: 'token', method: 'POST', grantType: 'authorization_code', status: 200, clientCertVerified: false, clientCert: 'none' });
    const consents = log.body.requests[2];
    expect(consents).toMatchObject({ profile: 'flowe', route: 'consents', method: 'POST', path: '/flowe/openbankingais/v1/consents', psuIpPresent: true, psuIp: PSU_IP, xRequestId: requestId, status: 201 });
    expect(Math.abs(consents.timestampMs - Date.now())).toBeLessThan(10_000);
    expect(log.body.requests[3]).toMatchObject({ resourceId: 'UNKNOWN', psuIpPresent: false, status: 403 });
    expect(JSON.stringify(log.body)).not.toContain(access);
    const stats = await call(`${base}/admin/stats`);
    expect(stats.body.stats.flowe).toEqual({ authorize: { '302': 1 }, token: { '200': 1 }, consents: { '201': 1 }, 'consent-status': { '403': 1 } });
    expect((await call(`${base}/admin/requests?route=token`)).body.requests).toHaveLength(1);
  });

  it('reset clears log, stats, faults and quirks but keeps state; reset?state=true clears state and the clock', async () => {
    const { access } = await floweTokens(base);
    const consentId = await validConsent(base, 'flowe', access);
    await fault({ profile: 'flowe', route: 'accounts', errorRate: 1 });
    await call(`${base}/admin/clock`, { json: { advanceSeconds: 60 } });
    await call(`${base}/admin/reset`, { method: 'POST' });
    expect((await call(`${base}/admin/requests`)).body.requests).toEqual([]);
    expect((await call(`${base}/admin/faults`)).body.faults).toEqual([]);
    expect((await bgClient(base, 'flowe', access).get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP })).status).toBe(200);
    const reset = await call(`${base}/admin/reset?state=true`, { method: 'POST' });
    expect(reset.body.reset).toEqual(expect.arrayContaining(['consents', 'payments', 'tokens', 'clock']));
    expect((await bgClient(base, 'flowe', access).get('/accounts', { 'Consent-ID': consentId })).body.tppMessages[0].code).toBe('TOKEN_UNKNOWN');
    const now = Date.parse((await call(`${base}/admin/clock`)).body.now);
    expect(Math.abs(now - Date.now())).toBeLessThan(5_000);
  });

  it('moves the clock forward only', async () => {
    const before = Date.parse((await call(`${base}/admin/clock`)).body.now);
    const after = await call(`${base}/admin/clock`, { json: { advanceSeconds: 3600 } });
    expect(Date.parse(after.body.now) - before).toBeGreaterThanOrEqual(3600_000);
    expect((await call(`${base}/admin/clock`, { json: { advanceSeconds: -1 } })).status).toBe(400);
    await call(`${base}/admin/reset?state=true`, { method: 'POST' });
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
