import type { Locator, Page } from 'playwright-core';
import { sandboxLogin } from '../support/bank-login.js';
import { answerAtBank, backOnDemo, connectionCard, goToBank, openDemo, signIn, textOf, waitForStatus } from './demo-page.js';
import { cspViolations, journey, launchBrowser, startDemoStack, type DemoStack, type Journey, type TestBrowser } from './support.js';

/**
 * The whole product through the demo page, as a newcomer would click it: sign in, connect a bank,
 * ask for account access, approve it in the sandbox's bank app (a second tab), watch the status
 * change live (server-sent events: nothing on the page polls), read accounts, balances and
 * transactions, pay and approve until ACSC, then cancel a second payment.
 */
describe('browser: the whole demo, bank by bank', () => {
  let stack: DemoStack;
  let browser: TestBrowser;
  let bankOrigin: string;

  beforeAll(async () => {
    // A payment settles (ACSP → ACSC) one sandbox second after the PSU approves it.
    stack = await startDemoStack({ SCHEDULER_ENABLED: 'true' }, { settlementSeconds: 1 });
    browser = await launchBrowser();
    bankOrigin = new URL(stack.sandbox.httpUrl).origin;
  });
  afterAll(async () => {
    // The browser first: its open event stream would otherwise hold the BFF's shutdown.
    await browser?.close();
    await stack?.close();
  });

  /** Follows the page's "approve in your bank app" link (a new tab) and approves there. */
  async function approveInBankApp(j: Journey, link: Locator, kind: 'Consents' | 'Payments', profile: string, bankReference?: string): Promise<void> {
    const psu = await j.step(`open the bank app (${kind.toLowerCase()})`, async () => {
      const [tab] = await Promise.all([browser.context.waitForEvent('page'), link.click()]);
      await tab.waitForLoadState();
      return tab;
    });
    expect(new URL(psu.url()).origin).toBe(bankOrigin);
    const rows = psu.locator(`h2:has-text("${kind} waiting for approval") + table tr`, { hasText: profile });
    const row = bankReference ? rows.filter({ hasText: bankReference }) : rows;
    expect(await row.count()).toBe(1);
    await j.step('approve in the bank app', async () => {
      await row.locator('button[name=decision][value=approve]').click();
      await psu.waitForSelector('[role=status]');
    });
    expect(await textOf(psu.locator('[role=status]'))).toMatch(/: (valid|ACSP)$/);
    await psu.close();
  }

  async function sendPayment(page: Page, amount: string): Promise<Locator> {
    const keyBefore = await textOf(page.locator('#idempotency-key'));
    await page.fill('#payment-form [name=amount]', amount);
    await page.click('#payment-form button[type=submit]');
    const row = page.locator('[data-testid=payment]', { hasText: `${amount} EUR` });
    await waitForStatus(row, 'RCVD');
    // A new submission gets a new key; the one just used stays with that payment.
    expect(await textOf(page.locator('#idempotency-key'))).not.toBe(keyBefore);
    return row;
  }

  for (const bank of [
    { id: 'flowe', name: 'Flowe', ibans: ['IT16N3677201600000000410001'] },
    { id: 'connectpay', name: 'ConnectPay', ibans: ['LT443250010000000101', 'LT173250010000000102'] },
  ]) {
    it(`${bank.name}: connect, consent, accounts, a settled payment and a cancelled one`, () =>
      journey(browser.context, `full ${bank.id}`, async (j) => {
        await browser.context.clearCookies();
        const page = await browser.context.newPage();
        const csp = cspViolations(page);
        const user = `demo-${bank.id}`;

        await j.step('sign in', async () => {
          await openDemo(page, stack.bff.url);
          await signIn(page, user);
          await page.waitForSelector('#live[data-state=on]');
        });
        await j.step(`log in at ${bank.name}`, async () => {
          await goToBank(page, bank.id, bankOrigin);
          await answerAtBank(page, { username: 'alice' });
          await backOnDemo(page, stack.bff.url);
        });
        const card = connectionCard(page, bank.id);
        await j.step('connected', () => waitForStatus(card, 'active'));
        await page.waitForSelector('#live[data-state=on]');

        // Account information: the consent waits for the PSU in the bank app.
        const consent = card.locator('[data-testid=consent]');
        await j.step('ask for account access', async () => {
          await card.locator('[data-testid=create-consent]').click();
          await waitForStatus(consent, 'received');
        });
        await approveInBankApp(j, consent.locator('[data-testid=approve-link]'), 'Consents', bank.id);
        // No click, no reload: the scheduler polls the bank and the page hears it over SSE.
        await j.step('consent valid (live)', () => waitForStatus(consent, 'valid', 15_000));
        expect(await page.locator('[data-testid=event][data-type="consent.status"]').count()).toBeGreaterThan(0);

        await j.step('show accounts', async () => {
          await consent.locator('[data-testid=show-accounts]').click();
          await page.waitForSelector('[data-testid=account]');
        });
        const ibans = await page.locator('[data-testid=account]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-iban')));
        expect(ibans.sort()).toEqual([...bank.ibans].sort());

        await j.step('balances and transactions', async () => {
          await page.click(`[data-testid=account][data-iban=${bank.ibans[0]}]`);
          await page.waitForSelector('[data-testid=balance]');
          await page.waitForSelector('[data-testid=transaction]');
        });
        expect(await page.locator('[data-testid=balance]').count()).toBeGreaterThan(0);
        expect(await textOf(page.locator('[data-testid=balance]').first())).toMatch(/-?\d+\.\d{2} EUR/);
        const firstPage = await page.locator('[data-testid=transaction]').count();
        expect(firstPage).toBeGreaterThan(10);
        await j.step('more transactions', async () => {
          await page.click('[data-testid=more-transactions]');
          await page.locator('[data-testid=transaction]').nth(firstPage).waitFor();
        });
        expect(await textOf(page.locator('[data-testid=transactions-summary]'))).toMatch(/^\d+ of \d+ transactions/);

        // Payment initiation: the debtor account is offered from the accounts just read.
        expect(await page.inputValue('#payment-form [name=debtorIban]')).toBe(bank.ibans[0]);
        // Bad input is refused by the API, which names the field; the page marks it and creates nothing.
        await j.step('a mistyped amount', async () => {
          await page.fill('#payment-form [name=amount]', '12.5.0');
          await page.click('#payment-form button[type=submit]');
          await page.waitForSelector('#payment-form .form-error:not([hidden])');
        });
        expect(await textOf(page.locator('#payment-form .form-error li'))).toContain('instructedAmount.amount');
        expect(await page.getAttribute('#payment-form [name=amount]', 'aria-invalid')).toBe('true');
        expect(await page.locator('[data-testid=payment]').count()).toBe(0);
        const settled = await j.step('send a payment', () => sendPayment(page, '12.50'));
        expect(await page.locator('#payment-form .form-error').isHidden()).toBe(true);
        const bankReference = (await textOf(settled)).match(/bank ref (\S+)/)?.[1];
        expect(bankReference).toBeDefined();
        await approveInBankApp(j, settled.locator('[data-testid=approve-link]'), 'Payments', bank.id, bankReference);
        await j.step('payment settles (live)', () => waitForStatus(settled, 'ACSC', 20_000));
        expect(await page.locator('[data-testid=event][data-type="payment.status"]').count()).toBeGreaterThan(0);

        const cancelled = await j.step('send another payment', () => sendPayment(page, '3.20'));
        await j.step('cancel it', async () => {
          await cancelled.locator('[data-testid=cancel-payment]').click();
          await waitForStatus(cancelled, 'CANC');
        });

        // What the page showed is what the API holds: one payment per submission, final statuses.
        const token = await sandboxLogin(stack.bff.url, user);
        const list = (await (await fetch(`${stack.bff.url}/api/v1/payments`, { headers: { authorization: `Bearer ${token}` } })).json()) as { payments: { status: string; instructedAmount: { amount: string } }[] };
        expect(list.payments.map((p) => [p.instructedAmount.amount, p.status])).toEqual([
          ['3.20', 'CANC'],
          ['12.50', 'ACSC'],
        ]);
        expect(csp).toEqual([]);
      }));
  }
});
