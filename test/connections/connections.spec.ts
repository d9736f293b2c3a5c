import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { cookieHeader, createConnection, finishConnect, hop, sandboxLogin, startConnect } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { bankEnv, startSandbox, tokenCalls } from '../support/bank-world.js';

describe('bank connections: login flow, state checks and isolation', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(bankEnv(sandbox));
    alice = await sandboxLogin(bff.url, 'alice');
    bob = await sandboxLogin(bff.url, 'bob');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  const api = () => request(bff.url);

  it('lists the configured banks', async () => {
    const res = await api().get('/api/v1/aspsps').set('Authorization', `Bearer ${alice}`).expect(200);
    expect(res.body.aspsps).toEqual([
      expect.objectContaining({ id: 'connectpay', name: 'ConnectPay', services: ['ais', 'pis'] }),
      expect.objectContaining({ id: 'flowe', name: 'Flowe', services: ['ais', 'pis'] }),
    ]);
  });

  it('connects Flowe end to end with the bank’s own authorize parameters', async () => {
    const flow = await startConnect(bff.url, alice, 'flowe', { services: ['ais'] });
    const authorize = new URL(flow.bankAuthorizeUrl);
    expect(authorize.pathname).toBe('/flowe/idp/oauth2/v2.0/authorize');
    expect(Object.fromEntries(authorize.searchParams)).toMatchObject({
      p: 'B2C_1A_Psd2_SignIn',
      prompt: 'login',
      response_type: 'code',
      client_id: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c',
      redirect_uri: `${bff.url}/auth/flowe/callback`,
      // only the role that was asked for: aisp, not pisp
      scope: 'offline_access https://sandbox.flowe.local/psd2/user_impersonation https://sandbox.flowe.local/psd2/aisp',
    });
    expect(authorize.searchParams.has('code_challenge')).toBe(false);
    expect(Buffer.from(authorize.searchParams.get('state')!, 'base64url').length).toBeGreaterThanOrEqual(16);

    const before = await tokenCalls(sandbox.httpUrl, 'flowe');
    const outcome = await finishConnect(flow);
    expect(outcome).toEqual({ connectionId: flow.connectionId, result: 'success' });
    expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before + 1);

    const connection = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
    expect(connection).toMatchObject({ id: flow.connectionId, aspspId: 'flowe', status: 'active', services: ['ais'] });
    const reauthInDays = (Date.parse(connection.reauthBy) - Date.now()) / 86_400_000;
    expect(reauthInDays).toBeGreaterThan(89.9);
    expect(reauthInDays).toBeLessThanOrEqual(90);
    expect(JSON.stringify(connection)).not.toMatch(/token/i);
  });

  it('connects ConnectPay with flowid, a GUIDv4 nonce, redirect_url and PSD2 scopes only', async () => {
    const flow = await startConnect(bff.url, alice, 'connectpay');
    const params = Object.fromEntries(new URL(flow.bankAuthorizeUrl).searchParams);
    expect(params).toMatchObject({
      flowid: 'GetPSD2AuthCode',
      response_type: 'code',
      redirect_url: `${bff.url}/auth/connectpay/callback`,
      scope: 'psd2-ais psd2-pis',
    });
    expect(params.nonce).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(params.redirect_uri).toBeUndefined();
    expect(await finishConnect(flow)).toEqual({ connectionId: flow.connectionId, result: 'success' });
    const connection = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
    expect(connection.status).toBe('active');
    expect(connection.reauthBy).toBeUndefined();
  });

  it('sets a short-lived, HttpOnly, SameSite=Lax binding cookie and no-store, no-referrer, no-framing headers', async () => {
    const created = await createConnection(bff.url, alice, 'flowe');
    const login = await hop(created.authorizationUrl, { headers: { cookie: created.startCookie } });
    expect(login.status).toBe(302);
    expect(login.setCookies).toHaveLength(1);
    const cookie = login.setCookies[0];
    expect(cookie).toMatch(/^tpp_login=[A-Za-z0-9_-]{43};/);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).not.toMatch(/Domain=/i);
    expect(cookie).toMatch(/Max-Age=600/);
    expect(cookie.length).toBeLessThan(4096);
    const res = await fetch(created.authorizationUrl, { redirect: 'manual', headers: { cookie: created.startCookie } });
    expect(res.status).toBe(404); // the ticket is single use
    const callback = await fetch(`${bff.url}/auth/flowe/callback?state=x&code=y`, { redirect: 'manual' });
    for (const r of [callback]) {
      expect(r.headers.get('cache-control')).toBe('no-store');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    }
  });

  it('uses a Secure __Host- cookie when served over https', async () => {
    const https = await startTestBff({ ...bankEnv(sandbox), PUBLIC_URL: 'https://bff.example', FRONTEND_RETURN_URLS: 'https://app.example/done' });
    try {
      const token = await sandboxLogin(https.url, 'alice');
      const created = await request(https.url)
        .post('/api/v1/connections')
        .set('Authorization', `Bearer ${token}`)
        .send({ aspspId: 'connectpay', returnUrl: 'https://app.example/done' })
        .expect(201);
      const start = created.headers['set-cookie'] as unknown as string[];
      expect(start).toEqual([
        expect.stringMatching(/^__Host-tpp_start=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Strict$/),
      ]);
      const login = await hop(new URL(created.body.authorizationUrl, https.url).toString(), { headers: { cookie: cookieHeader(start) } });
      expect(login.status).toBe(302);
      expect(login.setCookies[0]).toMatch(/^__Host-tpp_login=[A-Za-z0-9_-]{43};/);
      expect(login.setCookies[0]).toMatch(/; Secure/);
      expect(login.setCookies[0]).not.toMatch(/Domain=/i);
      expect(new URL(login.location!).searchParams.get('redirect_url')).toBe('https://bff.example/auth/connectpay/callback');
    } finally {
      await https.close();
    }
  });

  it.each(['//evil.example', '/\\evil.example', 'https://evil.example', 'javascript:alert(1)', 'http://localhost:3000.evil.example/', 'not a url'])(
    'refuses returnUrl %s',
    async (returnUrl) => {
      const res = await api().post('/api/v1/connections').set('Authorization', `Bearer ${alice}`).send({ aspspId: 'flowe', returnUrl }).expect(400);
      expect(res.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'returnUrl' })] });
    },
  );

  it('answers 404 for an unknown bank and 400 for bad bodies', async () => {
    const unknown = await api()
      .post('/api/v1/connections')
      .set('Authorization', `Bearer ${alice}`)
      .send({ aspspId: 'nobank', returnUrl: `${bff.url}/` })
      .expect(404);
    expect(unknown.body.code).toBe('not_found');
    const bad = await api()
      .post('/api/v1/connections')
      .set('Authorization', `Bearer ${alice}`)
      .send({ aspspId: 'flowe', services: ['loans'], returnUrl: `${bff.url}/`, extra: 1 })
      .expect(400);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['extra', 'services']);
    await api()
      .post('/api/v1/connections')
      .send({ aspspId: 'flowe', returnUrl: `${bff.url}/` })
      .expect(401);
  });

  describe('callback refusals: an error redirect and zero token requests', () => {
    async function expectRefused(callbackUrl: string, cookie: string, expected: string): Promise<void> {
      const before = await tokenCalls(sandbox.httpUrl, 'flowe');
      const outcome = await finishConnect({ callbackUrl, cookie });
      expect(outcome).toMatchObject({ result: 'error', error: expected });
      expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before);
    }

    it('missing state', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      const url = new URL(flow.callbackUrl);
      url.searchParams.delete('state');
      await expectRefused(url.toString(), flow.cookie, 'invalid_state');
    });

    it('unknown state', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      const url = new URL(flow.callbackUrl);
      url.searchParams.set('state', 'A'.repeat(43));
      await expectRefused(url.toString(), flow.cookie, 'invalid_state');
    });

    it('replayed state', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
      await expectRefused(flow.callbackUrl, flow.cookie, 'invalid_state');
    });

    it('expired state', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      await withClient(bff.db.url, (c) => c.query("UPDATE oauth_states SET expires_at = now() - interval '1 second'"));
      await expectRefused(flow.callbackUrl, flow.cookie, 'expired_state');
      const connection = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
      expect(connection).toMatchObject({ status: 'failed', failureReason: 'expired_state' });
    });

    it('another browser (no binding cookie, or someone else’s)', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      await expectRefused(flow.callbackUrl, '', 'invalid_state');
      const second = await startConnect(bff.url, alice, 'flowe');
      const other = await startConnect(bff.url, bob, 'flowe', { username: 'bob' });
      await expectRefused(second.callbackUrl, other.cookie, 'invalid_state');
      const connection = (await api().get(`/api/v1/connections/${second.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
      expect(connection.status).toBe('pending');
    });

    it('another bank’s state (mix-up)', async () => {
      const flow = await startConnect(bff.url, alice, 'flowe');
      const before = await tokenCalls(sandbox.httpUrl, 'connectpay');
      const url = new URL(flow.callbackUrl);
      url.pathname = '/auth/connectpay/callback';
      const outcome = await finishConnect({ callbackUrl: url.toString(), cookie: flow.cookie });
      expect(outcome).toMatchObject({ result: 'error', error: 'invalid_state' });
      expect(await tokenCalls(sandbox.httpUrl, 'connectpay')).toBe(before);
    });
  });

  it('ConnectPay denial (no code) → access_denied, no token request, state used up', async () => {
    const before = await tokenCalls(sandbox.httpUrl, 'connectpay');
    const flow = await startConnect(bff.url, alice, 'connectpay', { decision: 'deny' });
    const callback = new URL(flow.callbackUrl);
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.has('code')).toBe(false);
    expect(await finishConnect(flow)).toEqual({ connectionId: flow.connectionId, result: 'error', error: 'access_denied' });
    expect(await finishConnect(flow)).toMatchObject({ result: 'error', error: 'invalid_state' });
    expect(await tokenCalls(sandbox.httpUrl, 'connectpay')).toBe(before);
    const connection = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
    expect(connection).toMatchObject({ status: 'failed', failureReason: 'access_denied' });
  });

  it('a failing token endpoint → exchange_failed and a failed connection', async () => {
    const flow = await startConnect(bff.url, alice, 'flowe');
    await fetch(`${sandbox.httpUrl}/admin/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 503 }),
    });
    try {
      expect(await finishConnect(flow)).toEqual({ connectionId: flow.connectionId, result: 'error', error: 'exchange_failed' });
    } finally {
      await fetch(`${sandbox.httpUrl}/admin/faults`, { method: 'DELETE' });
    }
    const connection = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
    expect(connection).toMatchObject({ status: 'failed', failureReason: 'exchange_failed' });
  });

  it('keeps users apart: another user’s connection is not found, not listed, not deletable', async () => {
    const flow = await startConnect(bff.url, alice, 'flowe');
    await finishConnect(flow);
    await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${bob}`).expect(404);
    await api().delete(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${bob}`).expect(404);
    const bobs = (await api().get('/api/v1/connections').set('Authorization', `Bearer ${bob}`).expect(200)).body.connections;
    expect(bobs.map((c: { id: string }) => c.id)).not.toContain(flow.connectionId);
    await api().get('/api/v1/connections/..%2F..%2Fetc').set('Authorization', `Bearer ${alice}`).expect(400);

    await api().delete(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(204);
    const after = (await api().get(`/api/v1/connections/${flow.connectionId}`).set('Authorization', `Bearer ${alice}`).expect(200)).body;
    expect(after.status).toBe('revoked');
    const row = await withClient(
      bff.db.url,
      async (c) => (await c.query('SELECT access_token_enc, refresh_token_enc FROM connections WHERE id = $1', [flow.connectionId])).rows[0],
    );
    expect(row).toEqual({ access_token_enc: null, refresh_token_enc: null });
  });
});
