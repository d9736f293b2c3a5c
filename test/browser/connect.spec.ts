import type { Page, Request } from 'playwright-core';
import { sandboxLogin } from '../support/bank-login.js';
import { accessTokenOf, admin, tokenCalls } from '../support/bank-world.js';
import { withClient } from '../support/database.js';
import { enumAt, type OpenApi } from '../demo/docs-enums.js';
import { answer, answerAtBank, askedToConfirm, backOnDemo, connectionCard, goToBank, openDemo, signIn, statusOf, textOf, waitForStatus } from './demo-page.js';
import { cspViolations, journey, launchBrowser, startDemoStack, type DemoStack, type Journey, type TestBrowser } from './support.js';

/**
 * The bank connection as a person does it, in a real Chromium: the demo page, a full-window
 * navigation to the bank's login page, the PSU's answer, the BFF's callback and back. The negative
 * cases prove that `result=success` is reached only through a real state round trip in the browser
 * that started the login, and that each outcome is told in words.
 */
describe('browser: connecting a bank from the demo page', () => {
  let stack: DemoStack;
  let browser: TestBrowser;
  let bankOrigin: string;
  const at1280 = () => ({ width: 1280 as const, demoOrigin: new URL(stack.bff.url).origin });

  beforeAll(async () => {
    stack = await startDemoStack();
    browser = await launchBrowser();
    bankOrigin = new URL(stack.sandbox.httpUrl).origin;
  });
  afterAll(async () => {
    await browser?.close();
    await stack?.close();
  });

  /** A new tab with no cookies from earlier tests (the page's own state is per tab). */
  async function freshPage(j: Journey): Promise<Page> {
    await browser.context.clearCookies();
    return j.newPage();
  }

  async function connectionsOf(userId: string): Promise<{ id: string; aspspId: string; status: string; failureReason?: string }[]> {
    const token = await sandboxLogin(stack.bff.url, userId);
    const res = await fetch(`${stack.bff.url}/api/v1/connections`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { connections: { id: string; aspspId: string; status: string; failureReason?: string }[] }).connections;
  }

  /**
   * Holds the page's GET /api/v1/connections until `release()`: the page must show that it is
   * finishing the connection while it waits, whatever the machine's speed.
   */
  async function holdConnectionsList(page: Page): Promise<{ release: () => void }> {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await page.route(`${stack.bff.url}/api/v1/connections`, async (route) => {
      if (route.request().method() === 'GET') await gate;
      await route.continue();
    });
    return { release };
  }

  for (const bank of [
    { id: 'flowe', name: 'Flowe', authorizePath: '/flowe/idp/oauth2/v2.0/authorize' },
    { id: 'connectpay', name: 'ConnectPay', authorizePath: '/connectpay/oauth/authorize' },
  ]) {
    it(`connects ${bank.name}: the bank login is a top-level navigation, the page finishes the connection, then asks before disconnecting`, () =>
      journey(browser.context, `connect ${bank.id}`, at1280(), async (j) => {
        const user = `connect-${bank.id}`;
        const page = await freshPage(j);
        const csp = cspViolations(page);
        const tokenCallsBefore = await tokenCalls(stack.sandbox.httpUrl, bank.id);

        await j.step('open the demo', () => openDemo(page, stack.bff.url), [{ locator: page.locator('#login-view h1'), text: 'Welcome to the demo' }]);
        await j.step('sign in', () => signIn(page, user), [
          { locator: page.locator(`[data-testid=bank][data-aspsp=${bank.id}] [data-testid=connect]`), text: `Connect ${bank.name}` },
        ]);
        expect(await page.locator('iframe').count()).toBe(0);

        const bankRequests: Request[] = [];
        page.on('request', (r) => {
          if (r.url().startsWith(bankOrigin)) bankRequests.push(r);
        });
        const tabsBefore = browser.context.pages().length;
        await j.step(`go to ${bank.name}`, () => goToBank(page, bank.id, bankOrigin));

        // The PSU sees the bank's own address, in the top-level window: no frame, no popup.
        expect(new URL(page.url()).origin).toBe(bankOrigin);
        expect(page.frames()).toHaveLength(1);
        expect(page.mainFrame().url()).toBe(page.url());
        expect(browser.context.pages()).toHaveLength(tabsBefore);
        const authorize = bankRequests.find((r) => new URL(r.url()).pathname === bank.authorizePath);
        expect(authorize).toBeDefined();
        expect(authorize!.isNavigationRequest()).toBe(true);
        expect(authorize!.frame()).toBe(page.mainFrame());
        expect(authorize!.redirectedFrom()?.url()).toMatch(new RegExp(`^${stack.bff.url}/auth/${bank.id}/login\\?ticket=`));

        const held = await holdConnectionsList(page);
        await j.step(
          'allow at the bank: finishing the connection',
          async () => {
            await answerAtBank(page, { username: 'alice' });
            await backOnDemo(page, stack.bff.url);
          },
          [{ locator: page.locator('#finishing'), text: 'Finishing the connection…' }],
        );
        expect(await page.locator('#finishing .spinner').isVisible()).toBe(true);
        held.release();

        const card = connectionCard(page, bank.id);
        await j.step('see the connection', () => waitForStatus(card, 'active', 'Connected'), [
          { locator: statusOf(card), text: 'Connected' },
          { locator: page.locator('#banner'), text: `${bank.name} is connected.` },
        ]);
        expect(await page.locator('#finishing').isHidden()).toBe(true);
        expect(await page.locator('#banner').getAttribute('data-kind')).toBe('success');
        // The outcome query is consumed and removed from the address bar.
        expect(new URL(page.url()).search).toBe('');

        // The page showed what the API says, and the BFF really exchanged one code for tokens.
        const connections = await connectionsOf(user);
        expect(connections).toEqual([expect.objectContaining({ aspspId: bank.id, status: 'active' })]);
        expect(await card.getAttribute('data-id')).toBe(connections[0].id);
        expect(await tokenCalls(stack.sandbox.httpUrl, bank.id)).toBe(tokenCallsBefore + 1);

        // Disconnect asks first; "Stay connected" changes nothing.
        const question = await j.step('ask before disconnecting', () => askedToConfirm(page, card.locator('[data-testid=disconnect]')), [
          { locator: page.locator('#confirm-title'), text: `Disconnect ${bank.name}?` },
          { locator: page.locator('#confirm-no'), text: 'Stay connected' },
        ]);
        await j.step('stay connected', () => answer(question, 'no'), [{ locator: statusOf(card), text: 'Connected' }]);
        expect(await connectionsOf(user)).toEqual([expect.objectContaining({ status: 'active' })]);
        await j.step(
          'disconnect',
          async () => {
            await answer(await askedToConfirm(page, card.locator('[data-testid=disconnect]')), 'yes');
            await card.waitFor({ state: 'detached' });
          },
          [{ locator: page.locator('#connections .hint'), text: 'No bank connected yet.' }],
        );
        expect(await connectionsOf(user)).toEqual([expect.objectContaining({ status: 'revoked' })]);
        expect(csp).toEqual([]);
      }));
  }

  it('shows a denied authorization as an error in words, and never calls the token endpoint', () =>
    journey(browser.context, 'deny at connectpay', at1280(), async (j) => {
      const user = 'connect-denied';
      const page = await freshPage(j);
      const before = await tokenCalls(stack.sandbox.httpUrl, 'connectpay');
      await j.step('sign in', async () => {
        await openDemo(page, stack.bff.url);
        await signIn(page, user);
      });
      await j.step('go to ConnectPay', () => goToBank(page, 'connectpay', bankOrigin));
      const card = connectionCard(page, 'connectpay');
      await j.step(
        'deny at the bank',
        async () => {
          await answerAtBank(page, { decision: 'deny' });
          await backOnDemo(page, stack.bff.url);
          await waitForStatus(card, 'failed', 'Not connected');
        },
        [
          { locator: page.locator('#banner'), text: 'The bank connection failed. You cancelled at the bank, or did not grant access.' },
          { locator: card.locator('.reason'), text: 'You cancelled at the bank, or did not grant access.' },
        ],
      );

      const banner = page.locator('#banner');
      expect(await banner.getAttribute('data-kind')).toBe('error');
      expect(await banner.getAttribute('data-error')).toBe('access_denied');
      expect(await textOf(banner)).toContain('You cancelled at the bank');
      expect(await connectionsOf(user)).toEqual([expect.objectContaining({ status: 'failed', failureReason: 'access_denied' })]);
      expect(await tokenCalls(stack.sandbox.httpUrl, 'connectpay')).toBe(before);
    }));

  it('refuses a callback whose state was changed on the way back from the bank', () =>
    journey(browser.context, 'tampered state', at1280(), async (j) => {
      const user = 'connect-tampered';
      const page = await freshPage(j);
      const before = await tokenCalls(stack.sandbox.httpUrl, 'flowe');
      await j.step('sign in', async () => {
        await openDemo(page, stack.bff.url);
        await signIn(page, user);
      });
      await j.step('go to Flowe', () => goToBank(page, 'flowe', bankOrigin));

      // Rewrite the bank's redirect to the BFF callback: same code, another (well-formed) state.
      let originalState: string | undefined;
      await page.route(`${bankOrigin}/flowe/idp/login**`, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch({ maxRedirects: 0 });
        const location = new URL(response.headers()['location']);
        originalState = location.searchParams.get('state') ?? undefined;
        location.searchParams.set('state', Buffer.alloc(32, 7).toString('base64url'));
        await route.fulfill({ response, headers: { ...response.headers(), location: location.toString() } });
      });
      await j.step(
        'allow at the bank',
        async () => {
          await answerAtBank(page);
          await backOnDemo(page, stack.bff.url);
        },
        [{ locator: page.locator('#banner'), text: 'could not be matched to this browser' }],
      );

      expect(originalState).toBeDefined();
      expect(await page.locator('#banner').getAttribute('data-error')).toBe('invalid_state');
      expect((await connectionsOf(user)).map((c) => c.status)).not.toContain('active');
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before);
    }));

  it('refuses the callback in another browser, and its replay in the right one', () =>
    journey(browser.context, 'other browser', at1280(), async (j) => {
      const user = 'connect-other-browser';
      const page = await freshPage(j);
      const before = await tokenCalls(stack.sandbox.httpUrl, 'flowe');
      await j.step('sign in', async () => {
        await openDemo(page, stack.bff.url);
        await signIn(page, user);
      });
      await j.step('go to Flowe', () => goToBank(page, 'flowe', bankOrigin));

      // Stop this browser before the callback (the bank's redirect is answered with a plain page)
      // and hand the callback URL, code and state included, to another browser.
      let callbackUrl: string | undefined;
      await page.route(`${bankOrigin}/flowe/idp/login**`, async (route) => {
        if (route.request().method() !== 'POST') return route.continue();
        const response = await route.fetch({ maxRedirects: 0 });
        callbackUrl = new URL(response.headers()['location'], bankOrigin).toString();
        await route.fulfill({ status: 200, contentType: 'text/plain', body: 'stopped before the callback' });
      });
      await j.step('allow at the bank', async () => {
        await answerAtBank(page);
        await page.waitForSelector('text=stopped before the callback');
      });
      expect(callbackUrl).toMatch(new RegExp(`^${stack.bff.url}/auth/flowe/callback\\?.*code=`));

      const other = await launchBrowser();
      try {
        const otherPage = await other.context.newPage();
        await otherPage.goto(callbackUrl!);
        await backOnDemo(otherPage, stack.bff.url);
        expect(await otherPage.locator('#banner').getAttribute('data-error')).toBe('invalid_state');
        // No session in that browser: the sign-in form, and the reason in words above it.
        expect(await otherPage.locator('#login-view').isVisible()).toBe(true);
        expect(await textOf(otherPage.locator('#banner'))).toContain('could not be matched to this browser');
      } finally {
        await other.close();
      }

      // The state is used up: the browser that started the login cannot use it any more either.
      await j.step(
        'replay in the right browser',
        async () => {
          await page.goto(callbackUrl!);
          await backOnDemo(page, stack.bff.url);
        },
        [{ locator: page.locator('#banner'), text: 'could not be matched to this browser' }],
      );
      expect(await page.locator('#banner').getAttribute('data-error')).toBe('invalid_state');
      expect((await connectionsOf(user)).map((c) => c.status)).not.toContain('active');
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before);
    }));

  it('asks a browser that did not create the connection (a native app’s system browser) whose account the bank joins, then goes on', () =>
    journey(browser.context, 'confirm in the system browser', at1280(), async (j) => {
      // The native app creates the connection with its own HTTP client and opens the link in the
      // system browser, which has never seen the BFF: no start cookie there.
      const token = await sandboxLogin(stack.bff.url, 'connect-native');
      const created = (await (
        await fetch(`${stack.bff.url}/api/v1/connections`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ aspspId: 'flowe', returnUrl: `${stack.bff.url}/` }),
        })
      ).json()) as { id: string; authorizationUrl: string };
      const page = await freshPage(j);
      const csp = cspViolations(page);
      const before = await tokenCalls(stack.sandbox.httpUrl, 'flowe');

      await j.step('open the link', () => page.goto(new URL(created.authorizationUrl, stack.bff.url).toString()), [
        { locator: page.locator('h1'), text: 'Connect Flowe to this account?' },
        { locator: page.locator('[data-testid=user-label]'), text: 'connect-native' },
        { locator: page.locator('button[value=continue]'), text: 'Continue to Flowe' },
      ]);
      expect(new URL(page.url()).origin).toBe(new URL(stack.bff.url).origin);
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before);

      await j.step('continue to the bank', async () => {
        await page.click('button[value=continue]');
        await page.waitForURL((url) => url.origin === bankOrigin && url.pathname.endsWith('/login'));
        await page.waitForSelector('form input[name=otp]');
      });
      await j.step('allow at the bank', async () => {
        await answerAtBank(page, { username: 'bob' });
        await backOnDemo(page, stack.bff.url);
      });
      expect(await connectionsOf('connect-native')).toEqual([expect.objectContaining({ id: created.id, status: 'active' })]);
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before + 1);
      expect(csp).toEqual([]);
    }));

  it('cannot be framed by another page (frame-ancestors none)', async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const csp = cspViolations(page);
    const refused = page.waitForEvent('console', { predicate: (m) => m.text().includes('frame-ancestors'), timeout: 10_000 });
    await page.setContent(`<iframe src="${stack.bff.url}/" width="600" height="400"></iframe>`);
    await refused;
    expect(csp.join('\n')).toContain("frame-ancestors 'none'");
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(await frame?.locator('body[data-ready=true]').count()).toBe(0);
    await page.close();
  });

  it('serves status words that match the API document: every documented status, nothing else', async () => {
    const page = await browser.context.newPage();
    try {
      await openDemo(page, stack.bff.url);
      const docs = (await (await fetch(`${stack.bff.url}/docs-json`)).json()) as OpenApi;
      // The module the page itself loaded, from the page's own origin.
      // (A string: the import runs in the page, not in this test's module system.)
      const tables = (await page.evaluate(`import('/js/status-text.js').then((m) => ({
        connection: Object.keys(m.CONNECTION_STATUS), consent: Object.keys(m.CONSENT_STATUS), payment: Object.keys(m.PAYMENT_STATUS), sca: Object.keys(m.SCA_STATUS),
      }))`)) as Record<'connection' | 'consent' | 'payment' | 'sca', string[]>;
      expect(tables.connection.sort()).toEqual(enumAt(docs, 'get', '/api/v1/connections/{id}', ['status']).sort());
      expect(tables.consent.sort()).toEqual(enumAt(docs, 'get', '/api/v1/consents/{id}', ['status']).sort());
      expect(tables.payment.sort()).toEqual(enumAt(docs, 'get', '/api/v1/payments/{id}', ['status']).sort());
      expect(tables.sca.sort()).toEqual(enumAt(docs, 'get', '/api/v1/payments/{id}', ['scaStatus']).sort());
    } finally {
      await page.close();
    }
  });

  it("calls the API through the typed client: the user's token on every call but the login, and a refused token signs the user out", async () => {
    await browser.context.clearCookies();
    const page = await browser.context.newPage();
    const requests: Request[] = [];
    page.on('request', (r) => {
      if (new URL(r.url()).origin === new URL(stack.bff.url).origin) requests.push(r);
    });
    try {
      await openDemo(page, stack.bff.url);
      const listed = ['/api/v1/connections', '/api/v1/consents', '/api/v1/payments'].map((path) =>
        page.waitForResponse((r) => new URL(r.url()).pathname === path),
      );
      await signIn(page, 'typed-client');
      await Promise.all(listed);
      const token = (await page.evaluate(`sessionStorage.getItem('tpp-demo.token')`)) as string;
      expect(token).toEqual(expect.any(String));

      // The client's runtime came from the BFF, as JavaScript.
      const vendor = requests.find((r) => new URL(r.url()).pathname === '/js/vendor/openapi-fetch.mjs');
      expect((await vendor?.response())?.headers()['content-type']).toMatch(/javascript/);

      const calls = await Promise.all(
        requests
          .filter((r) => /^\/(api|demo)\//.test(new URL(r.url()).pathname) && new URL(r.url()).pathname !== '/api/v1/events')
          .map(async (r) => ({ call: `${r.method()} ${new URL(r.url()).pathname}`, headers: await r.allHeaders() })),
      );
      const anonymous = ['GET /demo/config.json', 'POST /api/v1/sandbox/login'];
      expect(calls.map((c) => c.call)).toEqual(expect.arrayContaining([...anonymous, 'GET /api/v1/aspsps', 'GET /api/v1/connections', 'GET /api/v1/payments']));
      for (const { call, headers } of calls)
        expect({ call, accept: headers.accept, authorization: headers.authorization }).toEqual({
          call,
          accept: 'application/json',
          authorization: anonymous.includes(call) ? undefined : `Bearer ${token}`,
        });

      // A token the BFF no longer accepts: the first API answer (401) ends the session. The live
      // stream, which would notice the same, is kept away so that the typed client's answer does it.
      await page.route(`${stack.bff.url}/api/v1/events`, (route) => route.abort());
      await page.evaluate(`sessionStorage.setItem('tpp-demo.token', 'no-longer-valid')`);
      await page.reload();
      await page.waitForSelector('#login-view:not([hidden])');
      expect(await textOf(page.locator('#banner'))).toBe('Your session ended: please sign in again.');
      expect(await page.evaluate(`sessionStorage.getItem('tpp-demo.token')`)).toBeNull();
    } finally {
      await page.close();
    }
  });

  it('logs in again from the page when the bank login has ended: the same connection comes back, announced live', () =>
    journey(browser.context, 'log in again at flowe', at1280(), async (j) => {
      const user = 'relogin-flowe';
      const page = await freshPage(j);
      const csp = cspViolations(page);
      await j.step('sign in', async () => {
        await openDemo(page, stack.bff.url);
        await signIn(page, user);
      });
      await j.step('go to Flowe', () => goToBank(page, 'flowe', bankOrigin));
      const card = connectionCard(page, 'flowe');
      await j.step('allow at the bank', async () => {
        await answerAtBank(page, { username: 'alice' });
        await backOnDemo(page, stack.bff.url);
        await waitForStatus(card, 'active', 'Connected');
      });
      const [connection] = await connectionsOf(user);
      try {
        // 91 days later Flowe refuses the refresh: the page hears it over SSE, with no reload.
        await j.step(
          'the bank login ends',
          async () => {
            await admin(stack.sandbox.httpUrl, 'clock', { advanceSeconds: 91 * 86_400 });
            await withClient(stack.bff.db.url, (c) =>
              c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [connection.id]),
            );
            await expect(accessTokenOf(stack.bff, connection.id)).rejects.toMatchObject({ code: 'reauth_required' });
            await waitForStatus(card, 'reauth_required', 'Log in to the bank again');
          },
          [{ locator: card.locator('[data-testid=log-in-again]'), text: 'Log in again' }],
        );
        await j.step('log in again at Flowe', async () => {
          await card.locator('[data-testid=log-in-again]').click();
          await page.waitForURL((url) => url.origin === bankOrigin && url.pathname.endsWith('/login'));
          await answerAtBank(page, { username: 'alice' });
          await backOnDemo(page, stack.bff.url);
        });
        await j.step('connected again', () => waitForStatus(card, 'active', 'Connected'), [
          { locator: statusOf(card), text: 'Connected' },
          { locator: page.locator('#banner'), text: 'Flowe is connected.' },
        ]);
        expect(await card.getAttribute('data-id')).toBe(connection.id);
        expect(await card.locator('[data-testid=log-in-again]').count()).toBe(0);
        expect(await connectionsOf(user)).toEqual([expect.objectContaining({ id: connection.id, status: 'active' })]);
        expect(csp).toEqual([]);
      } finally {
        // The sandbox clock back to now for whatever runs next.
        await admin(stack.sandbox.httpUrl, 'reset?state=true');
      }
    }));
});
