import type { SandboxData } from '../data/personas.js';
import { escapeHtml, htmlPage } from '../html.js';

/** `GET /`: where everything is, for a newcomer who opens the sandbox in a browser. */
export function renderHomePage(origin: string, data: SandboxData): string {
  const rows = data.accounts
    .map((a) => {
      const customer = data.customers.find((c) => c.id === a.customerId)!;
      return `<tr><td>${escapeHtml(customer.username)}</td><td>${a.profile}</td><td>${escapeHtml(customer.name)} (${customer.kind})</td><td>${escapeHtml(a.name)}</td><td><code>${a.iban}</code></td></tr>`;
    })
    .join('');
  const body = `<header><h1>Sandbox ASPSP — ConnectPay and Flowe</h1></header>
<p>Log in as <strong>${data.persons.map((p) => escapeHtml(p.username)).join('</strong> or <strong>')}</strong>, password <code>sandbox</code>, OTP <code>123456</code>.
Approve consents and payments in the <a href="/psu">PSU app</a>. Documentation: <code>docs/sandbox.md</code>.</p>
<h2>Endpoints</h2><table>
<tr><th>ConnectPay authorize</th><td><code>${escapeHtml(origin)}/connectpay/oauth/authorize</code></td></tr>
<tr><th>ConnectPay token</th><td><code>${escapeHtml(origin)}/connectpay/oauth/token</code></td></tr>
<tr><th>ConnectPay AIS / PIS</th><td><code>${escapeHtml(origin)}/connectpay/psd2/v1</code></td></tr>
<tr><th>Flowe authorize</th><td><code>${escapeHtml(origin)}/flowe/idp/oauth2/v2.0/authorize</code></td></tr>
<tr><th>Flowe token</th><td><code>${escapeHtml(origin)}/flowe/idp/oauth2/v2.0/token?p=B2C_1A_Psd2_SignIn</code></td></tr>
<tr><th>Flowe AIS</th><td><code>${escapeHtml(origin)}/flowe/openbankingais/v1</code></td></tr>
<tr><th>Flowe PIS</th><td><code>${escapeHtml(origin)}/flowe/openbankingpis/v1</code></td></tr>
</table>
<h2>Accounts</h2><table><tr><th>User</th><th>Bank</th><th>Customer</th><th>Account</th><th>IBAN</th></tr>${rows}</table>`;
  return htmlPage('Sandbox ASPSP', body);
}
