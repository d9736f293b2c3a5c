import type { Locator, Page } from 'playwright-core';
import { sandboxLogin } from '../support/bank-login.js';
import { admin } from '../support/bank-world.js';
import {
  answer,
  answerAtBank,
  askedToConfirm,
  backOnDemo,
  connectionCard,
  goToBank,
  holdRequests,
  openDemo,
  signIn,
  statusOf,
  textOf,
  waitForStatus,
} from './demo-page.js';
import { cspViolations, journey, launchBrowser, startDemoStack, type DemoStack, type Journey, type TestBrowser, type Width } from './support.js';

/** Payments to this creditor are rejected by the sandbox's "clearing network" after approval. */
const REJECTED_CREDITOR_IBAN = 'IT24M1234512345000000999999';
/** Sandbox seconds between the PSU's approval (ACSP) and settlement: the test moves the clock past it. */
const SETTLEMENT_SECONDS = 600;

/**
 * The whole product through the demo page, as a newcomer would click it: sign in, connect a bank,
 * ask for account access, approve it in the sandbox's bank app (a second tab), watch the status
 * change live (server-sent events: nothing on the page polls), read accounts, balances and
 * transactions, pay and see it sent then paid, cancel a second payment, see a third rejected, read
 * from a bank that is down, and end the access. Every state is asserted in words, at 1280 and
 * 390 px; one bank is clicked through on a phone-sized screen, the other on a laptop-sized one.
 */
describe('browser: the whole demo, bank by bank', () => {
  let stack: DemoStack;
  let browser: TestBrowser;
  let bankOrigin: string;

  beforeAll(async () => {
    stack = await startDemoStack({ SCHEDULER_ENABLED: 'true' }, { settlementSeconds: SETTLEMENT_SECONDS, rejectCreditorIban: REJECTED_CREDITOR_IBAN });
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

  async function sendPayment(page: Page, amount: string, creditorIban?: string): Promise<Locator> {
    const keyBefore = await textOf(page.locator('#idempotency-key'));
    await page.fill('#payment-form [name=amount]', amount);
    if (creditorIban) await page.fill('#payment-form [name=creditorIban]', creditorIban);
    const [sent] = await Promise.all([
      page.waitForRequest((r) => r.method() === 'POST' && /^\/api\/v1\/connections\/[^/]+\/payments$/.test(new URL(r.url()).pathname)),
      page.click('#payment-form button[type=submit]'),
    ]);
    // The key shown is the one sent, with the user's token, as JSON.
    expect(await sent.allHeaders()).toEqual(
      expect.objectContaining({ 'idempotency-key': keyBefore, authorization: expect.stringMatching(/^Bearer ./), 'content-type': 'application/json' }),
    );
    const row = page.locator('[data-testid=payment]', { hasText: `${amount} EUR` });
    await waitForStatus(row, 'RCVD', 'Waiting for your approval in the bank app');
    // A new submission gets a new key; the one just used stays with that payment.
    expect(await textOf(page.locator('#idempotency-key'))).not.toBe(keyBefore);
    return row;
  }

  for (const bank of [
    { id: 'flowe', name: 'Flowe', ibans: ['IT16N3677201600000000410001'], width: 390 as Width },
    { id: 'connectpay', name: 'ConnectPay', ibans: ['LT443250010000000101', 'LT173250010000000102'], width: 1280 as Width },
  ]) {
    it(`${bank.name} at ${bank.width} px: connect, consent, accounts, a paid, a cancelled and a rejected payment, a bank outage, end of access`, () =>
      journey(browser.context, `full ${bank.id}`, { width: bank.width, demoOrigin: new URL(stack.bff.url).origin }, async (j) => {
        await browser.context.clearCookies();
        const page = await j.newPage();
        const csp = cspViolations(page);
        const user = `demo-${bank.id}`;

        await j.step(
          'sign in',
          async () => {
            await openDemo(page, stack.bff.url);
            await signIn(page, user);
            await page.waitForSelector('#live[data-state=on]');
          },
          [{ locator: page.locator('#live'), text: 'Live updates on' }],
        );
        await j.step(`log in at ${bank.name}`, async () => {
          await goToBank(page, bank.id, bankOrigin);
          await answerAtBank(page, { username: 'alice' });
          await backOnDemo(page, stack.bff.url);
        });
        const card = connectionCard(page, bank.id);
        await j.step('connected', () => waitForStatus(card, 'active', 'Connected'), [{ locator: statusOf(card), text: 'Connected' }]);
        await page.waitForSelector('#live[data-state=on]');

        // Account information: the consent waits for the PSU in the bank app.
        const consent = card.locator('[data-testid=consent]');
        // A bank that is down is named in a sentence: no bank message, status code or request id.
        const ask = card.locator('[data-testid=create-consent]');
        const connectionsError = page.locator('#connections-card > .form-error');
        await admin(stack.sandbox.httpUrl, 'faults', { profile: bank.id, route: 'consents', errorRate: 1, errorStatus: 503 });
        try {
          await j.step(
            'the bank is down',
            async () => {
              await ask.click();
              await connectionsError.waitFor();
            },
            [{ locator: connectionsError, text: `${bank.name} cannot be reached right now. Please try again in a few minutes.` }],
          );
        } finally {
          await admin(stack.sandbox.httpUrl, 'faults', undefined, 'DELETE');
        }
        expect(await textOf(connectionsError)).toBe(`${bank.name} cannot be reached right now. Please try again in a few minutes.`);
        expect(await consent.count()).toBe(0);

        // While the bank answers, the button says so and spins.
        const consentCall = await holdRequests(page, (url, method) => method === 'POST' && url.pathname.endsWith('/consents'));
        await j.step(
          'asking the bank',
          async () => {
            await ask.click();
            await ask.and(page.locator('[aria-busy=true]')).locator('.spinner').waitFor();
          },
          [{ locator: ask, text: `Asking ${bank.name}…` }],
        );
        expect(await ask.isDisabled()).toBe(true);
        expect(await connectionsError.isHidden()).toBe(true);
        consentCall.release();
        await j.step('ask for account access', () => waitForStatus(consent, 'received', 'Waiting for your approval in the bank app'), [
          { locator: statusOf(consent), text: 'Waiting for your approval in the bank app' },
          { locator: consent.locator('[data-testid=approve-link]'), text: 'Approve in your bank app' },
        ]);
        await approveInBankApp(j, consent.locator('[data-testid=approve-link]'), 'Consents', bank.id);
        // No click, no reload: the scheduler polls the bank and the page hears it over SSE.
        await j.step('consent valid (live)', () => waitForStatus(consent, 'valid', 'Access granted', 15_000), [
          { locator: statusOf(consent), text: 'Access granted' },
          { locator: page.locator('[data-testid=event][data-type="consent.status"]'), text: `${bank.name} account access: Access granted` },
        ]);

        await j.step(
          'show accounts',
          async () => {
            await consent.locator('[data-testid=show-accounts]').click();
            await page.waitForSelector('[data-testid=account]');
          },
          [
            { locator: page.locator('[data-testid=account]'), text: bank.ibans[0] },
            { locator: page.locator('[data-testid=accounts-source]'), text: new RegExp(`^(Read from ${bank.name} at|Showing data from) \\d\\d:\\d\\d`) },
          ],
        );
        const ibans = await page.locator('[data-testid=account]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-iban')));
        expect(ibans.sort()).toEqual([...bank.ibans].sort());

        // Until the account's data arrives, placeholders stand where it will be.
        const accountData = await holdRequests(page, (url) => /\/(balances|transactions)$/.test(url.pathname));
        await j.step(
          'loading an account',
          async () => {
            await page.click(`[data-testid=account][data-iban=${bank.ibans[0]}]`);
            await page.locator('#transactions [data-testid=loading]').waitFor();
          },
          [{ locator: page.locator('#account-title'), text: bank.ibans[0] }],
        );
        expect(await page.locator('#balances [data-testid=loading]').isVisible()).toBe(true);
        accountData.release();
        await j.step(
          'balances and transactions',
          async () => {
            await page.waitForSelector('[data-testid=balance]');
            await page.waitForSelector('[data-testid=transaction]');
          },
          [
            { locator: page.locator('[data-testid=balance]'), text: /-?\d+\.\d{2} EUR/ },
            { locator: page.locator('[data-testid=transaction]'), text: /(Booked|Pending)/ },
          ],
        );
        expect(await page.locator('[data-testid=balance]').count()).toBeGreaterThan(0);
        expect(await textOf(page.locator('[data-testid=balance]').first())).toMatch(/-?\d+\.\d{2} EUR/);
        const firstPage = await page.locator('[data-testid=transaction]').count();
        expect(firstPage).toBeGreaterThan(10);
        await j.step(
          'more transactions',
          async () => {
            await page.click('[data-testid=more-transactions]');
            await page.locator('[data-testid=transaction]').nth(firstPage).waitFor();
          },
          [{ locator: page.locator('[data-testid=transactions-summary]'), text: /^\d+ of \d+ transactions/ }],
        );
        expect(await textOf(page.locator('[data-testid=transactions-summary]'))).toMatch(/^\d+ of \d+ transactions/);

        // Payment initiation: the debtor account is offered from the accounts just read.
        expect(await page.inputValue('#payment-form [name=debtorIban]')).toBe(bank.ibans[0]);
        // Bad input is refused by the API, which names the field; the page marks it and creates nothing.
        await j.step(
          'a mistyped amount',
          async () => {
            await page.fill('#payment-form [name=amount]', '12.5.0');
            await page.click('#payment-form button[type=submit]');
            await page.waitForSelector('#payment-form .form-error:not([hidden])');
          },
          [{ locator: page.locator('#payment-form .form-error'), text: 'Please correct these details:' }],
        );
        const fieldError = page.locator('#payment-form .form-error li');
        expect(await fieldError.getAttribute('data-field')).toBe('instructedAmount.amount');
        expect(await textOf(fieldError)).toMatch(/^Amount \(EUR\): /);
        expect(await page.getAttribute('#payment-form [name=amount]', 'aria-invalid')).toBe('true');
        expect(await page.locator('[data-testid=payment]').count()).toBe(0);

        const paid = await j.step('send a payment', () => sendPayment(page, '12.50'), [
          { locator: statusOf(page.locator('[data-testid=payment]')), text: 'Waiting for your approval in the bank app' },
        ]);
        expect(await page.locator('#payment-form .form-error').isHidden()).toBe(true);
        const bankReference = await textOf(paid.locator('[data-testid=bank-reference]'));
        expect(bankReference).not.toBe('');
        await approveInBankApp(j, paid.locator('[data-testid=approve-link]'), 'Payments', bank.id, bankReference);
        await j.step('payment sent (live)', () => waitForStatus(paid, 'ACSP', 'Sent', 15_000), [{ locator: statusOf(paid), text: 'Sent' }]);
        // Settlement comes with the bank's clock: move it past the settlement delay and the next
        // cut-off (the sandbox Flowe clears every minute).
        await admin(stack.sandbox.httpUrl, 'clock', { advanceSeconds: SETTLEMENT_SECONDS + 61 });
        await j.step('payment paid (live)', () => waitForStatus(paid, 'ACSC', 'Paid', 20_000), [
          { locator: statusOf(paid), text: 'Paid' },
          { locator: page.locator('[data-testid=event][data-type="payment.status"]').first(), text: 'Payment of 12.50 EUR to Mario Bianchi: Paid' },
        ]);
        expect(await paid.locator('[data-testid=cancel-payment]').count()).toBe(0);

        // Cancelling asks first; keeping the payment changes nothing.
        const cancelled = await j.step('send another payment', () => sendPayment(page, '3.20'));
        const dialog = await j.step('ask before cancelling', () => askedToConfirm(page, cancelled.locator('[data-testid=cancel-payment]')), [
          { locator: page.locator('#confirm-title'), text: 'Cancel this payment?' },
          { locator: page.locator('#confirm-body'), text: '3.20 EUR to Mario Bianchi will not be sent' },
        ]);
        await j.step('keep the payment', () => answer(dialog, 'no'), [{ locator: statusOf(cancelled), text: 'Waiting for your approval in the bank app' }]);
        await j.step(
          'cancel it',
          async () => {
            await answer(await askedToConfirm(page, cancelled.locator('[data-testid=cancel-payment]')), 'yes');
            await waitForStatus(cancelled, 'CANC', 'Cancelled');
          },
          [{ locator: statusOf(cancelled), text: 'Cancelled' }],
        );
        // A cancellation is told as one, not as a failed approval.
        expect(await textOf(cancelled)).not.toMatch(/approv|SCA|failed/i);

        // The clearing network rejects a payment after the PSU approved it (in the bank app's API this time).
        const rejected = await j.step('send a payment the bank will reject', () => sendPayment(page, '7.70', REJECTED_CREDITOR_IBAN));
        const rejectedRef = await textOf(rejected.locator('[data-testid=bank-reference]'));
        await decideInBankApp('payment', rejectedRef, 'approve');
        await waitForStatus(rejected, 'ACSP', 'Sent', 15_000);
        await admin(stack.sandbox.httpUrl, 'clock', { advanceSeconds: SETTLEMENT_SECONDS + 61 });
        await j.step('the bank rejects it (live)', () => waitForStatus(rejected, 'RJCT', 'Rejected by the bank: no reason given', 20_000), [
          { locator: statusOf(rejected), text: 'Rejected by the bank: no reason given' },
        ]);

        // The bank is down: "Read from the bank now" keeps the accounts on screen and says how old they are.
        await admin(stack.sandbox.httpUrl, 'faults', { profile: bank.id, route: 'accounts', errorRate: 1, errorStatus: 503 });
        const source = page.locator('[data-testid=accounts-source]');
        try {
          await j.step(
            'read from a bank that is down',
            async () => {
              await page.click('[data-testid=read-from-bank]');
              await page.waitForSelector('[data-testid=accounts-source][data-stale=true]');
            },
            [{ locator: source, text: new RegExp(`^Showing data from \\d\\d:\\d\\d; ${bank.name} could not be reached\\.$`) }],
          );
        } finally {
          await admin(stack.sandbox.httpUrl, 'faults', undefined, 'DELETE');
        }
        expect(await page.locator('[data-testid=account]').count()).toBe(bank.ibans.length);
        await j.step(
          'read from the bank again',
          async () => {
            await page.click('[data-testid=read-from-bank]');
            await page.waitForSelector('[data-testid=accounts-source][data-stale=false]');
          },
          [{ locator: source, text: new RegExp(`^Read from ${bank.name} at \\d\\d:\\d\\d\\.$`) }],
        );

        // Ending access asks first, then the consent says it has ended.
        const end = await j.step('ask before ending access', () => askedToConfirm(page, consent.locator('[data-testid=end-access]')), [
          { locator: page.locator('#confirm-title'), text: `End account access at ${bank.name}?` },
        ]);
        await j.step(
          'end access',
          async () => {
            await answer(end, 'yes');
            await waitForStatus(consent, 'terminatedByTpp', 'Access ended');
          },
          [{ locator: statusOf(consent), text: 'Access ended' }],
        );

        // Words, not bank codes, everywhere on the page.
        const text = await page.locator('main').innerText();
        expect(text.match(/\b(RCVD|PDNG|ACTC|ACSP|ACSC|ACCC|RJCT|CANC|SCA|received|valid|terminatedByTpp|active)\b/g)).toBeNull();

        // What the page showed is what the API holds: one payment per submission, final statuses.
        const token = await sandboxLogin(stack.bff.url, user);
        const list = (await (await fetch(`${stack.bff.url}/api/v1/payments`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
          payments: { status: string; instructedAmount: { amount: string } }[];
        };
        expect(list.payments.map((p) => [p.instructedAmount.amount, p.status])).toEqual([
          ['7.70', 'RJCT'],
          ['3.20', 'CANC'],
          ['12.50', 'ACSC'],
        ]);
        expect(csp).toEqual([]);
      }));
  }

  /** The PSU's decision through the bank app's JSON API (`id` is the bank's id of the payment). */
  async function decideInBankApp(kind: 'payment', id: string, decision: 'approve' | 'reject'): Promise<void> {
    const res = await fetch(`${stack.sandbox.httpUrl}/psu/api/decisions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind, id, decision }),
    });
    expect(res.status).toBe(200);
  }
});
