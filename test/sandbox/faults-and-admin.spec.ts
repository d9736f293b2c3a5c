import { createHash, randomUUID } from 'node:crypto';
import { Agent } from 'undici';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import {
  bgClient,
  call,
  connectPayLogin,
  connectPayToken,
  connectPayTokens,
  consentBody,
  CP,
  CP_REDIRECT,
  FL,
  floweAuthorizeUrl,
  floweToken,
  floweTokens,
  PSU_IP,
  startSandbox,
  validConsent,
} from './helpers.js';

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

describe('connections', () => {
  it('keeps an idle connection for 65 s, as a bank behind a load balancer does, so a client never reuses one being closed', async () => {
    const res = await call(`${base}/admin/clock`);
    expect(res.status).toBe(200);
    expect(res.headers.get('keep-alive')).toBe('timeout=65');
  });
});

describe('faults', () => {
  it('adds latency before handling', async () => {
    const { access } = await floweTokens(base);
    await fault({ profile: 'flowe', route: 'consents', latencyMs: 250 });
    const started = Date.now();
    expect((await bgClient(base, 'flowe', access).post('/consents', consentBody())).status).toBe(200);
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

  it('leaves the refresh token unused when the token endpoint fails', async () => {
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

describe('faults after handling: the bank did the work, the client never hears', () => {
  const pendingIds = async (kind: 'consents' | 'payments') =>
    (await call(`${base}/psu/api/pending?username=alice`)).body[kind].map((c: { id: string }) => c.id) as string[];

  it('dropResponse hang: the consent is created, the answer never comes, the client times out', async () => {
    const { access } = await floweTokens(base);
    await fault({ profile: 'flowe', route: 'consents', dropResponse: 'hang', times: 1 });
    const before = await pendingIds('consents');
    await expect(bgClient(base, 'flowe', access, { dispatcher: new Agent({ headersTimeout: 300 }) }).post('/consents', consentBody())).rejects.toThrow();
    const created = (await pendingIds('consents')).filter((id) => !before.includes(id));
    expect(created).toHaveLength(1);
    await waitFor(async () => (await call(`${base}/admin/requests?route=consents`)).body.requests[0]?.status === 0);
    expect((await call(`${base}/admin/requests?route=consents`)).body.requests[0]).toMatchObject({ fault: 'hang-after-handling', status: 0 });
    // The rule was for one request: the next one is answered.
    expect((await bgClient(base, 'flowe', access).post('/consents', consentBody())).status).toBe(200);
  });

  it('dropResponse reset: the payment is created and the connection closes without an answer', async () => {
    const { access } = await connectPayTokens(base);
    const debtor = (await call(`${base}/admin/users`)).body.users[0].customers[0].accounts[0].iban as string;
    await fault({ profile: 'connectpay', route: 'payments', dropResponse: 'reset' });
    const before = await pendingIds('payments');
    const body = {
      debtorAccount: { iban: debtor },
      creditorAccount: { iban: 'DE89370400440532013000' },
      creditorName: 'Mario Verdi',
      instructedAmount: { currency: 'EUR', amount: '5.00' },
    };
    await expect(bgClient(base, 'connectpay', access).post('/payments/sepa-credit-transfers', body, { 'PSU-IP-Address': PSU_IP })).rejects.toThrow();
    expect((await pendingIds('payments')).filter((id) => !before.includes(id))).toHaveLength(1);
  });

  it('responseDelayMs: the answer arrives late, and a client with a shorter timeout has given up on a consent that exists', async () => {
    const { access } = await floweTokens(base);
    await fault({ profile: 'flowe', route: 'consents', responseDelayMs: 400 });
    const started = Date.now();
    const slow = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(slow.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    const before = await pendingIds('consents');
    const headers = { 'content-type': 'application/json', 'X-Request-ID': randomUUID(), Authorization: `Bearer ${access}`, 'PO-APIKey': FL.subscriptionKey };
    const impatient = fetch(`${base}/flowe/openbankingais/v1/consents`, {
      method: 'POST',
      headers,
      body: JSON.stringify(consentBody()),
      signal: AbortSignal.timeout(150),
    });
    await expect(impatient).rejects.toThrow();
    await waitFor(async () => (await pendingIds('consents')).some((id) => !before.includes(id)));
    expect((await pendingIds('consents')).filter((id) => !before.includes(id))).toHaveLength(1);
  });
});

describe('soak mode: a share of mixed faults on every route', () => {
  /** 120 reads of an unknown consent (403 when not faulted), each given up on after 600 ms. */
  async function soak(rule: Record<string, unknown>): Promise<{ status: number; fault?: string }[]> {
    const { access } = await floweTokens(base);
    await call(`${base}/admin/reset`, { method: 'POST' });
    await fault({ profile: '*', route: '*', ...rule });
    const dispatcher = new Agent({ headersTimeout: 600, bodyTimeout: 600 });
    for (let i = 0; i < 120; i++)
      await bgClient(base, 'flowe', access, { dispatcher })
        .get('/consents/UNKNOWN')
        .catch(() => undefined);
    await call(`${base}/admin/faults`, { method: 'DELETE' });
    await waitFor(
      async () => (await call(`${base}/admin/requests?route=consent`)).body.requests.every((r: { durationMs?: number }) => r.durationMs !== undefined),
      5000,
    );
    return (await call(`${base}/admin/requests?route=consent`)).body.requests;
  }

  it('faults about mixedRate of the requests, of every kind, and answers the rest normally', async () => {
    const log = await soak({ mixedRate: 0.1, seed: 'soak-1', latencyMs: 50, responseDelayMs: 50 });
    expect(log).toHaveLength(120);
    const faulted = log.filter((r) => r.fault !== undefined);
    expect(faulted.length).toBeGreaterThanOrEqual(4);
    expect(faulted.length).toBeLessThanOrEqual(24);
    expect(new Set(faulted.map((r) => r.fault)).size).toBeGreaterThanOrEqual(3);
    for (const r of log.filter((e) => e.fault === undefined || e.fault === 'latency' || e.fault === 'delay-after-handling')) expect(r.status).toBe(403);
    for (const r of faulted.filter((e) => e.fault === 'error')) expect([500, 503]).toContain(r.status);
    for (const r of faulted.filter((e) => e.fault === 'rate-limited')) expect(r.status).toBe(429);
    for (const r of faulted.filter((e) => ['hang', 'reset', 'hang-after-handling', 'reset-after-handling'].includes(e.fault!))) expect(r.status).toBe(0);
  });

  it('keeps to the kinds asked for, and repeats itself with the same seed', async () => {
    const first = await soak({ mixedRate: 0.5, mixedKinds: ['error-503', 'rate-limit-429'], seed: 'soak-2' });
    expect(new Set(first.map((r) => r.status))).toEqual(new Set([403, 503, 429]));
    const again = await soak({ mixedRate: 0.5, mixedKinds: ['error-503', 'rate-limit-429'], seed: 'soak-2' });
    expect(again.map((r) => r.status)).toEqual(first.map((r) => r.status));
    expect((await call(`${base}/admin/faults`, { json: { profile: '*', route: '*', mixedKinds: ['error-503'] } })).status).toBe(400);
    expect((await call(`${base}/admin/faults`, { json: { profile: '*', route: '*', mixedRate: 0.1, mixedKinds: ['meteor'] } })).status).toBe(400);
  });
});

describe('modes (per bank, at runtime)', () => {
  it('lists the modes in force, changes one field at a time, refuses bad values, and restores the start-up modes', async () => {
    const start = (await call(`${base}/admin/modes`)).body.modes;
    expect(start.flowe).toMatchObject({
      subscriptionKeyHeader: 'either',
      psuIpHeader: 'either',
      psuIpFormat: 'ipv4',
      refreshTokens: 'reuse',
      tokenClientAuth: 'body',
      tokenScopeRequired: true,
      promptLoginRequired: true,
    });
    expect(start.connectpay).toMatchObject({
      budgetCounting: 'per_resource',
      psuIpHeader: 'PSU-IP-Address',
      consentCreated: 'berlin-group',
      statusPollMinIntervalMs: 1000,
      refreshTokens: 'rotate',
    });
    const changed = await call(`${base}/admin/modes`, { json: { profile: 'flowe', budgetCounting: 'per_call', psuIpHeader: 'PSU-IpAddress' } });
    expect(changed.body.modes.flowe).toEqual({ ...start.flowe, budgetCounting: 'per_call', psuIpHeader: 'PSU-IpAddress' });
    expect(changed.body.modes.connectpay).toEqual(start.connectpay);
    for (const [body, message] of [
      [{ profile: 'flowe', budgetCounting: 'per_day' }, /budgetCounting must be one of per_call, per_resource/],
      [{ profile: 'flowe', statusPollMinIntervalMs: -1 }, /statusPollMinIntervalMs/],
      [{ profile: 'flowe', requireMtls: 'yes' }, /requireMtls must be true or false/],
      [{ profile: 'flowe', budgetcounting: 'per_call' }, /unknown mode budgetcounting/],
      [{ budgetCounting: 'per_call' }, /profile/],
    ] as const) {
      const res = await call(`${base}/admin/modes`, { json: body });
      expect(res.status).toBe(400);
      expect(res.body.message).toMatch(message);
    }
    expect((await call(`${base}/admin/modes`, { method: 'DELETE' })).status).toBe(204);
    expect((await call(`${base}/admin/modes`)).body.modes).toEqual(start);
    await call(`${base}/admin/modes`, { json: { profile: 'connectpay', refreshTokens: 'reuse' } });
    await call(`${base}/admin/reset`, { method: 'POST' });
    expect((await call(`${base}/admin/modes`)).body.modes).toEqual(start);
  });

  it('starts with the modes given in the options', async () => {
    const own = await startSandbox({ modes: { flowe: { budgetCounting: 'per_call', cutoffTimes: ['16:00', '10:30'] } }, requireMtls: true });
    try {
      const modes = (await call(`${own.httpUrl}/admin/modes`)).body.modes;
      expect(modes.flowe).toMatchObject({ budgetCounting: 'per_call', cutoffTimes: ['10:30', '16:00'], requireMtls: true });
      expect(modes.connectpay.requireMtls).toBe(true);
    } finally {
      await own.close();
    }
    await expect(startSandbox({ modes: { flowe: { budgetCounting: 'daily' as 'per_call' } } })).rejects.toThrow(/modes.flowe: budgetCounting must be one of/);
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

  it("issues no refresh token when asked (ConnectPay's document never promises one)", async () => {
    await call(`${base}/admin/token-quirks`, { json: { profile: 'connectpay', omitRefreshToken: true } });
    const { code } = await connectPayLogin(base);
    const res = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(res.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: 'psd2-ais psd2-pis' });
    expect((await bgClient(base, 'connectpay', res.body.access_token).post('/consents', consentBody())).status).toBe(201);
  });
});

describe('link quirks', () => {
  it('writes api-relative (/v1/...) or absolute hrefs on request', async () => {
    const { access } = await floweTokens(base);
    // The guide's consent answer always writes its one link /v1/…: the quirks shape Berlin Group's links.
    await call(`${base}/admin/modes`, { json: { profile: 'flowe', consentCreated: 'berlin-group' } });
    await call(`${base}/admin/link-quirks`, { json: { profile: 'flowe', style: 'api-relative' } });
    const relative = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(relative.body._links.status.href).toBe(`/v1/consents/${relative.body.consentId}/status`);
    await call(`${base}/admin/link-quirks`, { json: { profile: 'flowe', style: 'absolute' } });
    const absolute = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(absolute.body._links.status.href).toBe(`${base}/flowe/openbankingais/v1/consents/${absolute.body.consentId}/status`);
    await call(`${base}/admin/modes`, { method: 'DELETE' });
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
    expect(consents).toMatchObject({
      profile: 'flowe',
      route: 'consents',
      method: 'POST',
      path: '/flowe/openbankingais/v1/consents',
      psuIpPresent: true,
      psuIp: PSU_IP,
      xRequestId: requestId,
      status: 200,
    });
    expect(Math.abs(consents.timestampMs - Date.now())).toBeLessThan(10_000);
    expect(log.body.requests[3]).toMatchObject({ resourceId: 'UNKNOWN', psuIpPresent: false, status: 403 });
    expect(JSON.stringify(log.body)).not.toContain(access);
    const stats = await call(`${base}/admin/stats`);
    expect(stats.body.stats.flowe).toEqual({ authorize: { '302': 1 }, token: { '200': 1 }, consents: { '200': 1 }, 'consent-status': { '403': 1 } });
    expect((await call(`${base}/admin/requests?route=token`)).body.requests).toHaveLength(1);
  });

  it('records token request bodies field by field, in order, with every secret as a short hash', async () => {
    const { code } = await connectPayLogin(base);
    const exchanged = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    await floweToken(base, { grant_type: 'refresh_token', refresh_token: (await floweTokens(base)).refresh });
    const hash = (value: string) => `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;
    const [connectpay] = (await call(`${base}/admin/requests?profile=connectpay&route=token`)).body.requests;
    expect(connectpay).toMatchObject({ clientAuth: 'body', query: {}, grantType: 'authorization_code' });
    expect(connectpay.form).toEqual({
      client_id: CP.clientId,
      client_secret: hash(CP.clientSecret),
      grant_type: 'authorization_code',
      code: hash(code!),
      redirect_url: CP_REDIRECT,
    });
    expect(Object.keys(connectpay.form)).toEqual(['client_id', 'client_secret', 'grant_type', 'code', 'redirect_url']);
    const flowe = (await call(`${base}/admin/requests?profile=flowe&route=token`)).body.requests.at(-1);
    expect(flowe).toMatchObject({ clientAuth: 'body', query: { p: 'B2C_1A_Psd2_SignIn' } });
    expect(Object.keys(flowe.form)).toEqual(['client_id', 'client_secret', 'scope', 'grant_type', 'refresh_token']);
    expect(flowe.form.refresh_token).toMatch(/^sha256:[0-9a-f]{12}$/);
    const log = (await call(`${base}/admin/requests`)).text;
    for (const secret of [CP.clientSecret, FL.clientSecret, code!, exchanged.body.refresh_token, exchanged.body.access_token])
      expect(log).not.toContain(secret);
    const basic = `Basic ${Buffer.from(`${CP.clientId}:${CP.clientSecret}`).toString('base64')}`;
    await call(`${base}/connectpay/oauth/token`, {
      headers: { authorization: basic },
      form: { grant_type: 'refresh_token', refresh_token: exchanged.body.refresh_token },
    });
    expect((await call(`${base}/admin/requests?profile=connectpay&route=token`)).body.requests.at(-1)).toMatchObject({
      clientAuth: 'basic',
      form: { grant_type: 'refresh_token' },
    });
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
