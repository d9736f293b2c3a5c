import { escapeHtml, htmlPage } from '../html.js';
import type { PendingConsentView, PendingPaymentView } from './psu.service.js';

/** The PSU app (decoupled SCA): pending consents and payments with Approve / Reject forms. */
export function renderPsuPage(
  username: string | undefined,
  pending: { consents: PendingConsentView[]; payments: PendingPaymentView[] },
  notice?: string,
): string {
  const returnTo = username === undefined ? '' : `<input type="hidden" name="username" value="${escapeHtml(username)}">`;
  const buttons = (kind: string, id: string) =>
    `<form method="post" action="/psu/decisions" style="display:inline">${returnTo}<input type="hidden" name="kind" value="${kind}"><input type="hidden" name="id" value="${escapeHtml(id)}">` +
    `<button name="decision" value="approve">Approve</button><button name="decision" value="reject">Reject</button></form>`;
  const consents = pending.consents
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.profile)}</td><td>${escapeHtml(c.username)} / ${escapeHtml(c.customer)}</td><td>until ${escapeHtml(c.validUntil)}, ${c.frequencyPerDay}/day</td><td><code>${escapeHtml(c.id)}</code></td><td>${buttons('consent', c.id)}</td></tr>`,
    )
    .join('');
  const payments = pending.payments
    .map(
      (p) =>
        `<tr><td>${escapeHtml(p.profile)}</td><td>${escapeHtml(p.username)} / ${escapeHtml(p.customer)}</td><td>${escapeHtml(p.amount.amount)} ${escapeHtml(p.amount.currency)} to ${escapeHtml(p.creditorName)} (${escapeHtml(p.creditorIban)})</td><td><code>${escapeHtml(p.id)}</code></td><td>${buttons('payment', p.id)}</td></tr>`,
    )
    .join('');
  const table = (rows: string, empty: string) =>
    rows === '' ? `<p class="hint">${empty}</p>` : `<table><tr><th>Bank</th><th>PSU</th><th>What</th><th>Id</th><th></th></tr>${rows}</table>`;
  const body = `<header><h1>Sandbox bank app${username === undefined ? '' : ` — ${escapeHtml(username)}`}</h1></header>
${notice === undefined ? '' : `<p class="hint" role="status">${escapeHtml(notice)}</p>`}
<form method="get" action="/psu"><label for="username">Show requests of</label><input id="username" name="username" value="${escapeHtml(username ?? '')}" placeholder="everyone"></form>
<h2>Consents waiting for approval</h2>${table(consents, 'No pending consents.')}
<h2>Payments waiting for approval</h2>${table(payments, 'No pending payments.')}`;
  return htmlPage('Sandbox bank app', body, '#7a3cff');
}
