// @ts-check
/*
 * Step 3: accounts, balances and transactions under one consent. Each area says where its data
 * came from and when ("Read from Flowe at 10:42", "Showing data from 10:42; Flowe could not be
 * reached"), so stored data is never passed off as fresh.
 */

import { loadTransactions, openAccount, readFromBank, run } from '../actions.js';
import { $, h } from '../dom.js';
import { day, isDebit, moment, money } from '../format.js';
import { bankName, state as current } from '../store.js';
import { BALANCE_NAMES, BOOKING_STATUS, DATA_WARNING } from '../status-text.js';
import { actionButton, setBusy, showError, skeleton } from '../ui.js';

/**
 * @import { DataEnvelope } from '../api-types'
 * @import { Loadable, State, TransactionFilter } from '../store'
 */

export function mountAccounts() {
  $('#accounts-refresh').addEventListener('click', () => {
    const area = current.accounts;
    if (area) void run('read-from-bank', 'accounts', { bank: bankOfArea() }, readFromBank);
  });
  /** @type {HTMLFormElement} */
  const filter = $('#tx-filter');
  filter.addEventListener('submit', (e) => {
    e.preventDefault();
    const f = new FormData(filter);
    /** @type {TransactionFilter} */
    const query = {
      dateFrom: String(f.get('dateFrom') ?? '') || undefined,
      dateTo: String(f.get('dateTo') ?? '') || undefined,
      bookingStatus: /** @type {TransactionFilter['bookingStatus']} */ (String(f.get('bookingStatus') ?? 'both')),
    };
    void run('transactions', 'accounts', { bank: bankOfArea() }, () => loadTransactions(query));
  });
}

function bankOfArea() {
  const consentId = current.accounts?.consentId;
  return bankName((consentId && current.consents.get(consentId)?.aspspId) || '');
}

/**
 * Where the data on screen came from, and how old it is.
 * @param {Loadable<DataEnvelope>} loadable @param {string} bank
 */
export function dataLabel(loadable, bank) {
  const data = loadable.data;
  if (!data) return '';
  const when = moment(data.fetchedAt);
  if (loadable.failure) return `Showing data from ${when}; ${loadable.failure}.`;
  if (data.source === 'bank') return `Read from ${bank} at ${when}.`;
  if (data.warning) return `Showing data from ${when}; ${DATA_WARNING[data.warning.code](bank)}.`;
  return `Showing data from ${when}, when it was last read from ${bank}.`;
}

/**
 * A cell that names its column, so a row can stack into a card on a narrow screen.
 * @param {string} label @param {import('../dom.js').Child | import('../dom.js').Child[]} content @param {string} [cls]
 */
export function cell(label, content, cls) {
  return h('td', { 'data-label': label, class: cls }, h('div', { class: 'value' }, content));
}

/** @param {string[]} labels @param {HTMLTableRowElement[]} rows @param {string} [cls] */
export function table(labels, rows, cls) {
  return h(
    'table',
    { class: `responsive ${cls ?? ''}` },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        labels.map((l) => h('th', { class: l === 'Amount' ? 'amount' : undefined }, l)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/** @param {State} state */
export function renderAccounts(state) {
  const section = $('#accounts-card');
  const area = state.accounts;
  showError(section, state.errors.accounts);
  $('#accounts-empty').hidden = area !== undefined;
  $('#accounts-toolbar').hidden = !area?.list.data;
  $('#account-detail').hidden = !area?.open;
  if (!area) {
    $('#accounts').replaceChildren();
    /** @type {HTMLFormElement} */ ($('#tx-filter')).reset();
    return;
  }
  const bank = bankOfArea();
  const source = $('#accounts-source');
  source.textContent = dataLabel(area.list, bank);
  source.dataset.stale = area.list.failure ? 'true' : 'false';
  setBusy($('#accounts-refresh'), state.busy.has('read-from-bank'), `Reading from ${bank}…`);

  const accounts = area.list.data?.accounts;
  if (!accounts) {
    $('#accounts').replaceChildren(skeleton(2));
  } else if (accounts.length === 0) {
    $('#accounts').replaceChildren(h('p', { class: 'hint' }, 'No accounts.'));
  } else {
    const rows = accounts.map((a) => {
      const open = () => void run(`account:${a.id}`, 'accounts', { bank }, () => openAccount(a));
      return h(
        'tr',
        {
          class: `selectable${area.open?.account.id === a.id ? ' selected' : ''}`,
          'data-testid': 'account',
          'data-iban': a.iban ?? '',
          tabindex: 0,
          onclick: open,
          onkeydown: (e) => void (/** @type {KeyboardEvent} */ (e).key === 'Enter' && open()),
        },
        cell('Account', a.name ?? a.product ?? 'Account'),
        cell('IBAN', h('code', {}, a.iban ?? a.maskedPan ?? a.bban ?? '')),
        cell('Currency', a.currency),
        cell('Owner', a.ownerName ?? ''),
      );
    });
    $('#accounts').replaceChildren(table(['Account', 'IBAN', 'Currency', 'Owner'], rows));
  }
  if (area.open) renderDetail(area.open, bank, state);
}

/** @param {NonNullable<import('../store').AccountsArea['open']>} open @param {string} bank @param {State} state */
function renderDetail(open, bank, state) {
  $('#account-title').textContent = `${open.account.name ?? 'Account'} · ${open.account.iban ?? ''}`;

  const balances = open.balances.data?.balances;
  $('#balances').replaceChildren(
    ...(balances
      ? balances.map((b) =>
          h(
            'div',
            { class: 'balance', 'data-testid': 'balance' },
            h('div', { class: 'meta' }, BALANCE_NAMES[b.balanceType] ?? 'Balance'),
            h('div', { class: 'amount' }, money(b.balanceAmount)),
            b.referenceDate ? h('div', { class: 'meta' }, `on ${day(b.referenceDate)}`) : undefined,
          ),
        )
      : [skeleton(1)]),
  );
  const balancesSource = $('#balances-source');
  balancesSource.textContent = dataLabel(open.balances, bank);

  const tx = open.transactions;
  setBusy($('#tx-filter button[type=submit]'), state.busy.has('transactions'), 'Loading…');
  if (!tx.data && tx.rows.length === 0) {
    $('#transactions').replaceChildren(skeleton(4));
    return;
  }
  const rows = tx.rows.map((t) => {
    const debit = isDebit(t.transactionAmount);
    return h(
      'tr',
      { 'data-testid': 'transaction' },
      cell('Date', t.bookingDate ? day(t.bookingDate) : t.valueDate ? day(t.valueDate) : ''),
      cell(debit ? 'To' : 'From', (debit ? t.creditorName : t.debtorName) ?? ''),
      cell('Reference', t.remittanceInformationUnstructured ?? ''),
      cell('Status', BOOKING_STATUS[t.bookingStatus]),
      cell('Amount', money(t.transactionAmount), `amount ${debit ? 'debit' : 'credit'}`),
    );
  });
  const data = tx.data;
  const total = data ? data.total : tx.rows.length;
  const moreKey = 'more-transactions';
  $('#transactions').replaceChildren(
    rows.length === 0
      ? h('p', { class: 'hint' }, 'No transactions in this period.')
      : table(['Date', 'Counterparty', 'Reference', 'Status', 'Amount'], rows, 'transactions'),
    h(
      'div',
      { class: 'toolbar' },
      h(
        'span',
        { class: 'hint', 'data-testid': 'transactions-summary' },
        `${tx.rows.length} of ${total} transactions${data ? `, ${day(data.dateFrom)} to ${day(data.dateTo)}` : ''}`,
      ),
      total > tx.rows.length
        ? actionButton({
            key: moreKey,
            label: 'Show more',
            busyLabel: 'Loading…',
            kind: 'ghost',
            testid: 'more-transactions',
            onClick: () => void run(moreKey, 'accounts', { bank }, () => loadTransactions(tx.filter, { more: true })),
          })
        : undefined,
    ),
    h('p', { class: 'hint source', 'data-testid': 'transactions-source' }, dataLabel(tx, bank)),
  );
}
