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
  return item.locator(':scope > .row > [data-testid=status], :scope > [data-testid=status], :scope > td > [data-testid=status]');
}

/** Waits until the badge shows exactly `status` (the page updates it from the API or from SSE). */
export async function waitForStatus(item: Locator, status: string, timeout = 10_000): Promise<void> {
  await statusOf(item)
    .filter({ hasText: new RegExp(`^${status}$`) })
    .waitFor({ timeout });
}

export async function textOf(locator: Locator): Promise<string> {
  return (await locator.textContent())?.trim() ?? '';
}
