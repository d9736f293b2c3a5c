import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import {
  accountsOf,
  advanceClock,
  bgClient,
  call,
  connectPayAuthorizeUrl,
  connectPayLogin,
  connectPayToken,
  connectPayTokens,
  consentBody,
  CP,
  CP_REDIRECT,
  PSU_IP,
  queryOf,
  startSandbox,
} from './helpers.js';

let sandbox: SandboxApp;
let base: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
});
afterAll(() => sandbox.close());

describe('ConnectPay Get authCode API', () => {
  it('answers a valid request with 301 to the Auth Web App', async () => {
    const res = await call(connectPayAuthorizeUrl(base));
    expect(res.status).toBe(301);
    expect(res.location!.startsWith(`${base}/connectpay/auth/login?request=`)).toBe(true);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
  });

  const refused: [string, Record<string, string | undefined>, RegExp][] = [
    ['an unknown client_id', { client_id: randomUUID() }, /client/i],
    ['a redirect_url host that is not on the callback list', { redirect_url: 'https://evil.example/auth/connectpay/callback' }, /callback list/],
    ['a look-alike host', { redirect_url: 'http://localhost.evil.example/cb' }, /callback list/],
    ['a query string in redirect_url', { redirect_url: `${CP_REDIRECT}?next=/x` }, /query string/],
    ['a fragment in redirect_url', { redirect_url: `${CP_REDIRECT}#x` }, /fragment/],
    ['redirect_uri instead of redirect_url', { redirect_url: undefined, redirect_uri: CP_REDIRECT }, /redirect_url, not redirect_uri/],
    ['a nonce that is not a GUID', { nonce: 'not-a-guid' }, /GUIDv4/],
    ['a GUID that is not version 4', { nonce: '0b9c1a52-8d6e-1b8e-9a51-1c2d3e4f5a6b' }, /GUIDv4/],
    ['a missing nonce', { nonce: undefined }, /GUIDv4/],
    ['PSD2 mixed with a proprietary scope', { scope: 'psd2-ais accounts' }, /cannot be mixed/],
    ['PSD2 mixed with openid', { scope: 'psd2-ais openid' }, /cannot be mixed/],
    ['only proprietary scopes', { scope: 'accounts' }, /Only PSD2 scopes/],
    ['an unknown scope', { scope: 'psd2-ais psd2-xyz' }, /Unknown scope: psd2-xyz/],
    ['no scope', { scope: undefined }, /scope is required/],
    ['response_type token', { response_type: 'token' }, /response_type must be code/],
    ['a wrong flowid', { flowid: 'GetAuthCode' }, /flowid must be GetPSD2AuthCode/],
    ['a missing state', { state: undefined }, /state is required/],
  ];
  it.each(refused)('refuses %s with a 400 error and never redirects', async (_, overrides, message) => {
    const res = await call(connectPayAuthorizeUrl(base, overrides));
    expect(res.status).toBe(400);
    expect(res.location).toBeUndefined();
    expect(res.body.error_description).toMatch(message);
  });

  it('shows the error as an HTML page to browsers', async () => {
    const res = await call(connectPayAuthorizeUrl(base, { client_id: 'nope' }), { headers: { accept: 'text/html' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toContain('invalid_client');
  });

  it('refuses a nonce that was already used', async () => {
    const nonce = randomUUID();
    expect((await call(connectPayAuthorizeUrl(base, { nonce }))).status).toBe(301);
    const again = await call(connectPayAuthorizeUrl(base, { nonce }));
    expect(again.status).toBe(400);
    expect(again.body.error_description).toMatch(/nonce has already been used/);
  });

  it('accepts a callback host on the list with any path and port', async () => {
    expect((await call(connectPayAuthorizeUrl(base, { redirect_url: 'http://127.0.0.1:45678/some/where' }))).status).toBe(301);
  });
});

describe('ConnectPay Auth Web App', () => {
  async function loginRequest(scope = 'psd2-ais psd2-pis'): Promise<string> {
    const res = await call(connectPayAuthorizeUrl(base, { scope, state: 'state-1' }));
    return new URL(res.location!).searchParams.get('request')!;
  }
  const post = (request: string, form: Record<string, string | string[]>) =>
    call(`${base}/connectpay/auth/login?request=${request}`, { form: { request, ...form } });

  it('has the fixed fields: username, password, otp, customer, one checked scope box per scope, allow/deny', async () => {
    const request = await loginRequest();
    const page = await call(`${base}/connectpay/auth/login?request=${request}&username=alice`);
    expect(page.status).toBe(200);
    for (const name of ['username', 'password', 'otp']) expect(page.text).toContain(`name="${name}"`);
    expect(page.text).toMatch(/<select id="customer" name="customer"><option value="cp-alice-personal" selected>/);
    expect(page.text).toContain('<option value="cp-alice-corporate">');
    expect(page.text).toContain('name="scope" value="psd2-ais" checked');
    expect(page.text).toContain('name="scope" value="psd2-pis" checked');
    expect(page.text).toContain('name="decision" value="allow"');
    expect(page.text).toContain('name="decision" value="deny"');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
  });

  it('shows the page again with an error on a wrong password or OTP', async () => {
    const request = await loginRequest();
    for (const bad of [
      { password: 'wrong', otp: '123456' },
      { password: 'sandbox', otp: '000000' },
    ]) {
      const res = await post(request, { username: 'alice', ...bad, decision: 'allow' });
      expect(res.status).toBe(401);
      expect(res.location).toBeUndefined();
      expect(res.text).toContain('Wrong username, password or OTP');
    }
  });

  it('redirects a denial with state, flowid and error but no code', async () => {
    const res = await post(await loginRequest(), { decision: 'deny' });
    expect(res.status).toBe(302);
    expect(queryOf(res.location)).toEqual({ state: 'state-1', flowid: 'GetPSD2AuthCode', error: 'access_denied' });
    expect(res.location!.startsWith(`${CP_REDIRECT}?`)).toBe(true);
  });

  it('treats "allow" with every scope unticked as a denial', async () => {
    const res = await post(await loginRequest(), { username: 'alice', password: 'sandbox', otp: '123456', scope_choice: '1', decision: 'allow' });
    expect(queryOf(res.location)).toEqual({ state: 'state-1', flowid: 'GetPSD2AuthCode', error: 'access_denied' });
  });

  it('grants only the ticked scopes', async () => {
    const { code } = await connectPayLogin(base, { scopes: ['psd2-ais'] });
    const token = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(token.body.scope).toBe('psd2-ais');
    const api = bgClient(base, 'connectpay', token.body.access_token);
    expect((await api.post('/consents', consentBody({ access: { allPsd2: 'allAccounts' } }))).status).toBe(201);
    const payment = await api.post('/payments/sepa-credit-transfers', {}, { 'PSU-IP-Address': PSU_IP });
    expect(payment.status).toBe(401);
    expect(payment.body.tppMessages[0].code).toBe('TOKEN_INVALID');
    // A refresh keeps the partial grant, and cannot widen it (RFC 6749 section 6).
    const widened = await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token, scope: 'psd2-ais psd2-pis' });
    expect(widened.status).toBe(400);
    expect(widened.body.error).toBe('invalid_scope');
    const refreshed = await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: token.body.refresh_token });
    expect(refreshed.body.scope).toBe('psd2-ais');
    expect(
      (await bgClient(base, 'connectpay', refreshed.body.access_token).post('/payments/sepa-credit-transfers', {}, { 'PSU-IP-Address': PSU_IP })).body
        .tppMessages[0].code,
    ).toBe('TOKEN_INVALID');
  });

  it('grants PIS alone: payments work, every AIS endpoint answers 401 TOKEN_INVALID', async () => {
    const { code } = await connectPayLogin(base, { scopes: ['psd2-pis'] });
    const token = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(token.body.scope).toBe('psd2-pis');
    const api = bgClient(base, 'connectpay', token.body.access_token);
    for (const res of [await api.post('/consents', consentBody()), await api.get('/accounts', { 'Consent-ID': 'x' }), await api.get('/consents/x/status')]) {
      expect(res.status).toBe(401);
      expect(res.body.tppMessages[0].code).toBe('TOKEN_INVALID');
    }
    const debtor = (await accountsOf(base, 'alice', 'connectpay'))[0]!.iban;
    const payment = await api.post(
      '/payments/sepa-credit-transfers',
      {
        debtorAccount: { iban: debtor },
        creditorAccount: { iban: 'DE89370400440532013000' },
        creditorName: 'M',
        instructedAmount: { currency: 'EUR', amount: '1.00' },
      },
      { 'PSU-IP-Address': PSU_IP },
    );
    expect(payment.status).toBe(201);
  });

  it("refuses a customer that is not the person's", async () => {
    const res = await post(await loginRequest(), { username: 'bob', password: 'sandbox', otp: '123456', customer: 'cp-alice-corporate', decision: 'allow' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('not one of yours');
  });

  it("binds the token to the chosen customer: only that customer's accounts are visible", async () => {
    const personal = await connectPayTokens(base, { customer: 'cp-alice-personal' });
    const corporate = await connectPayTokens(base, { customer: 'cp-alice-corporate' });
    const ibans = async (access: string) => {
      const consent = await bgClient(base, 'connectpay', access).post('/consents', consentBody({ access: { allPsd2: 'allAccounts' } }));
      await call(`${base}/psu/api/decisions`, { json: { kind: 'consent', id: consent.body.consentId, decision: 'approve' } });
      const list = await bgClient(base, 'connectpay', access).get('/accounts', { 'Consent-ID': consent.body.consentId, 'PSU-IP-Address': PSU_IP });
      return list.body.accounts.map((a: { iban: string }) => a.iban).sort();
    };
    expect(await ibans(personal.access)).toEqual((await accountsOf(base, 'alice', 'connectpay', 0)).map((a) => a.iban).sort());
    expect(await ibans(corporate.access)).toEqual((await accountsOf(base, 'alice', 'connectpay', 1)).map((a) => a.iban).sort());
    const corporateAccount = (await accountsOf(base, 'alice', 'connectpay', 1))[0]!;
    const consent = await bgClient(base, 'connectpay', personal.access).post('/consents', consentBody({ access: { allPsd2: 'allAccounts' } }));
    await call(`${base}/psu/api/decisions`, { json: { kind: 'consent', id: consent.body.consentId, decision: 'approve' } });
    const other = await bgClient(base, 'connectpay', personal.access).get(`/accounts/${corporateAccount.resourceId}/balances`, {
      'Consent-ID': consent.body.consentId,
      'PSU-IP-Address': PSU_IP,
    });
    expect(other.status).toBe(404);
  });

  it('uses a login request once', async () => {
    const request = await loginRequest();
    expect((await post(request, { decision: 'deny' })).status).toBe(302);
    const again = await post(request, { decision: 'deny' });
    expect(again.status).toBe(400);
    expect(again.location).toBeUndefined();
  });
});

describe('ConnectPay token endpoint', () => {
  it('exchanges a code once; a replay is invalid_grant and revokes what the code issued', async () => {
    const { code } = await connectPayLogin(base);
    const first = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(first.status).toBe(200);
    expect(first.headers.get('cache-control')).toBe('no-store');
    const second = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
    const api = await bgClient(base, 'connectpay', first.body.access_token).post('/consents', consentBody());
    expect(api.status).toBe(401);
  });

  it('checks redirect_url against the authorize request (redirect_uri accepted as its name)', async () => {
    const missing = await connectPayToken(base, { grant_type: 'authorization_code', code: (await connectPayLogin(base)).code! });
    expect(missing.body.error).toBe('invalid_request');
    const other = await connectPayToken(base, {
      grant_type: 'authorization_code',
      code: (await connectPayLogin(base)).code!,
      redirect_url: 'http://localhost:3000/other',
    });
    expect(other.body.error).toBe('invalid_grant');
    const rfcName = await connectPayToken(base, { grant_type: 'authorization_code', code: (await connectPayLogin(base)).code!, redirect_uri: CP_REDIRECT });
    expect(rfcName.status).toBe(200);
  });

  it('authenticates the client by body or HTTP Basic, never both, never a wrong secret', async () => {
    const { code } = await connectPayLogin(base);
    const wrong = await connectPayToken(base, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT, client_secret: 'nope' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('invalid_client');
    const none = await call(`${base}/connectpay/oauth/token`, { form: { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT } });
    expect(none.status).toBe(401);
    const basic = `Basic ${Buffer.from(`${encodeURIComponent(CP.clientId)}:${encodeURIComponent(CP.clientSecret)}`).toString('base64')}`;
    const both = await call(`${base}/connectpay/oauth/token`, {
      headers: { authorization: basic },
      form: { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT, client_secret: CP.clientSecret },
    });
    expect(both.body.error).toBe('invalid_request');
    const badBasic = await call(`${base}/connectpay/oauth/token`, {
      headers: { authorization: `Basic ${Buffer.from(`${CP.clientId}:x`).toString('base64')}` },
      form: { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT },
    });
    expect(badBasic.status).toBe(401);
    expect(badBasic.headers.get('www-authenticate')).toMatch(/^Basic/);
    const ok = await call(`${base}/connectpay/oauth/token`, {
      headers: { authorization: basic },
      form: { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT },
    });
    expect(ok.status).toBe(200);
  });

  it('answers RFC 6749 errors for a bad grant_type or body', async () => {
    expect((await connectPayToken(base, {})).body.error).toBe('invalid_request');
    expect((await connectPayToken(base, { grant_type: 'password' })).body.error).toBe('unsupported_grant_type');
    expect((await connectPayToken(base, { grant_type: 'authorization_code' })).body.error).toBe('invalid_request');
    expect((await connectPayToken(base, { grant_type: 'authorization_code', code: 'unknown', redirect_url: CP_REDIRECT })).body.error).toBe('invalid_grant');
    const json = await call(`${base}/connectpay/oauth/token`, { json: { grant_type: 'refresh_token' } });
    expect(json.status).toBe(400);
    expect(json.body.error).toBe('invalid_request');
  });

  it('rotates refresh tokens: the old one is refused afterwards', async () => {
    const tokens = await connectPayTokens(base);
    const refreshed = await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(tokens.refresh);
    expect(refreshed.body.access_token).not.toBe(tokens.access);
    const replay = await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: tokens.refresh });
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect((await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: refreshed.body.refresh_token })).status).toBe(200);
  });
});

describe('ConnectPay code lifetime (sandbox clock)', () => {
  let clocked: SandboxApp;
  beforeEach(async () => {
    clocked = await startSandbox();
  });
  afterEach(() => clocked.close());

  it('keeps a code valid for 24 hours', async () => {
    const { code } = await connectPayLogin(clocked.httpUrl);
    await advanceClock(clocked.httpUrl, 24 * 3600 - 5);
    expect((await connectPayToken(clocked.httpUrl, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT })).status).toBe(200);
  });

  it('refuses a code older than 24 hours', async () => {
    const { code } = await connectPayLogin(clocked.httpUrl);
    await advanceClock(clocked.httpUrl, 24 * 3600);
    const res = await connectPayToken(clocked.httpUrl, { grant_type: 'authorization_code', code: code!, redirect_url: CP_REDIRECT });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: 'invalid_grant', error_description: 'authorization code expired' });
  });
});
