import { escapeHtml, htmlPage } from '../../html.js';
import type { SandboxCustomer } from '../../data/personas.js';

export interface ConnectPayLoginView {
  readonly requestId: string;
  readonly scopes: readonly string[];
  /** The signed-in (or hinted) person's customers; undefined when the person is not known yet. */
  readonly customers?: readonly SandboxCustomer[];
  /** Every demo customer, offered when the person is not known yet. */
  readonly allCustomers: readonly SandboxCustomer[];
  readonly username?: string;
  readonly error?: string;
}

const SCOPE_LABELS: Record<string, string> = {
  'psd2-ais': 'Account information (psd2-ais)',
  'psd2-pis': 'Payment initiation (psd2-pis)',
};

/**
 * The "Auth Web App": username, password and OTP (SCA), the Customer to act for and one checkbox per
 * requested scope. The hidden `scope_choice` tells the server the checkboxes were shown, so a POST without
 * any `scope` means "every scope unticked".
 */
export function renderConnectPayLogin(view: ConnectPayLoginView): string {
  const action = `/connectpay/auth/login?request=${encodeURIComponent(view.requestId)}`;
  const customerOptions =
    view.customers !== undefined
      ? view.customers.map((c, i) => `<option value="${escapeHtml(c.id)}"${i === 0 ? ' selected' : ''}>${escapeHtml(c.name)} (${c.kind})</option>`).join('')
      : `<option value="" selected>First customer of the signed-in person</option>` +
        groupByPerson(view.allCustomers)
          .map(
            ([username, customers]) =>
              `<optgroup label="${escapeHtml(username)}">${customers.map((c) => `<option value="${escapeHtml(c.id)}">${escapeHtml(c.name)} (${c.kind})</option>`).join('')}</optgroup>`,
          )
          .join('');
  const scopes = view.scopes
    .map((s) => `<label><input type="checkbox" name="scope" value="${escapeHtml(s)}" checked> ${escapeHtml(SCOPE_LABELS[s] ?? s)}</label>`)
    .join('');
  const body = `<header><h1>ConnectPay — authorise a third party</h1></header>
${view.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(view.error)}</p>`}
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="request" value="${escapeHtml(view.requestId)}">
<input type="hidden" name="scope_choice" value="1">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" value="${escapeHtml(view.username ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<label for="otp">SMS code (OTP)</label><input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">
<label for="customer">Act for customer</label><select id="customer" name="customer">${customerOptions}</select>
<fieldset><legend>Permissions requested</legend>${scopes}</fieldset>
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
<p class="hint">Sandbox: users alice / bob, password <code>sandbox</code>, OTP <code>123456</code>.</p>`;
  return htmlPage('ConnectPay sign-in', body, '#0a6cff');
}

function groupByPerson(customers: readonly SandboxCustomer[]): [string, SandboxCustomer[]][] {
  const groups = new Map<string, SandboxCustomer[]>();
  for (const c of customers) groups.set(c.username, [...(groups.get(c.username) ?? []), c]);
  return [...groups];
}
