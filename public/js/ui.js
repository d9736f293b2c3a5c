// @ts-check
/* Pieces every view uses: status badges, buttons that show a spinner while busy, error boxes, skeletons, confirmations. */

import { $, h } from './dom.js';
import { state } from './store.js';

/**
 * @import { Shown } from './status-text'
 * @import { ErrorText } from './problem-text'
 */

/**
 * A status in words. `data-status` keeps the API's value for tests and tooling; people read the text.
 * @param {string} status the API's value
 * @param {Shown} shown
 */
export function badge(status, shown) {
  return h('span', { class: 'badge', 'data-testid': 'status', 'data-status': status, dataset: { tone: shown.tone } }, shown.text);
}

/** @param {string} [label] */
export function spinner(label) {
  return h('span', { class: 'spinner', role: label ? 'status' : undefined, 'aria-label': label, 'aria-hidden': label ? undefined : 'true' });
}

/**
 * A button bound to an action key: while `state.busy` has the key it is disabled, shows a spinner
 * and says what it is doing (`busyLabel`).
 * @param {{ key: string, label: string, busyLabel: string, onClick: () => void, kind?: 'primary' | 'ghost' | 'danger', testid?: string }} spec
 */
export function actionButton({ key, label, busyLabel, onClick, kind, testid }) {
  const busy = state.busy.has(key);
  const button = h(
    'button',
    {
      type: 'button',
      class: kind === 'danger' ? 'ghost danger' : (kind ?? ''),
      'data-key': key,
      'data-testid': testid,
      'aria-busy': busy ? 'true' : undefined,
      disabled: busy,
      onclick: () => onClick(),
    },
    busy ? spinner() : undefined,
    busy ? busyLabel : label,
  );
  return button;
}

/**
 * Sets a static button (one in index.html) busy or not, keeping its label in `data-label`.
 * @param {HTMLButtonElement} button @param {boolean} busy @param {string} busyLabel
 */
export function setBusy(button, busy, busyLabel) {
  button.dataset.label ??= button.textContent ?? '';
  button.disabled = busy;
  if (busy) {
    button.setAttribute('aria-busy', 'true');
    button.replaceChildren(spinner(), busyLabel);
  } else {
    button.removeAttribute('aria-busy');
    button.replaceChildren(button.dataset.label);
  }
}

/**
 * Shows an error sentence (and each field the API named) in a section's `.form-error` box, and
 * marks the inputs whose `data-field` is one of them.
 * @param {Element} section @param {ErrorText | undefined} error
 */
export function showError(section, error) {
  const box = $('.form-error', section);
  for (const input of section.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  if (!error) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.replaceChildren(error.text);
  if (error.fields.length > 0) {
    box.append(
      h(
        'ul',
        {},
        error.fields.map((f) => {
          const input = section.querySelector(`[data-field="${CSS.escape(f.field)}"]`);
          input?.setAttribute('aria-invalid', 'true');
          return h('li', { 'data-field': f.field }, h('strong', {}, fieldLabel(input) ?? f.field), ': ', f.message);
        }),
      ),
    );
  }
  box.hidden = false;
}

/** The visible label of a form field, e.g. "Amount (EUR)". @param {Element | null} input */
function fieldLabel(input) {
  const label = input?.closest('label');
  return label ? (label.firstChild?.textContent ?? '').trim() || undefined : undefined;
}

/** Grey placeholder lines while the first answer is on its way. @param {number} lines */
export function skeleton(lines) {
  return h(
    'div',
    { class: 'skeleton', 'data-testid': 'loading', 'aria-busy': 'true', 'aria-label': 'Loading' },
    Array.from({ length: lines }, () => h('div', { class: 'skeleton-line' })),
  );
}

/**
 * Asks before an action that cannot be undone. Resolves true when the user confirms.
 * @param {{ title: string, body: string, confirm: string, cancel: string }} text
 * @returns {Promise<boolean>}
 */
export function confirmAction(text) {
  /** @type {HTMLDialogElement} */
  const dialog = $('#confirm');
  if (dialog.open) return Promise.resolve(false); // one question at a time
  $('#confirm-title').textContent = text.title;
  $('#confirm-body').textContent = text.body;
  $('#confirm-yes').textContent = text.confirm;
  $('#confirm-no').textContent = text.cancel;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }));
}
