/** What the confirmation page shows and submits. */
export interface ConfirmPage {
  aspspId: string;
  bankName: string;
  /** The TPP user the bank will be attached to, as their identity provider names them. */
  userLabel: string;
  /** The one-time token the form carries (bound to this browser by its start cookie). */
  confirmation: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

/**
 * The page `/auth/{aspspId}/login` shows a browser that did not create the connection (a native
 * app's system browser, or someone the link was sent to). It names the TPP user the bank will be
 * attached to and asks for a click that only this page can supply: its form carries a one-time
 * token bound to this browser's start cookie, so a forged link or a cross-site form cannot. The
 * page is never framed (X-Frame-Options DENY, frame-ancestors 'none': see configure-app.ts) and
 * runs no script; every value in it is escaped.
 */
export function confirmPage(page: ConfirmPage): string {
  const bank = escapeHtml(page.bankName);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Connect ${bank}?</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #1d2433; }
  main { max-width: 30rem; margin: 3rem auto; padding: 1.5rem; background: #fff; border-radius: 8px; box-shadow: 0 1px 3px rgba(0,0,0,.15); }
  h1 { font-size: 1.4rem; margin-top: 0; }
  .who { font-size: 1.2rem; font-weight: 600; padding: .5rem .75rem; background: #eef2ff; border-radius: 6px; overflow-wrap: anywhere; }
  .warn { color: #7a4b00; }
  .actions { display: flex; gap: .75rem; flex-wrap: wrap; margin-top: 1.5rem; }
  button { font: inherit; padding: .6rem 1.2rem; border-radius: 6px; border: 1px solid #3451b2; cursor: pointer; }
  button[value=continue] { background: #3451b2; color: #fff; }
  button[value=cancel] { background: #fff; color: #3451b2; }
  @media (max-width: 480px) { main { margin: 0; border-radius: 0; box-shadow: none; } }
</style>
</head>
<body>
<main>
<h1>Connect ${bank} to this account?</h1>
<p>You are about to log in at ${bank} and give this app access to your bank account for the app user:</p>
<p class="who" data-testid="user-label">${escapeHtml(page.userLabel)}</p>
<p class="warn">Continue only if this is you and you asked to connect ${bank} just now. If someone sent you this link, cancel: they would see your bank data.</p>
<form method="post" action="/auth/${encodeURIComponent(page.aspspId)}/login">
<input type="hidden" name="confirmation" value="${escapeHtml(page.confirmation)}">
<div class="actions">
<button type="submit" name="decision" value="continue">Continue to ${bank}</button>
<button type="submit" name="decision" value="cancel">Cancel</button>
</div>
</form>
</main>
</body>
</html>
`;
}
