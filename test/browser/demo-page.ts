import type { Locator, Page } from 'playwright-core';

/**
 * How a person uses the demo page and the sandbox bank's pages, as Playwright actions. Selectors are
 * the page's `data-testid`s and the bank forms' field names (docs/sandbox.md), nothing positional.
 */

export async function openDemo(page: Page, bffUrl: string): Promise<void> {
  await page.goto(`${bffUrl}/`);
  await page.waitForSelector('body[data-ready=true]');
}

export async function signIn(page: Page, userId: string): Promise<void> {
  await page.fill('#login-user', userId);
  await page.click('#login-form button[type=submit]');
  await page.waitForSelector('[data-testid=bank]');
}

/** Clicks "Connect <bank>" and waits for the bank's own login page (a top-level navigation). */
export async function goToBank(page: Page, aspspId: string, bankOrigin: string): Promise<void> {
  await page.click(`[data-testid=bank][data-aspsp=${aspspId}] [data-testid=connect]`);
  await page.waitForURL((url) => url.origin === bankOrigin && url.pathname.endsWith('/login'));
  await page.waitForSelector('form input[name=otp]');
}

/** Plays the PSU on the bank's login page: credentials + OTP, then Allow or Deny. */
export async function answerAtBank(page: Page, options: { username?: string; decision?: 'allow' | 'deny' } = {}): Promise<void> {
  await page.fill('input[name=username]', options.username ?? 'alice');
  await page.fill('input[name=password]', 'sandbox');
  await page.fill('input[name=otp]', '123456');
  await page.click(`button[name=decision][value=${options.decision ?? 'allow'}]`);
}

/** Back on the demo page after the bank and the BFF's callback redirects. */
export async function backOnDemo(page: Page, bffUrl: string): Promise<void> {
  const origin = new URL(bffUrl).origin;
  await page.waitForURL((url) => url.origin === origin && url.pathname === '/');
  await page.waitForSelector('body[data-ready=true]');
}

export function connectionCard(page: Page, aspspId: string): Locator {
  return page.locator(`[data-testid=connection][data-aspsp=${aspspId}]`);
}

/** The status badge of a connection card, consent row or payment row (not of rows nested in it). */
export function statusOf(item: Locator): Locator {
  return item.locator(':scope > .row > [data-testid=status], :scope > [data-testid=status], :scope > td > .value > [data-testid=status]');
}

/**
 * Waits until the badge holds the API's `status` (its `data-status`) and says it in `words`, exactly:
 * the page updates it from the API or from SSE.
 */
export async function waitForStatus(item: Locator, status: string, words: string, timeout = 10_000): Promise<void> {
  const badge = statusOf(item).and(item.page().locator(`[data-status="${status}"]`));
  try {
    await badge.filter({ hasText: new RegExp(`^${escapeRegExp(words)}$`) }).waitFor({ timeout });
  } catch (error) {
    const seen = await statusOf(item).evaluateAll((els) => els.map((e) => `${e.getAttribute('data-status')}: ${e.textContent}`));
    throw new Error(`expected status ${status} shown as "${words}", the page shows ${JSON.stringify(seen)}`, { cause: error });
  }
}

/** Clicks a button that asks first; returns the open confirmation dialog. */
export async function askedToConfirm(page: Page, button: Locator): Promise<Locator> {
  await button.click();
  const dialog = page.locator('dialog#confirm[open]');
  await dialog.waitFor();
  return dialog;
}

/** Answers the open confirmation dialog and waits until it has closed. */
export async function answer(dialog: Locator, choice: 'yes' | 'no'): Promise<void> {
  await dialog.locator(`[data-testid=confirm-${choice}]`).click();
  await dialog.waitFor({ state: 'detached' });
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export async function textOf(locator: Locator): Promise<string> {
  return (await locator.textContent())?.trim() ?? '';
}

/**
 * Holds the page's requests that `match` until `release()`: what the page shows while it waits for
 * a bank (a spinner, a skeleton) is then there to assert, whatever the machine's speed.
 */
export async function holdRequests(page: Page, match: (url: URL, method: string) => boolean): Promise<{ release: () => void }> {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await page.route(
    (url) => url.pathname.startsWith('/api/'),
    async (route) => {
      if (match(new URL(route.request().url()), route.request().method())) await gate;
      // To the next handler (an earlier hold), or on to the server.
      await route.fallback();
    },
  );
  return { release };
}
