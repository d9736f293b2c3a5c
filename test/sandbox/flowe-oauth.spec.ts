import { FLOWE_SCOPES } from '../../src/sandbox/config.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import {
  advanceClock,
  bgClient,
  call,
  consentBody,
  FL,
  FL_REDIRECT,
  FL_SCOPE_ALL,
  floweAuthorizeUrl,
  floweLogin,
  floweToken,
  floweTokens,
  queryOf,
  setModes,
  startSandbox,
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

const { offlineAccess, userImpersonation, aisp, pisp } = FLOWE_SCOPES;

describe('Flowe IdP authorize', () => {
  it('sends a valid request to the sign-in page', async () => {
    const res = await call(floweAuthorizeUrl(base));
    expect(res.status).toBe(302);
    expect(res.location!.startsWith(`${base}/flowe/idp/login?request=`)).toBe(true);
  });

  it.each([
    ['a missing or different policy', { p: 'B2C_1A_SignIn' }],
    ['an unknown client_id', { client_id: 'b6d4c1e2-0000-4e9b-8c21-0f5e6d7a8b9c' }],
    ['an unregistered redirect_uri host', { redirect_uri: 'http://evil.example/auth/flowe/callback' }],
    ['an unregistered redirect_uri path', { redirect_uri: 'http://localhost:3000/auth/other/callback' }],
    ['an https look-alike', { redirect_uri: 'https://localhost:3000/auth/flowe/callback' }],
    ['a missing redirect_uri', { redirect_uri: undefined }],
  ])('refuses %s with a 400 page, never a redirect', async (_, overrides) => {
    const res = await call(floweAuthorizeUrl(base, overrides));
    expect(res.status).toBe(400);
    expect(res.location).toBeUndefined();
  });

  it('accepts the local callback on any port (tests run the BFF on random ports)', async () => {
    expect((await call(floweAuthorizeUrl(base, { redirect_uri: 'http://127.0.0.1:49152/auth/flowe/callback' }))).status).toBe(302);
  });

  it.each([
    ['PKCE (code_challenge)', { code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' }, 'invalid_request', /PKCE/],
    ['a code_challenge_method alone', { code_challenge_method: 'plain' }, 'invalid_request', /PKCE/],
    ['a scope without offline_access', { scope: [userImpersonation, aisp].join(' ') }, 'invalid_scope', /offline_access/],
    ['a scope without user_impersonation', { scope: [offlineAccess, aisp].join(' ') }, 'invalid_scope', /user_impersonation/],
    ['a scope without aisp or pisp', { scope: [offlineAccess, userImpersonation].join(' ') }, 'invalid_scope', /aisp and\/or pisp/],
    ['an unknown scope', { scope: `${[offlineAccess, userImpersonation, aisp].join(' ')} openid` }, 'invalid_scope', /Unknown scope: openid/],
    ['response_type token', { response_type: 'token' }, 'unsupported_response_type', /code/],
  ])('reports %s back to the redirect URI with error and state', async (_, overrides, error, description) => {
    const res = await call(floweAuthorizeUrl(base, { state: 's-1', ...overrides }));
    expect(res.status).toBe(302);
    expect(res.location!.startsWith(`${FL_REDIRECT}?`)).toBe(true);
    const query = queryOf(res.location);
    expect(query).toMatchObject({ state: 's-1', error });
    expect(query.error_description).toMatch(description);
    expect(query.code).toBeUndefined();
  });

  it.each([
    ['a missing prompt', { prompt: undefined }],
    ['prompt=none', { prompt: 'none' }],
    ['prompt=consent', { prompt: 'consent' }],
  ])("requires prompt=login as the guide's URL has it: %s is reported back as invalid_request", async (_, overrides) => {
    const res = await call(floweAuthorizeUrl(base, { state: 's-2', ...overrides }));
    expect(res.status).toBe(302);
    expect(queryOf(res.location)).toMatchObject({ state: 's-2', error: 'invalid_request', error_description: expect.stringContaining('prompt=login') });
  });

  it('lets the prompt go when promptLoginRequired is off', async () => {
    await setModes(base, 'flowe', { promptLoginRequired: false });
    expect((await call(floweAuthorizeUrl(base, { prompt: undefined }))).location).toContain('/flowe/idp/login');
  });

  it('accepts a PISP-only or AISP-only scope string', async () => {
    for (const role of [aisp, pisp])
      expect((await call(floweAuthorizeUrl(base, { scope: [offlineAccess, userImpersonation, role].join(' ') }))).location).toContain('/flowe/idp/login');
  });
});

describe('Flowe sign-in page', () => {
  it('has username, password, otp and allow/deny buttons; redirects with state and code', async () => {
    const authorize = await call(floweAuthorizeUrl(base, { state: 'abc' }));
    const page = await call(authorize.location!);
    for (const field of ['name="username"', 'name="password"', 'name="otp"', 'name="decision" value="allow"', 'name="decision" value="deny"'])
      expect(page.text).toContain(field);
    const callback = await floweLogin(base, { authorize: { state: 'abc' } });
    expect(Object.keys(callback).sort()).toEqual(['code', 'state']);
    expect(callback.state).toBe('abc');
  });

  it('redirects a cancellation with state, error=access_denied and a description', async () => {
    const callback = await floweLogin(base, { decision: 'deny', authorize: { state: 'xyz' } });
    expect(callback).toEqual({ state: 'xyz', error: 'access_denied', error_description: expect.stringContaining('cancelled') });
  });

  it('shows the page again on wrong credentials', async () => {
    const authorize = await call(floweAuthorizeUrl(base));
    const request = new URL(authorize.location!).searchParams.get('request')!;
    const res = await call(`${base}/flowe/idp/login`, { form: { request, username: 'alice', password: 'sandbox', otp: '999999', decision: 'allow' } });
    expect(res.status).toBe(401);
    expect(res.location).toBeUndefined();
  });
});

describe('Flowe token endpoint', () => {
  it('requires the policy query parameter', async () => {
    const { code } = await floweLogin(base);
    const res = await call(`${base}/flowe/idp/oauth2/v2.0/token`, {
      form: { grant_type: 'authorization_code', code: code!, client_id: FL.clientId, client_secret: FL.clientSecret },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('refuses a wrong client secret', async () => {
    const { code } = await floweLogin(base);
    const res = await floweToken(base, { grant_type: 'authorization_code', code: code!, client_secret: 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
  });

  it('uses a code once', async () => {
    const { code } = await floweLogin(base);
    expect((await floweToken(base, { grant_type: 'authorization_code', code: code! })).status).toBe(200);
    const replay = await floweToken(base, { grant_type: 'authorization_code', code: code! });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
  });

  it('rotates both tokens on refresh and, in rotate mode, refuses a replayed refresh token', async () => {
    await setModes(base, 'flowe', { refreshTokens: 'rotate' });
    const tokens = await floweTokens(base);
    const refreshed = await floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toMatchObject({ token_type: 'Bearer', refresh_token_expires_in: 7_776_000 });
    expect(refreshed.body.access_token).not.toBe(tokens.access);
    expect(refreshed.body.refresh_token).not.toBe(tokens.refresh);
    const replay = await floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    const api = bgClient(base, 'flowe', refreshed.body.access_token);
    expect((await api.post('/consents', consentBody())).status).toBe(200);
  });
});

describe('Flowe token request body (guide section 3)', () => {
  const basic = `Basic ${Buffer.from(`${encodeURIComponent(FL.clientId)}:${encodeURIComponent(FL.clientSecret)}`).toString('base64')}`;
  const tokenUrl = () => `${base}/flowe/idp/oauth2/v2.0/token?p=B2C_1A_Psd2_SignIn`;

  it('requires scope on both grants (400 invalid_request), unless tokenScopeRequired is off', async () => {
    const { code } = await floweLogin(base);
    const noScope = await call(tokenUrl(), { form: { grant_type: 'authorization_code', code: code!, client_id: FL.clientId, client_secret: FL.clientSecret } });
    expect(noScope.status).toBe(400);
    expect(noScope.body).toEqual({ error: 'invalid_request', error_description: expect.stringContaining('scope is required') });
    const tokens = await floweToken(base, { grant_type: 'authorization_code', code: code! });
    expect(tokens.status).toBe(200);
    const refresh = await call(tokenUrl(), {
      form: { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: FL.clientId, client_secret: FL.clientSecret },
    });
    expect(refresh.body.error).toBe('invalid_request');
    await setModes(base, 'flowe', { tokenScopeRequired: false });
    const lenient = await call(tokenUrl(), {
      form: { grant_type: 'refresh_token', refresh_token: tokens.body.refresh_token, client_id: FL.clientId, client_secret: FL.clientSecret },
    });
    expect(lenient.status).toBe(200);
  });

  it('refuses HTTP Basic client authentication (401 invalid_client), unless tokenClientAuth allows it', async () => {
    const { code } = await floweLogin(base);
    const form = { grant_type: 'authorization_code', code: code!, scope: FL_SCOPE_ALL };
    const refused = await call(tokenUrl(), { headers: { authorization: basic }, form });
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ error: 'invalid_client', error_description: expect.stringContaining('HTTP Basic') });
    await setModes(base, 'flowe', { tokenClientAuth: 'body-or-basic' });
    expect((await call(tokenUrl(), { headers: { authorization: basic }, form })).status).toBe(200);
  });

  it('refuses a scope the PSU did not grant and narrows the token to a smaller one (RFC 6749 section 6)', async () => {
    const aisOnly = [offlineAccess, userImpersonation, aisp].join(' ');
    const { code } = await floweLogin(base, { authorize: { scope: aisOnly } });
    const wider = await floweToken(base, { grant_type: 'authorization_code', code: code!, scope: FL_SCOPE_ALL });
    expect(wider.status).toBe(400);
    expect(wider.body.error).toBe('invalid_scope');
    const granted = await floweToken(base, { grant_type: 'authorization_code', code: code!, scope: aisOnly });
    expect(granted.body.scope).toBe(aisOnly);
    const narrower = await floweToken(base, {
      grant_type: 'refresh_token',
      refresh_token: granted.body.refresh_token,
      scope: [offlineAccess, userImpersonation].join(' '),
    });
    expect(narrower.status).toBe(200);
    expect(narrower.body.scope).toBe([offlineAccess, userImpersonation].join(' '));
    const ais = await bgClient(base, 'flowe', narrower.body.access_token).post('/consents', consentBody());
    expect(ais.status).toBe(401);
    expect(ais.body.tppMessages[0].code).toBe('TOKEN_INVALID');
  });
});

describe('Flowe refresh tokens: reuse (default) and rotate', () => {
  it('reuse: a refresh answers new tokens and the presented refresh token keeps working', async () => {
    const tokens = await floweTokens(base);
    const first = await floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh);
    const again = await floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(again.status).toBe(200);
    expect((await floweToken(base, { grant_type: 'refresh_token', refresh_token: first.body.refresh_token })).status).toBe(200);
    for (const access of [first.body.access_token, again.body.access_token])
      expect((await bgClient(base, 'flowe', access).post('/consents', consentBody())).status).toBe(200);
  });

  it('rotate: the first use spends the refresh token, even for a client that never saw the answer', async () => {
    await setModes(base, 'flowe', { refreshTokens: 'rotate' });
    const tokens = await floweTokens(base);
    await call(`${base}/admin/faults`, { json: { profile: 'flowe', route: 'token', dropResponse: 'reset', times: 1 } });
    await expect(floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh })).rejects.toThrow();
    const retry = await floweToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(retry.status).toBe(400);
    expect(retry.body.error).toBe('invalid_grant');
  });
});

describe('Flowe lifetimes (sandbox clock)', () => {
  let clocked: SandboxApp;
  beforeEach(async () => {
    clocked = await startSandbox();
  });
  afterEach(() => clocked.close());

  it('expires codes after 10 minutes', async () => {
    const { code } = await floweLogin(clocked.httpUrl);
    await advanceClock(clocked.httpUrl, 600);
    const res = await floweToken(clocked.httpUrl, { grant_type: 'authorization_code', code: code! });
    expect(res.body.error).toBe('invalid_grant');
  });

  it('refuses every refresh 90 days after the first login, even a freshly rotated refresh token', async () => {
    const url = clocked.httpUrl;
    let { refresh } = await floweTokens(url);
    // Refresh at day 30, day 60 and 89 days 23:59 after the login.
    for (const step of [30 * 86_400, 30 * 86_400, 30 * 86_400 - 60]) {
      await advanceClock(url, step);
      const res = await floweToken(url, { grant_type: 'refresh_token', refresh_token: refresh });
      expect(res.status).toBe(200);
      refresh = res.body.refresh_token;
    }
    // One more minute: 90 days since the login, the chain is over.
    await advanceClock(url, 60);
    const refused = await floweToken(url, { grant_type: 'refresh_token', refresh_token: refresh });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(refused.body.error_description).toMatch(/re-authenticate/);
    // A new login starts a new chain.
    const fresh = await floweTokens(url);
    expect((await floweToken(url, { grant_type: 'refresh_token', refresh_token: fresh.refresh })).status).toBe(200);
  });

  it('reuse: the first refresh token works until 90 days after the login, then no token of the chain does', async () => {
    const url = clocked.httpUrl;
    const { refresh } = await floweTokens(url);
    let latest = refresh;
    for (const step of [45 * 86_400, 45 * 86_400 - 60]) {
      await advanceClock(url, step);
      const res = await floweToken(url, { grant_type: 'refresh_token', refresh_token: refresh });
      expect(res.status).toBe(200);
      latest = res.body.refresh_token;
    }
    await advanceClock(url, 60);
    for (const token of [refresh, latest])
      expect((await floweToken(url, { grant_type: 'refresh_token', refresh_token: token })).body.error).toBe('invalid_grant');
  });
});
