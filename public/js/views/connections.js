// @ts-check
/*
 * Step 2: the user's bank connections and, inside each, its account access (consents). What a
 * connection offers is a list of actions decided from its status, so a new one (log in again,
 * renew access) is one more entry.
 */

import { askForAccess, checkConsent, disconnect, endAccess, logInAgain, run, showAccounts } from '../actions.js';
import { $, h } from '../dom.js';
import { day } from '../format.js';
import { bankName, changed, state as current } from '../store.js';
import { connectionShown, consentShown } from '../status-text.js';
import { actionButton, badge, confirmAction, showError, skeleton } from '../ui.js';

/**
 * @import { Connection, Consent } from '../api-types'
 * @import { State } from '../store'
 * @typedef {{ key: string, label: string, busyLabel: string, kind?: 'primary' | 'ghost' | 'danger', testid: string, run: () => Promise<void> | void }} Action
 */

/** @param {Consent} k */
const isOpen = (k) => k.status === 'received' || k.status === 'valid' || k.status === 'unknown';

/**
 * @param {Connection} c
 * @param {Consent[]} consents this connection's
 * @param {State} state
 * @returns {Action[]}
 */
function connectionActions(c, consents, state) {
  const bank = bankName(c.aspspId);
  /** @type {Action[]} */
  const actions = [];
  // A login that ended, or ends soon: the same connection, its access and data stay.
  if (c.status === 'reauth_required' || (c.status === 'active' && c.expiresSoon)) {
    actions.push({
      key: `relogin:${c.id}`,
      label: 'Log in again',
      busyLabel: `Opening ${bank}…`,
      kind: c.status === 'reauth_required' ? 'primary' : undefined,
      testid: 'log-in-again',
      run: () => run(`relogin:${c.id}`, 'connections', { bank }, () => logInAgain(c)),
    });
  }
  if (c.status === 'active' && c.services.includes('ais') && !consents.some(isOpen)) {
    actions.push({
      key: `consent:${c.id}`,
      label: 'Ask for account access',
      busyLabel: `Asking ${bank}…`,
      kind: 'primary',
      testid: 'create-consent',
      run: () => run(`consent:${c.id}`, 'connections', { bank }, () => askForAccess(c)),
    });
  }
  if (c.status === 'active' && c.services.includes('pis')) {
    actions.push({
      key: `pay:${c.id}`,
      label: 'Make a payment',
      busyLabel: 'Make a payment',
      testid: 'pay-from',
      run: () => {
        state.payFrom = c.id;
        changed();
        $('#payments-card').scrollIntoView({ block: 'start' });
        $('#payment-form [name=creditorName]').focus();
      },
    });
  }
  const connected = c.status === 'active' || c.status === 'reauth_required';
  actions.push({
    key: `disconnect:${c.id}`,
    label: connected ? 'Disconnect' : 'Remove',
    busyLabel: connected ? 'Disconnecting…' : 'Removing…',
    kind: 'danger',
    testid: 'disconnect',
    run: async () => {
      const sure =
        !connected ||
        (await confirmAction({
          title: `Disconnect ${bank}?`,
          body: `This app will no longer see your ${bank} accounts or make payments from them, and its account access ends at ${bank}. You can connect again later.`,
          confirm: 'Disconnect',
          cancel: 'Stay connected',
        }));
      if (sure) await run(`disconnect:${c.id}`, 'connections', { bank }, () => disconnect(c));
    },
  });
  return actions;
}

/**
 * @param {Consent} k
 * @param {State} state
 * @returns {Action[]}
 */
function consentActions(k, state) {
  const bank = bankName(k.aspspId);
  /** @type {Action[]} */
  const actions = [];
  const connection = state.connections.find((c) => c.id === k.connectionId);
  // Near its last day a consent is renewed by asking for a new one (the PSU approves it in the bank app).
  const newer = [...state.consents.values()].some(
    (o) => o.connectionId === k.connectionId && o.id !== k.id && o.createdAt > k.createdAt && (o.status === 'received' || o.status === 'valid'),
  );
  if (k.status === 'valid' && k.expiresSoon && connection?.status === 'active' && !newer) {
    actions.push({
      key: `renew:${k.id}`,
      label: 'Renew access',
      busyLabel: `Asking ${bank}…`,
      kind: 'primary',
      testid: 'renew-access',
      run: () => run(`renew:${k.id}`, 'connections', { bank }, () => askForAccess(connection)),
    });
  }
  if (k.status === 'valid') {
    actions.push({
      key: `accounts:${k.id}`,
      label: 'Show accounts',
      busyLabel: 'Loading accounts…',
      kind: 'primary',
      testid: 'show-accounts',
      run: async () => {
        await run(`accounts:${k.id}`, 'connections', { bank }, () => showAccounts(k));
        if (current.accounts?.consentId === k.id) $('#accounts-card').scrollIntoView({ block: 'start' });
      },
    });
  }
  if (k.status === 'received') {
    actions.push({
      key: `check:${k.id}`,
      label: 'Check now',
      busyLabel: `Asking ${bank}…`,
      kind: 'ghost',
      testid: 'check-consent',
      run: () => run(`check:${k.id}`, 'connections', { bank }, () => checkConsent(k)),
    });
  }
  if (isOpen(k)) {
    actions.push({
      key: `end:${k.id}`,
      label: 'End access',
      busyLabel: 'Ending access…',
      kind: 'danger',
      testid: 'end-access',
      run: async () => {
        const sure = await confirmAction({
          title: `End account access at ${bank}?`,
          body: `This app will stop reading your ${bank} accounts. To see them again you will have to approve a new request in your bank app.`,
          confirm: 'End access',
          cancel: 'Keep access',
        });
        if (sure) await run(`end:${k.id}`, 'connections', { bank }, () => endAccess(k));
      },
    });
  }
  return actions;
}

/** @param {Action} a */
function button(a) {
  return actionButton({ key: a.key, label: a.label, busyLabel: a.busyLabel, kind: a.kind, testid: a.testid, onClick: () => void a.run() });
}

/** @param {State} state */
export function renderConnections(state) {
  const section = $('#connections-card');
  const list = $('#connections');
  showError(section, state.errors.connections);
  if (!state.loaded) {
    list.replaceChildren(skeleton(3));
    return;
  }
  const visible = state.connections.filter((c) => c.status !== 'revoked');
  list.replaceChildren(...(visible.length === 0 ? [h('p', { class: 'hint' }, 'No bank connected yet.')] : visible.map((c) => renderConnection(c, state))));
}

/** @param {Connection} c @param {State} state */
function renderConnection(c, state) {
  const consents = [...state.consents.values()].filter((k) => k.connectionId === c.id).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  // The newest consent, and any other still open; ended ones stay until a newer one replaces them.
  const shownConsents = consents.filter((k, i) => i === 0 || isOpen(k));
  const shown = connectionShown(c);
  const connected = c.status === 'active' || c.status === 'reauth_required';
  const details = [
    c.services.map((s) => (s === 'ais' ? 'accounts' : 'payments')).join(' and '),
    `${connected ? 'connected' : 'started'} on ${day(c.createdAt)}`,
  ];
  if (c.reauthBy && c.status === 'active') details.push(`log in again by ${day(c.reauthBy)}`);
  if (c.status === 'reauth_required') details.push('your account access and data are kept: log in to the bank to go on');
  return h(
    'div',
    { class: `connection${state.highlight === c.id ? ' highlight' : ''}`, 'data-testid': 'connection', 'data-id': c.id, 'data-aspsp': c.aspspId },
    h(
      'div',
      { class: 'row' },
      h(
        'div',
        { class: 'grow' },
        h('div', { class: 'title' }, bankName(c.aspspId)),
        h('div', { class: 'meta' }, details.join(' · ')),
        shown.detail ? h('div', { class: 'reason' }, shown.detail) : undefined,
      ),
      badge(c.status, shown),
      h('div', { class: 'actions' }, connectionActions(c, consents, state).map(button)),
    ),
    shownConsents.length > 0
      ? h(
          'div',
          { class: 'consents' },
          shownConsents.map((k) => renderConsent(k, state)),
        )
      : undefined,
  );
}

/** @param {Consent} k @param {State} state */
function renderConsent(k, state) {
  const shown = consentShown(k);
  const meta = isOpen(k) ? [`until ${day(k.validUntil)}`, `${k.frequencyPerDay} background ${k.frequencyPerDay === 1 ? 'read' : 'reads'} a day`] : [];
  if (k.reconsentRequired) meta.push('ask for access again to see your accounts');
  if (k.status === 'valid' && k.expiresSoon) meta.push('ends soon: renew it to keep seeing your accounts');
  return h(
    'div',
    { class: 'row', 'data-testid': 'consent', 'data-id': k.id },
    h('div', { class: 'grow' }, h('div', {}, 'Account access'), meta.length > 0 ? h('div', { class: 'meta' }, meta.join(' · ')) : undefined),
    badge(k.status, shown),
    h(
      'div',
      { class: 'actions' },
      k.status === 'received'
        ? h(
            'a',
            { class: 'button', href: `${state.config.sandboxUrl}/psu`, target: '_blank', rel: 'noopener', 'data-testid': 'approve-link' },
            'Approve in your bank app ↗',
          )
        : undefined,
      consentActions(k, state).map(button),
    ),
  );
}
