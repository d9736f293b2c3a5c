import type { Page, Request } from 'playwright-core';
import { sandboxLogin } from '../support/bank-login.js';
import { tokenCalls } from '../support/bank-world.js';
import { answerAtBank, backOnDemo, connectionCard, goToBank, openDemo, signIn, textOf, waitForStatus } from './demo-page.js';
import { cspViolations, journey, launchBrowser, startDemoStack, type DemoStack, type TestBrowser } from './support.js';

/**
 * The bank connection as a person does it, in a real Chromium: the demo page, a full-window
 * navigation to the bank's login page, the PSU's answer, the BFF's callback and back. The negative
 * cases prove that `result=success` is reached only through a real state round trip in the browser
 * that started the login.
 */
describe('browser: connecting a bank from the demo page', () => {
  let stack: DemoStack;
  let browser: TestBrowser;
  let bankOrigin: string;

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
  async function freshPage(): Promise<Page> {
    await browser.context.clearCookies();
    return browser.context.newPage();
  }

  async function connectionsOf(userId: string): Promise<{ id: string; aspspId: string; status: string; failureReason?: string }[]> {
    const token = await sandboxLogin(stack.bff.url, userId);
    const res = await fetch(`${stack.bff.url}/api/v1/connections`, { headers: { authorization: `Bearer ${token}` } });
    return ((await res.json()) as { connections: { id: string; aspspId: string; status: string; failureReason?: string }[] }).connections;
  }

  for (const bank of [
    { id: 'flowe', name: 'Flowe', authorizePath: '/flowe/idp/oauth2/v2.0/authorize' },
    { id: 'connectpay', name: 'ConnectPay', authorizePath: '/connectpay/oauth/authorize' },
  ]) {
    it(`connects ${bank.name}: the bank login is a top-level navigation and the connection becomes active`, () =>
      journey(browser.context, `connect ${bank.id}`, async (j) => {
        const user = `connect-${bank.id}`;
        const page = await freshPage();
        const csp = cspViolations(page);
        const tokenCallsBefore = await tokenCalls(stack.sandbox.httpUrl, bank.id);

        await j.step('open the demo and sign in', async () => {
          await openDemo(page, stack.bff.url);
          await signIn(page, user);
        });
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

        await j.step('allow at the bank', async () => {
          await answerAtBank(page, { username: 'alice' });
          await backOnDemo(page, stack.bff.url);
        });
        const card = connectionCard(page, bank.id);
        await j.step('see the connection', () => waitForStatus(card, 'active'));
        expect(await page.locator('#banner').getAttribute('data-kind')).toBe('success');
        // The outcome query is consumed and removed from the address bar.
        expect(new URL(page.url()).search).toBe('');

        // The page showed what the API says, and the BFF really exchanged one code for tokens.
        const connections = await connectionsOf(user);
        expect(connections).toEqual([expect.objectContaining({ aspspId: bank.id, status: 'active' })]);
        expect(await card.getAttribute('data-id')).toBe(connections[0].id);
        expect(await tokenCalls(stack.sandbox.httpUrl, bank.id)).toBe(tokenCallsBefore + 1);
        expect(csp).toEqual([]);
      }));
  }

  it('shows a denied authorization as an error, and never calls the token endpoint', () =>
    journey(browser.context, 'deny at connectpay', async (j) => {
      const user = 'connect-denied';
      const page = await freshPage();
      const before = await tokenCalls(stack.sandbox.httpUrl, 'connectpay');
      await j.step('sign in', async () => {
        await openDemo(page, stack.bff.url);
        await signIn(page, user);
      });
      await j.step('go to ConnectPay', () => goToBank(page, 'connectpay', bankOrigin));
      await j.step('deny at the bank', async () => {
        await answerAtBank(page, { decision: 'deny' });
        await backOnDemo(page, stack.bff.url);
      });

      const banner = page.locator('#banner');
      expect(await banner.getAttribute('data-kind')).toBe('error');
      expect(await banner.getAttribute('data-error')).toBe('access_denied');
      expect(await textOf(banner)).toContain('You cancelled at the bank');
      await waitForStatus(connectionCard(page, 'connectpay'), 'failed');
      expect(await connectionsOf(user)).toEqual([expect.objectContaining({ status: 'failed', failureReason: 'access_denied' })]);
      expect(await tokenCalls(stack.sandbox.httpUrl, 'connectpay')).toBe(before);
    }));

  it('refuses a callback whose state was changed on the way back from the bank', () =>
    journey(browser.context, 'tampered state', async (j) => {
      const user = 'connect-tampered';
      const page = await freshPage();
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
      await j.step('allow at the bank', async () => {
        await answerAtBank(page);
        await backOnDemo(page, stack.bff.url);
      });

      expect(originalState).toBeDefined();
      expect(await page.locator('#banner').getAttribute('data-error')).toBe('invalid_state');
      expect((await connectionsOf(user)).map((c) => c.status)).not.toContain('active');
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before);
    }));

  it('refuses the callback in another browser, and its replay in the right one', () =>
    journey(browser.context, 'other browser', async (j) => {
      const user = 'connect-other-browser';
      const page = await freshPage();
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
      } finally {
        await other.close();
      }

      // The state is used up: the browser that started the login cannot use it any more either.
      await j.step('replay in the right browser', async () => {
        await page.goto(callbackUrl!);
        await backOnDemo(page, stack.bff.url);
      });
      expect(await page.locator('#banner').getAttribute('data-error')).toBe('invalid_state');
      expect((await connectionsOf(user)).map((c) => c.status)).not.toContain('active');
      expect(await tokenCalls(stack.sandbox.httpUrl, 'flowe')).toBe(before);
    }));

  it('cannot be framed by another page (frame-ancestors none)', async () => {
    const page = await freshPage();
    const csp = cspViolations(page);
    const refused = page.waitForEvent('console', { predicate: (m) => m.text().includes('frame-ancestors'), timeout: 10_000 });
    await page.setContent(`<iframe src="${stack.bff.url}/" width="600" height="400"></iframe>`);
    await refused;
    expect(csp.join('\n')).toContain("frame-ancestors 'none'");
    const frame = page.frames().find((f) => f !== page.mainFrame());
    expect(await frame?.locator('body[data-ready=true]').count()).toBe(0);
    await page.close();
  });
});
