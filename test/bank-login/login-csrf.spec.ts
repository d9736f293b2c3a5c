import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { Browser, confirmationForm, createConnection, hop, loginAtBank, sandboxLogin, type Hop } from '../support/bank-login.js';
import { MAX_CONFIRMATIONS_PER_TICKET } from '../../src/modules/bank-login/login-flow.store.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { bankEnv, startSandbox, tokenCalls } from '../support/bank-world.js';

/**
 * Login CSRF: the start of a bank login belongs to the TPP user who created the connection. The
 * browser that created it (same-site web app: it holds the start cookie) goes straight to the bank;
 * any other browser is shown who the bank would be attached to and goes on only with a click on
 * that page, which a forged link or a cross-site form cannot supply.
 */
describe('bank login: the start is bound to the user who created the connection', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let aliceToken: string;
  let bobToken: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff(bankEnv(sandbox));
    aliceToken = await sandboxLogin(bff.url, 'alice');
    bobToken = await sandboxLogin(bff.url, 'bob');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  const connectionOf = async (token: string, id: string) =>
    (await (await fetch(`${bff.url}/api/v1/connections/${id}`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      status: string;
      failureReason?: string;
    };

  /**
   * A person in `browser` who opens `url` and does what the pages ask of someone who believes it
   * is their own login: at the bank, they log in as `psu` and allow; at the BFF's confirmation
   * page, they read the name and stop (it is not theirs). Returns where it ended.
   */
  async function openAndLogIn(
    browser: Browser,
    url: string,
    psu: string,
  ): Promise<{ stoppedAt: 'confirmation'; page: Hop } | { outcome: Record<string, string> }> {
    const first = await browser.go(url);
    if (first.status === 200) return { stoppedAt: 'confirmation', page: first };
    expect(first.status).toBe(302);
    const callback = await loginAtBank(first.location!, { username: psu });
    const back = await browser.go(callback);
    return { outcome: Object.fromEntries(new URL(back.location!).searchParams) };
  }

  it("bob's authorizationUrl opened in alice's browser: alice logs in, yet no token call is made and bob's connection stays pending", async () => {
    const bobsBrowser = new Browser('bob');
    const alicesBrowser = new Browser('alice');
    // Alice uses the app herself too: her browser holds a start cookie of its own.
    await createConnection(bff.url, aliceToken, 'flowe').then((c) => alicesBrowser.keep([`${c.startCookie}; Path=/`]));
    const bobs = await createConnection(bff.url, bobToken, 'flowe');
    bobsBrowser.keep([`${bobs.startCookie}; Path=/`]);
    const before = await tokenCalls(sandbox.httpUrl, 'flowe');

    const opened = await openAndLogIn(alicesBrowser, bobs.authorizationUrl, 'alice');
    expect(opened).toMatchObject({ stoppedAt: 'confirmation' });
    const page = (opened as { page: Hop }).page;
    // What alice reads: the bank, and that the bank would go to the app user bob.
    expect(page.text).toContain('Connect Flowe to this account?');
    expect(/data-testid="user-label">([^<]*)</.exec(page.text)?.[1]).toBe('bob');

    // The attacker's best move: bob fetches the page himself, takes its one-time token and makes
    // alice's browser post it from his own site. The browser sends no Strict cookie cross-site,
    // and says where the form came from; even with alice's cookies the token is bob's browser's.
    const bobsPage = await bobsBrowser.go(bobs.authorizationUrl, { withCookies: false });
    const stolen = confirmationForm(bobsPage);
    const form = new URLSearchParams({ confirmation: stolen.confirmation, decision: 'continue' }).toString();
    const post = (init: { cookies: boolean; origin?: string }) =>
      alicesBrowser.go(new URL(stolen.action, bff.url).toString(), {
        method: 'POST',
        withCookies: init.cookies,
        headers: { 'content-type': 'application/x-www-form-urlencoded', ...(init.origin ? { origin: init.origin, 'sec-fetch-site': 'cross-site' } : {}) },
        body: form,
      });
    for (const forged of [
      await post({ cookies: false, origin: 'http://evil.example' }),
      await post({ cookies: true, origin: 'http://evil.example' }),
      await post({ cookies: true }),
    ]) {
      expect(forged.status).toBe(403);
      expect(forged.location).toBeUndefined();
    }

    expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before);
    expect((await connectionOf(bobToken, bobs.id)).status).toBe('pending');
  });

  it('the browser that created the connection goes straight to the bank (the web app: no extra click)', async () => {
    const browser = new Browser('web app');
    const created = await createConnection(bff.url, aliceToken, 'connectpay');
    browser.keep([`${created.startCookie}; Path=/`]);
    const login = await browser.go(created.authorizationUrl);
    expect(login.status).toBe(302);
    expect(new URL(login.location!).pathname).toBe('/connectpay/oauth/authorize');
    const back = await browser.go(await loginAtBank(login.location!, { username: 'alice' }));
    expect(Object.fromEntries(new URL(back.location!).searchParams)).toEqual({ connectionId: created.id, result: 'success' });
    expect((await connectionOf(aliceToken, created.id)).status).toBe('active');
  });

  it('sets the start cookie HttpOnly, SameSite=Strict, host-only and short-lived, and keeps one the browser already has', async () => {
    const res = await fetch(`${bff.url}/api/v1/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${aliceToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ aspspId: 'flowe', returnUrl: `${bff.url}/` }),
    });
    expect(res.status).toBe(201);
    const [cookie, ...others] = res.headers.getSetCookie();
    expect(others).toEqual([]);
    expect(cookie).toMatch(/^tpp_start=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/);
    const again = await createConnection(bff.url, aliceToken, 'flowe', { cookie: cookie.split(';')[0] });
    expect(again.startCookie).toBe(cookie.split(';')[0]);
  });

  it('a native app opens the link in the system browser: the page names the user, a click goes to the bank, and the login completes', async () => {
    const created = await createConnection(bff.url, bobToken, 'flowe');
    const phone = new Browser('system browser');
    const before = await tokenCalls(sandbox.httpUrl, 'flowe');

    const page = await phone.go(created.authorizationUrl);
    expect(page.status).toBe(200);
    const res = await fetch(created.authorizationUrl, { headers: { cookie: phone.cookie } });
    for (const [name, value] of [
      ['content-type', 'text/html; charset=utf-8'],
      ['cache-control', 'no-store'],
      ['x-frame-options', 'DENY'],
      ['referrer-policy', 'no-referrer'],
    ]) {
      expect(res.headers.get(name)).toBe(value);
    }
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(page.setCookies).toEqual([expect.stringMatching(/^tpp_start=[A-Za-z0-9_-]{43}; Max-Age=300; Path=\/; Expires=[^;]+; HttpOnly; SameSite=Strict$/)]);
    // Showing the page neither used the ticket nor called the bank.
    expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before);

    const { action, confirmation } = confirmationForm(page);
    expect(action).toBe('/auth/flowe/login');
    const origin = new URL(bff.url).origin;
    const confirm = (decision: string) =>
      phone.go(`${bff.url}${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', origin, 'sec-fetch-site': 'same-origin' },
        body: new URLSearchParams({ confirmation, decision }).toString(),
      });
    const toBank = await confirm('continue');
    expect(toBank.status).toBe(302);
    expect(new URL(toBank.location!).pathname).toBe('/flowe/idp/oauth2/v2.0/authorize');
    // The token is single use, and so is the ticket behind it.
    expect((await confirm('continue')).status).toBe(403);
    expect((await phone.go(created.authorizationUrl)).status).toBe(404);

    const back = await phone.go(await loginAtBank(toBank.location!, { username: 'bob' }));
    expect(Object.fromEntries(new URL(back.location!).searchParams)).toEqual({ connectionId: created.id, result: 'success' });
    expect((await connectionOf(bobToken, created.id)).status).toBe('active');
    expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before + 1);
  });

  it('Cancel on the confirmation page ends the login without going to the bank', async () => {
    const created = await createConnection(bff.url, bobToken, 'connectpay');
    const phone = new Browser('system browser');
    const { action, confirmation } = confirmationForm(await phone.go(created.authorizationUrl));
    const before = await tokenCalls(sandbox.httpUrl, 'connectpay');
    const cancelled = await phone.go(`${bff.url}${action}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ confirmation, decision: 'cancel' }).toString(),
    });
    expect(cancelled.status).toBe(303);
    expect(Object.fromEntries(new URL(cancelled.location!).searchParams)).toEqual({ connectionId: created.id, result: 'error', error: 'cancelled' });
    expect(await connectionOf(bobToken, created.id)).toMatchObject({ status: 'failed', failureReason: 'cancelled' });
    expect(await tokenCalls(sandbox.httpUrl, 'connectpay')).toBe(before);
  });

  it('refuses confirmations that are malformed, not forms, or carry anything else', async () => {
    const created = await createConnection(bff.url, bobToken, 'flowe');
    const phone = new Browser('system browser');
    const { action, confirmation } = confirmationForm(await phone.go(created.authorizationUrl));
    const post = (body: string, type = 'application/x-www-form-urlencoded') =>
      phone.go(`${bff.url}${action}`, { method: 'POST', headers: { 'content-type': type }, body });
    const cases: [string, string, number][] = [
      [new URLSearchParams({ confirmation, decision: 'maybe' }).toString(), 'application/x-www-form-urlencoded', 400],
      [new URLSearchParams({ confirmation, decision: 'continue', code: 'x' }).toString(), 'application/x-www-form-urlencoded', 400],
      [JSON.stringify({ confirmation, decision: 'continue' }), 'application/json', 415],
      [new URLSearchParams({ confirmation: 'A'.repeat(43), decision: 'continue' }).toString(), 'application/x-www-form-urlencoded', 403],
    ];
    for (const [body, type, status] of cases) {
      const res = await post(body, type);
      expect(res.status).toBe(status);
      expect(JSON.parse(res.text)).toMatchObject({ status });
    }
  });

  it('a link that is opened over and over stops showing confirmation pages (each one is a stored token)', async () => {
    const created = await createConnection(bff.url, bobToken, 'flowe');
    for (let i = 0; i < MAX_CONFIRMATIONS_PER_TICKET; i++) expect((await hop(created.authorizationUrl)).status).toBe(200);
    const refused = await hop(created.authorizationUrl);
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.text)).toMatchObject({ code: 'rate_limited' });
    // The browser that created the connection still goes straight to the bank.
    expect((await hop(created.authorizationUrl, { headers: { cookie: created.startCookie } })).status).toBe(302);
  });

  describe('the login route is never a callback and never burns its ticket on a bad request', () => {
    it.each(['code=stolen-code', 'error=access_denied', 'state=abc', 'code=x&state=y'])('?ticket=…&%s → 400, then the ticket still works', async (extra) => {
      const browser = new Browser('web app');
      const created = await createConnection(bff.url, aliceToken, 'flowe');
      browser.keep([`${created.startCookie}; Path=/`]);
      const before = await tokenCalls(sandbox.httpUrl, 'flowe');
      const bad = await browser.go(`${created.authorizationUrl}&${extra}`);
      expect(bad.status).toBe(400);
      const names = extra.split('&').map((pair) => `query:${pair.split('=')[0]}`);
      expect(JSON.parse(bad.text)).toMatchObject({ code: 'validation_failed', errors: names.map((field) => expect.objectContaining({ field })) });
      expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(before);
      const good = await browser.go(created.authorizationUrl);
      expect(good.status).toBe(302);
      expect(new URL(good.location!).pathname).toBe('/flowe/idp/oauth2/v2.0/authorize');
    });

    it('an unknown ticket is a 404, and so is a ticket of another bank', async () => {
      expect((await hop(`${bff.url}/auth/flowe/login?ticket=${'A'.repeat(43)}`)).status).toBe(404);
      const created = await createConnection(bff.url, aliceToken, 'flowe');
      const otherBank = created.authorizationUrl.replace('/auth/flowe/', '/auth/connectpay/');
      expect((await hop(otherBank, { headers: { cookie: created.startCookie } })).status).toBe(404);
    });
  });
});
