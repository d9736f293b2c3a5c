// @ts-check
/*
 * Step 4: the payment form and the user's payments. Each payment's state is a sentence
 * ("Waiting for your approval in the bank app", "Sent", "Rejected by the bank: …"); a payment that
 * is still open can be checked or, after a confirmation, cancelled.
 */

import { cancelPayment, checkPayment, run, sendPayment } from '../actions.js';
import { $, h } from '../dom.js';
import { day, money } from '../format.js';
import { bankName, changed, state as current } from '../store.js';
import { isFinalPayment, paymentShown } from '../status-text.js';
import { actionButton, badge, confirmAction, setBusy, showError } from '../ui.js';
import { cell, table } from './accounts.js';

/**
 * @import { CreatePayment, Payment } from '../api-types'
 * @import { State } from '../store'
 */

/** @returns {HTMLFormElement} */
const form = () => $('#payment-form');

/** @param {string} name */
const field = (name) => /** @type {HTMLInputElement | HTMLSelectElement} */ (form().elements.namedItem(name));

export function mountPayments() {
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    const connectionId = field('connectionId').value;
    const remittance = field('remittance').value.trim();
    /** @type {CreatePayment} */
    const body = {
      debtorAccount: { iban: field('debtorIban').value.trim() },
      creditorAccount: { iban: field('creditorIban').value.trim() },
      creditorName: field('creditorName').value.trim(),
      instructedAmount: { currency: 'EUR', amount: field('amount').value.trim() },
      ...(remittance ? { remittanceInformationUnstructured: remittance } : {}),
    };
    const bank = bankName(current.connections.find((c) => c.id === connectionId)?.aspspId ?? '');
    void run('send-payment', 'payments', { bank, action: 'payment' }, () => sendPayment(connectionId, body));
  });
  field('connectionId').addEventListener('change', () => {
    current.payFrom = field('connectionId').value;
    changed();
  });
}

/** @param {State} state */
export function renderPayments(state) {
  if (state.view !== 'app') {
    // Signed out: what this user typed does not stay for the next one.
    form().reset();
    delete form().dataset.prefilled;
  }
  const payable = state.connections.filter((c) => c.status === 'active' && c.services.includes('pis'));
  const f = form();
  f.hidden = payable.length === 0;
  $('#payments-empty').hidden = payable.length > 0;

  const select = /** @type {HTMLSelectElement} */ (field('connectionId'));
  select.replaceChildren(...payable.map((c) => h('option', { value: c.id }, `${bankName(c.aspspId)}, connected on ${day(c.createdAt)}`)));
  // The user's choice, else the bank just connected, else the first.
  const preferred = [state.payFrom, state.highlight].find((id) => payable.some((c) => c.id === id));
  if (preferred) select.value = preferred;
  prefillDebtor(state, select.value);
  $('#known-ibans').replaceChildren(
    ...(state.accounts?.list.data?.accounts ?? []).filter((a) => a.iban).map((a) => h('option', { value: a.iban ?? '' }, a.name ?? '')),
  );
  $('#idempotency-key').textContent = state.paymentKey;
  setBusy($('#payment-form button[type=submit]'), state.busy.has('send-payment'), 'Sending…');
  showError(f, state.errors.payments);

  const rows = state.payments.map((p) => renderPayment(p, state));
  $('#payments').replaceChildren(
    rows.length === 0
      ? payable.length > 0
        ? h('p', { class: 'hint' }, 'No payments yet.')
        : ''
      : table(['Date', 'To', 'Amount', 'Status', ''], rows, 'payments'),
  );
}

/**
 * When the accounts of the chosen connection are known, offer the first one as the debtor. A value
 * the user typed is left alone; one this function filled in follows the chosen connection.
 * @param {State} state @param {string} connectionId
 */
function prefillDebtor(state, connectionId) {
  const input = /** @type {HTMLInputElement} */ (field('debtorIban'));
  const f = form();
  if (input.value !== '' && input.value !== f.dataset.prefilled) return;
  const area = state.accounts;
  const offer = area && state.consents.get(area.consentId)?.connectionId === connectionId ? (area.list.data?.accounts.find((a) => a.iban)?.iban ?? '') : '';
  input.value = offer;
  f.dataset.prefilled = offer;
}

/** @param {Payment} p @param {State} state */
function renderPayment(p, state) {
  const shown = paymentShown(p);
  const bank = bankName(p.aspspId);
  const open = !isFinalPayment(p.status);
  const waitingForYou = p.status === 'RCVD' && (p.scaStatus === undefined || p.scaStatus === 'received' || p.scaStatus === 'started');
  const checkKey = `check-payment:${p.id}`;
  const cancelKey = `cancel-payment:${p.id}`;
  return h(
    'tr',
    { 'data-testid': 'payment', 'data-id': p.id },
    cell('Date', day(p.createdAt)),
    cell('To', [p.creditorName, h('div', { class: 'meta' }, h('code', {}, p.creditorAccount.iban))]),
    cell('Amount', money(p.instructedAmount), 'amount'),
    cell('Status', [
      badge(p.status, shown),
      shown.detail ? h('div', { class: 'meta' }, shown.detail) : undefined,
      // The bank app shows the bank's reference: it tells the user which request to approve.
      p.bankPaymentId ? h('div', { class: 'meta' }, `${bank} reference `, h('span', { 'data-testid': 'bank-reference' }, p.bankPaymentId)) : undefined,
    ]),
    cell(
      '',
      open
        ? [
            waitingForYou
              ? h(
                  'a',
                  { class: 'button', href: `${state.config.sandboxUrl}/psu`, target: '_blank', rel: 'noopener', 'data-testid': 'approve-link' },
                  'Approve in your bank app ↗',
                )
              : undefined,
            actionButton({
              key: checkKey,
              label: 'Check now',
              busyLabel: `Asking ${bank}…`,
              kind: 'ghost',
              testid: 'check-payment',
              onClick: () => void run(checkKey, 'payments', { bank }, () => checkPayment(p)),
            }),
            actionButton({
              key: cancelKey,
              label: 'Cancel payment',
              busyLabel: 'Cancelling…',
              kind: 'danger',
              testid: 'cancel-payment',
              onClick: () =>
                void confirmAction({
                  title: 'Cancel this payment?',
                  body: `${money(p.instructedAmount)} to ${p.creditorName} will not be sent, if ${bank} has not sent it yet.`,
                  confirm: 'Cancel payment',
                  cancel: 'Keep the payment',
                }).then((sure) => (sure ? run(cancelKey, 'payments', { bank }, () => cancelPayment(p)) : undefined)),
            }),
          ]
        : undefined,
      'row-actions',
    ),
  );
}
