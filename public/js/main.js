// @ts-check
/*
 * The demo TPP frontend, and the reference client of the BFF's public API. It uses nothing else:
 * POST /api/v1/sandbox/login for a user token, then /api/v1 with `Authorization: Bearer`.
 * ES modules, no build step, no inline code (the CSP is script-src 'self').
 *
 * Rules a real frontend should copy from here:
 * - the bank login is a full-window navigation to `authorizationUrl` (never an iframe or a popup);
 * - the outcome comes back as `?connectionId&result=success|error&error=<code>` on the return URL;
 * - payments carry an Idempotency-Key that is reused when the same submission is retried;
 * - live status comes from GET /api/v1/events, read with fetch (EventSource cannot send headers);
 * - everything rendered from the API becomes text nodes, never parsed as HTML;
 * - statuses and errors are shown in words, from the API's enums and error codes.
 */

import { enterApp, readLoginOutcome } from './actions.js';
import * as api from './api.js';
import { $ } from './dom.js';
import * as session from './session.js';
import { changed, onChange, state } from './store.js';
import { renderAccounts, mountAccounts } from './views/accounts.js';
import { renderBanks } from './views/banks.js';
import { renderConnections } from './views/connections.js';
import { renderEvents } from './views/events.js';
import { mountPayments, renderPayments } from './views/payments.js';
import { mountShell, renderShell } from './views/shell.js';

const VIEWS = [renderShell, renderBanks, renderConnections, renderAccounts, renderPayments, renderEvents];

/**
 * The action key of the button the user was last on. Lists are rebuilt from the state (and a busy
 * button is replaced by a disabled one), so after a render that button is focused again by its
 * key instead of the focus falling back to the page. Focusing or clicking anything else forgets it.
 */
let focusedKey = /** @type {string | undefined} */ (undefined);

/** @param {import('./store').State} s */
function renderAll(s) {
  for (const render of VIEWS) render(s);
  if (focusedKey && (document.activeElement === null || document.activeElement === document.body)) {
    const again = document.querySelector(`[data-key="${CSS.escape(focusedKey)}"]`);
    if (again instanceof HTMLButtonElement && !again.disabled) again.focus({ preventScroll: true });
  }
}

async function start() {
  mountShell();
  mountAccounts();
  mountPayments();
  onChange(renderAll);
  document.addEventListener('focusin', (e) => {
    focusedKey = e.target instanceof HTMLElement ? e.target.dataset.key : undefined;
  });
  document.addEventListener('pointerdown', (e) => {
    if (!(e.target instanceof Element && e.target.closest('[data-key]'))) focusedKey = undefined;
  });

  // Back from the bank with the browser's Back button: a page restored from the cache would show
  // its old "Opening the bank…" spinner. Load it afresh instead.
  addEventListener('pageshow', (e) => {
    if (e.persisted) location.reload();
  });

  state.config = await api.demoConfig();
  readLoginOutcome();
  if (session.token()) {
    void enterApp();
  } else {
    // A bank login that came back to a tab with no session (another browser, an expired one):
    // there is no connection of this tab's to finish.
    state.finishing = false;
    state.view = 'login';
  }
  changed();
  // Rendered once (login form, or the app with its placeholders): tests may start from here.
  await new Promise((resolve) => requestAnimationFrame(resolve));
  if (state.view === 'login') $('#login-user').focus();
  document.body.dataset.ready = 'true';
}

void start();
