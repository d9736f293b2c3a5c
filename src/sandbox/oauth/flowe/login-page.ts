import { FLOWE_SCOPES } from '../../config.js';
import { escapeHtml, htmlPage } from '../../html.js';

export interface FloweLoginView {
  readonly requestId: string;
  readonly scopes: readonly string[];
  readonly username?: string;
  readonly error?: string;
}

const LABELS: Record<string, string> = {
  [FLOWE_SCOPES.offlineAccess]: 'Stay connected (offline access, up to 90 days)',
  [FLOWE_SCOPES.userImpersonation]: 'Act on your behalf',
  [FLOWE_SCOPES.aisp]: 'Read your accounts (AISP)',
  [FLOWE_SCOPES.pisp]: 'Initiate payments (PISP)',
};

/** Flowe IdP sign-in (Azure B2C look-alike). Global consent: the PSU accepts everything or nothing. */
export function renderFloweLogin(view: FloweLoginView): string {
  const action = `/flowe/idp/login?request=${encodeURIComponent(view.requestId)}`;
  const body = `<header><h1>Flowe — sign in</h1></header>
${view.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(view.error)}</p>`}
<p>A third party asks to:</p><ul>${view.scopes.map((s) => `<li>${escapeHtml(LABELS[s] ?? s)}</li>`).join('')}</ul>
<form method="post" action="${escapeHtml(action)}">
<input type="hidden" name="request" value="${escapeHtml(view.requestId)}">
<label for="username">Username</label><input id="username" name="username" autocomplete="username" value="${escapeHtml(view.username ?? '')}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password">
<label for="otp">One-time code</label><input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code">
<button type="submit" name="decision" value="allow">Sign in and allow</button>
<button type="submit" name="decision" value="deny">Cancel</button>
</form>
<p class="hint">Sandbox: users alice / bob, password <code>sandbox</code>, OTP <code>123456</code>.</p>`;
  return htmlPage('Flowe sign-in', body, '#00b38f');
}
