// @ts-check
/* The frame around the views: which one is shown, who is signed in, the banner and the live-updates dot. */

import { signIn, signOut, run } from '../actions.js';
import { $, h } from '../dom.js';
import { setBusy, showError } from '../ui.js';

/** @import { State } from '../store' */

const LIVE_TEXT = { on: 'Live updates on', retrying: 'Reconnecting…', off: 'Live updates off' };

export function mountShell() {
  /** @type {HTMLFormElement} */
  const form = $('#login-form');
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    /** @type {HTMLInputElement} */
    const input = $('#login-user');
    void run('login', 'login', {}, () => signIn(input.value.trim()));
  });
  $('#logout').addEventListener('click', () => signOut());
}

/** @param {State} state */
export function renderShell(state) {
  $('#login-view').hidden = state.view !== 'login';
  $('#session').hidden = state.view !== 'app';
  $('#finishing').hidden = !(state.view === 'app' && state.finishing);
  $('#app-view').hidden = !(state.view === 'app' && !state.finishing);
  $('#user-id').textContent = state.user ?? '';

  const live = $('#live');
  live.dataset.state = state.live;
  live.textContent = LIVE_TEXT[state.live];

  const banner = $('#banner');
  banner.hidden = !state.banner;
  if (state.banner) {
    banner.dataset.kind = state.banner.kind;
    banner.textContent = state.banner.text;
    if (state.banner.code) banner.dataset.error = state.banner.code;
    else delete banner.dataset.error;
  }

  // Bank logins return to PUBLIC_URL: from another origin the binding cookie would not match.
  const warning = $('#origin-warning');
  const elsewhere = state.config.publicUrl !== '' && location.origin !== state.config.publicUrl;
  warning.hidden = !elsewhere;
  if (elsewhere)
    warning.replaceChildren(
      'Bank logins return to ',
      h('a', { href: `${state.config.publicUrl}/` }, state.config.publicUrl),
      ': open the demo there, or the login cannot be matched to this browser.',
    );

  for (const link of document.querySelectorAll('a.psu-link')) link.setAttribute('href', `${state.config.sandboxUrl}/psu`);

  setBusy($('#login-form button[type=submit]'), state.busy.has('login'), 'Signing in…');
  showError($('#login-form'), state.errors.login);
}
