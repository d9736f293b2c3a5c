/*
 * The demo TPP frontend, and the reference client of the BFF's public API (DESIGN.md section 5).
 * It uses nothing else: POST /api/v1/sandbox/login for a user token (kept in sessionStorage), then
 * /api/v1 with `Authorization: Bearer`. Plain JS, no build step, no inline code (CSP script-src 'self').
 *
 * Rules a real frontend should copy from here:
 * - the bank login is a full-window navigation to `authorizationUrl` (never an iframe or a popup);
 * - the outcome comes back as `?connectionId&result=success|error&error=<code>` on the return URL;
 * - payments carry an Idempotency-Key that is reused when the same submission is retried;
 * - live status comes from GET /api/v1/events, read with fetch (EventSource cannot send headers);
 * - everything rendered from the API becomes text nodes, never parsed as HTML.
 */

const TOKEN_KEY = 'tpp-demo.token';
const USER_KEY = 'tpp-demo.user';

const LOGIN_ERRORS = {
  access_denied: 'You cancelled at the bank, or did not grant access.',
  invalid_state: 'The bank login could not be matched to this browser. Start again from this page.',
  expired_state: 'The bank login took too long. Please try again.',
  expired_ticket: 'The login link expired before you used it. Please try again.',
  missing_code: 'The bank did not send an authorization code back.',
  exchange_failed: 'The bank did not accept the login (token exchange failed).',
  bank_error: 'The bank reported an error.',
};

const CONSENT_TITLES = {
  received: 'Account access: waiting for your approval in the bank app',
  valid: 'Account access granted',
  rejected: 'Account access refused in the bank app',
  revokedByPsu: 'Account access withdrawn in the bank app',
  expired: 'Account access expired',
  terminatedByTpp: 'Account access ended',
};

/** Berlin Group balance types, as a person would say them. */
const BALANCE_NAMES = {
  closingBooked: 'Booked balance',
  interimBooked: 'Booked so far today',
  interimAvailable: 'Available now',
  openingBooked: 'Opening balance',
  expected: 'Expected (incl. pending)',
  forwardAvailable: 'Available later',
};

const FINAL_PAYMENT = new Set(['ACSC', 'ACCC', 'RJCT', 'CANC']);
const TONES = {
  active: 'ok', valid: 'ok', ACSC: 'ok', ACCC: 'ok',
  pending: 'warn', received: 'warn', RCVD: 'warn', PDNG: 'warn', unknown: 'warn',
  ACSP: 'info', ACTC: 'info', ACWC: 'info', reauth_required: 'warn',
  failed: 'bad', rejected: 'bad', revoked: 'bad', revokedByPsu: 'bad', expired: 'bad', terminatedByTpp: 'bad', RJCT: 'bad', CANC: 'bad',
};

const state = {
  config: { sandboxUrl: '', publicUrl: '' },
  aspsps: [],
  connections: [],
  /** @type {Map<string, any>} consentId → consent view */
  consents: new Map(),
  accounts: [],
  accountsConsentId: undefined,
  selectedAccountId: undefined,
  payments: [],
  paymentKey: newIdempotencyKey(),
  highlight: undefined,
  events: undefined,
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (selector, root = document) => root.querySelector(selector);

/** Builds an element; children are nodes or text (text is never parsed as HTML). */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function badge(status) {
  return h('span', { class: 'badge', 'data-testid': 'status', dataset: { tone: TONES[status] ?? 'neutral' } }, status ?? '—');
}

function money(amount) {
  if (!amount || typeof amount.amount !== 'string') return '—';
  return `${amount.amount} ${amount.currency ?? ''}`.trim();
}

function shortDate(iso) {
  return typeof iso === 'string' ? iso.slice(0, 10) : '';
}

function psuAppUrl() {
  return `${state.config.sandboxUrl}/psu`;
}

function showBanner(kind, text) {
  const banner = $('#banner');
  banner.dataset.kind = kind;
  banner.textContent = text;
  banner.hidden = false;
}

/** Shows an API problem (title, detail and each bad field) in a section's error box. */
function showError(where, error) {
  const box = where.querySelector('.form-error');
  box.replaceChildren();
  for (const input of where.querySelectorAll('[aria-invalid]')) input.removeAttribute('aria-invalid');
  if (!error) {
    box.hidden = true;
    return;
  }
  const problem = error.problem;
  const fieldErrors = Array.isArray(problem?.errors) ? problem.errors : [];
  if (fieldErrors.length > 0) {
    // Each bad field is named by the API (e.g. `instructedAmount.amount`): list them and mark the inputs.
    box.append(problem.title, h('ul', {}, fieldErrors.map((e) => h('li', {}, h('code', {}, e.field), ' ', e.message))));
    for (const e of fieldErrors) where.querySelector(`[data-field="${CSS.escape(e.field)}"]`)?.setAttribute('aria-invalid', 'true');
  } else {
    box.append(problem?.title ? `${problem.title}${problem.detail ? `: ${problem.detail}` : ''}` : error.message);
  }
  box.hidden = false;
}

/** Disables a button while its action runs and reports a failure next to it. */
async function busy(button, section, action) {
  button.disabled = true;
  showError(section, undefined);
  try {
    await action();
  } catch (error) {
    if (!(error instanceof SessionEnded)) showError(section, error);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.title ? `${problem.title}${problem.detail ? `: ${problem.detail}` : ''}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}
class SessionEnded extends Error {}

async function api(method, path, { body, headers = {} } = {}) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const res = await fetch(path, {
    method,
    headers: {
      Accept: 'application/json',
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
  });
  const text = await res.text();
  let data;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (res.status === 401 && token) {
    logout('Your session ended: please sign in again.');
    throw new SessionEnded();
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/** Lists come as `{items: [...]}` objects; tolerate a bare array too. */
function listOf(body, key) {
  if (Array.isArray(body)) return body;
  return Array.isArray(body?.[key]) ? body[key] : [];
}

// ---------------------------------------------------------------------------------------------
// Session

async function login(userId) {
  const res = await fetch('/api/v1/sandbox/login', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ userId }),
  });
  const data = await res.json().catch(() => undefined);
  if (!res.ok) throw new ApiError(res.status, data);
  sessionStorage.setItem(TOKEN_KEY, data.token);
  sessionStorage.setItem(USER_KEY, userId);
}

function logout(message) {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(USER_KEY);
  state.events?.abort();
  state.events = undefined;
  Object.assign(state, { connections: [], consents: new Map(), accounts: [], accountsConsentId: undefined, payments: [] });
  // Another user may sign in next in this tab: nothing of this one's data stays on screen.
  $('#accounts').replaceChildren();
  $('#accounts-empty').hidden = false;
  $('#accounts-toolbar').hidden = true;
  $('#account-detail').hidden = true;
  $('#payments').replaceChildren();
  $('#events').replaceChildren(h('li', { class: 'empty' }, 'Nothing yet.'));
  setLive('off');
  if (message) showBanner('error', message);
  else $('#banner').hidden = true;
  showLogin();
}

function showLogin() {
  $('#session').hidden = true;
  $('#app-view').hidden = true;
  $('#login-view').hidden = false;
  $('#login-user').focus();
}

async function showApp() {
  $('#login-view').hidden = true;
  $('#app-view').hidden = false;
  $('#session').hidden = false;
  $('#user-id').textContent = sessionStorage.getItem(USER_KEY) ?? '';
  if (state.config.publicUrl && location.origin !== state.config.publicUrl) {
    const warning = $('#origin-warning');
    warning.replaceChildren('Bank logins return to ', h('a', { href: `${state.config.publicUrl}/` }, state.config.publicUrl), ': open the demo there, or the login cannot be matched to this browser.');
    warning.hidden = false;
  }
  startEvents();
  await loadBanks();
  await Promise.all([loadConnections(), loadConsents(), loadPayments()]);
}

// ---------------------------------------------------------------------------------------------
// Banks and connections

async function loadBanks() {
  const section = $('#banks-card');
  try {
    state.aspsps = listOf(await api('GET', '/api/v1/aspsps'), 'aspsps');
  } catch (error) {
    if (!(error instanceof SessionEnded)) showError(section, error);
    return;
  }
  $('#banks').replaceChildren(
    ...state.aspsps.map((bank) => {
      const services = bank.services.map((s) => h('label', {}, h('input', { type: 'checkbox', name: 'service', value: s, checked: true }), s === 'ais' ? 'Accounts' : 'Payments'));
      const connect = h('button', { type: 'button', class: 'primary', 'data-testid': 'connect' }, `Connect ${bank.name}`);
      const card = h('div', { class: 'bank', 'data-testid': 'bank', 'data-aspsp': bank.id }, h('div', { class: 'bank-name' }, bank.name), h('div', { class: 'services' }, services), connect);
      connect.addEventListener('click', () => busy(connect, section, () => connectBank(bank, card)));
      return card;
    }),
  );
}

/** Creates the connection, then leaves this page: the bank login is a top-level navigation. */
async function connectBank(bank, card) {
  const services = [...card.querySelectorAll('input[name=service]:checked')].map((i) => i.value);
  const created = await api('POST', '/api/v1/connections', {
    body: { aspspId: bank.id, returnUrl: `${location.origin}/`, ...(services.length > 0 ? { services } : {}) },
  });
  // location.assign, not an iframe or a popup: the PSU must see the bank's own address bar.
  location.assign(new URL(created.authorizationUrl, location.origin).toString());
}

async function loadConnections() {
  try {
    state.connections = listOf(await api('GET', '/api/v1/connections'), 'connections');
  } catch (error) {
    if (!(error instanceof SessionEnded)) showError($('#connections-card'), error);
    return;
  }
  renderConnections();
  renderPaymentForm();
  renderPayments();
}

function bankName(aspspId) {
  return state.aspsps.find((a) => a.id === aspspId)?.name ?? aspspId;
}

function renderConnections() {
  const list = $('#connections');
  const visible = state.connections.filter((c) => c.status !== 'revoked');
  if (visible.length === 0) {
    list.replaceChildren(h('p', { class: 'hint' }, 'No bank connected yet.'));
    return;
  }
  list.replaceChildren(...visible.map(renderConnection));
}

function renderConnection(c) {
  const section = $('#connections-card');
  const actions = h('div', { class: 'actions' });
  const consentsOfThis = [...state.consents.values()].filter((k) => k.connectionId === c.id);
  const hasOpenConsent = consentsOfThis.some((k) => k.status === 'received' || k.status === 'valid');
  if (c.status === 'active' && c.services.includes('ais') && !hasOpenConsent) {
    const ask = h('button', { type: 'button', class: 'primary', 'data-testid': 'create-consent' }, 'Ask for account access');
    ask.addEventListener('click', () => busy(ask, section, () => createConsent(c)));
    actions.append(ask);
  }
  if (c.status === 'active' && c.services.includes('pis')) {
    const pay = h('button', { type: 'button', 'data-testid': 'pay-from' }, 'Make a payment');
    pay.addEventListener('click', () => {
      $('#payment-form [name=connectionId]').value = c.id;
      prefillDebtor();
      $('#payments-card').scrollIntoView({ behavior: 'smooth' });
      $('#payment-form [name=creditorName]').focus();
    });
    actions.append(pay);
  }
  const remove = h('button', { type: 'button', class: 'ghost danger', 'data-testid': 'disconnect' }, c.status === 'active' || c.status === 'reauth_required' ? 'Disconnect' : 'Remove');
  remove.addEventListener('click', () =>
    busy(remove, section, async () => {
      await api('DELETE', `/api/v1/connections/${encodeURIComponent(c.id)}`);
      await loadConnections();
    }),
  );
  actions.append(remove);

  // Newest first; ended consents stay listed (with their status) until a newer one replaces them.
  const all = consentsOfThis.sort((a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? ''));
  const consents = all.filter((k, i) => i === 0 || k.status === 'received' || k.status === 'valid');
  const details = [c.services.map((s) => (s === 'ais' ? 'accounts' : 'payments')).join(' + '), `since ${shortDate(c.createdAt)}`];
  if (c.reauthBy) details.push(`log in again by ${shortDate(c.reauthBy)}`);
  if (c.failureReason) details.push(LOGIN_ERRORS[c.failureReason] ?? c.failureReason);
  return h(
    'div',
    { class: `connection${state.highlight === c.id ? ' highlight' : ''}`, 'data-testid': 'connection', 'data-id': c.id, 'data-aspsp': c.aspspId },
    h('div', { class: 'row' }, h('div', { class: 'grow' }, h('div', { class: 'title' }, bankName(c.aspspId)), h('div', { class: 'meta' }, details.join(' · '))), badge(c.status), actions),
    consents.length > 0 ? h('div', { class: 'consents' }, consents.map(renderConsent)) : undefined,
  );
}

// ---------------------------------------------------------------------------------------------
// Consents (AIS)

async function loadConsents() {
  try {
    const consents = listOf(await api('GET', '/api/v1/consents'), 'consents');
    state.consents = new Map(consents.map((k) => [k.id, k]));
  } catch (error) {
    if (!(error instanceof SessionEnded)) showError($('#connections-card'), error);
    return;
  }
  renderConnections();
}

async function createConsent(connection) {
  // No body fields: the BFF's defaults follow each bank's rules (Flowe: recurring, 90 days, 4/day).
  const consent = await api('POST', `/api/v1/connections/${encodeURIComponent(connection.id)}/consents`, { body: {} });
  state.consents.set(consent.id, { connectionId: connection.id, ...consent });
  renderConnections();
}

function renderConsent(k) {
  const section = $('#connections-card');
  const actions = h('div', { class: 'actions' });
  if (k.status === 'received') {
    actions.append(h('a', { class: 'button', href: psuAppUrl(), target: '_blank', rel: 'noopener', 'data-testid': 'approve-link' }, 'Approve in your bank app ↗'));
    const check = h('button', { type: 'button', class: 'ghost' }, 'Check now');
    check.addEventListener('click', () => busy(check, section, () => refreshConsent(k.id)));
    actions.append(check);
  }
  if (k.status === 'valid') {
    const show = h('button', { type: 'button', class: 'primary', 'data-testid': 'show-accounts' }, 'Show accounts');
    show.addEventListener('click', () => busy(show, section, () => loadAccounts(k.id, false)));
    actions.append(show);
  }
  if (k.status === 'received' || k.status === 'valid') {
    const end = h('button', { type: 'button', class: 'ghost danger' }, 'End access');
    end.addEventListener('click', () =>
      busy(end, section, async () => {
        await api('DELETE', `/api/v1/consents/${encodeURIComponent(k.id)}`);
        await refreshConsent(k.id, false);
      }),
    );
    actions.append(end);
  }
  const meta = [`until ${shortDate(k.validUntil)}`, `${k.frequencyPerDay ?? '?'} background reads a day`];
  if (k.reconsentRequired) meta.push('ask for access again');
  return h(
    'div',
    { class: 'row', 'data-testid': 'consent', 'data-id': k.id },
    h('div', { class: 'grow' }, h('div', {}, CONSENT_TITLES[k.status] ?? 'Account access'), h('div', { class: 'meta' }, meta.join(' · '))),
    badge(k.status),
    actions,
  );
}

async function refreshConsent(consentId, askBank = true) {
  const consent = await api('GET', `/api/v1/consents/${encodeURIComponent(consentId)}${askBank ? '?refresh=true' : ''}`);
  const known = state.consents.get(consentId);
  state.consents.set(consentId, { ...known, ...consent });
  renderConnections();
}

// ---------------------------------------------------------------------------------------------
// Accounts, balances, transactions

/**
 * The stored copy by default (the BFF reads the bank itself when nothing is stored yet);
 * `refresh=true` when the user asks: an attended read, which spends no daily budget.
 */
async function loadAccounts(consentId, fromBank) {
  const path = `/api/v1/consents/${encodeURIComponent(consentId)}/accounts`;
  const body = await api('GET', fromBank ? `${path}?refresh=true` : path);
  state.accounts = listOf(body, 'accounts');
  state.accountsConsentId = consentId;
  state.selectedAccountId = undefined;
  const card = $('#accounts-card');
  $('#accounts-empty').hidden = true;
  $('#accounts-toolbar').hidden = false;
  $('#accounts-source').textContent = sourceNote(body);
  $('#account-detail').hidden = true;
  renderAccounts();
  // Paying from one of these accounts is the likely next step: offer this connection and account.
  const connectionId = state.consents.get(consentId)?.connectionId;
  if (connectionId && state.connections.some((c) => c.id === connectionId && c.status === 'active' && c.services.includes('pis'))) {
    $('#payment-form [name=connectionId]').value = connectionId;
  }
  renderPaymentForm();
  card.scrollIntoView({ behavior: 'smooth', block: 'start' });
}

/** Where the data came from: `source` bank (read now) or storage (the copy from `fetchedAt`). */
function sourceNote(body) {
  const parts = [];
  const when = body?.fetchedAt ? new Date(body.fetchedAt).toLocaleString() : undefined;
  if (body?.source === 'bank') parts.push('Just read from the bank');
  else if (when) parts.push(`Stored copy, read from the bank ${when}`);
  if (body?.warning) parts.push(body.warning.detail ?? body.warning.code);
  return parts.join(' · ');
}

function accountId(a) {
  return a.id ?? a.resourceId;
}

function renderAccounts() {
  if (state.accounts.length === 0) {
    $('#accounts').replaceChildren(h('p', { class: 'hint' }, 'No accounts.'));
    return;
  }
  const rows = state.accounts.map((a) => {
    const row = h(
      'tr',
      { class: `selectable${state.selectedAccountId === accountId(a) ? ' selected' : ''}`, 'data-testid': 'account', 'data-iban': a.iban ?? '', tabindex: 0 },
      h('td', {}, a.name ?? a.product ?? 'Account'),
      h('td', {}, h('code', {}, a.iban ?? a.maskedPan ?? '—')),
      h('td', {}, a.currency ?? ''),
      h('td', {}, a.ownerName ?? ''),
    );
    const open = () => busy(row, $('#accounts-card'), () => openAccount(a));
    row.addEventListener('click', open);
    row.addEventListener('keydown', (e) => e.key === 'Enter' && open());
    return row;
  });
  $('#accounts').replaceChildren(h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Account'), h('th', {}, 'IBAN'), h('th', {}, 'Currency'), h('th', {}, 'Owner'))), h('tbody', {}, rows)));
}

function accountPath(a) {
  return `/api/v1/consents/${encodeURIComponent(state.accountsConsentId)}/accounts/${encodeURIComponent(accountId(a))}`;
}

async function openAccount(a) {
  state.selectedAccountId = accountId(a);
  renderAccounts();
  $('#account-title').textContent = `${a.name ?? 'Account'} · ${a.iban ?? ''}`;
  $('#account-detail').hidden = false;
  await Promise.all([loadBalances(a), loadTransactions(a)]);
}

async function loadBalances(a) {
  const body = await api('GET', `${accountPath(a)}/balances`);
  $('#balances').replaceChildren(
    ...listOf(body, 'balances').map((b) =>
      h('div', { class: 'balance', 'data-testid': 'balance' }, h('div', { class: 'meta', title: b.balanceType }, BALANCE_NAMES[b.balanceType] ?? b.balanceType ?? 'Balance'), h('div', { class: 'amount' }, money(b.balanceAmount ?? b.amount)), h('div', { class: 'meta' }, shortDate(b.referenceDate ?? b.lastChangeDateTime))),
    ),
  );
}

/** Booked and pending rows, whether the API nests them (Berlin Group style) or lists them flat. */
function transactionsOf(body) {
  const t = body?.transactions ?? body;
  if (Array.isArray(t)) return t;
  return [...(t?.pending ?? []).map((x) => ({ bookingStatus: 'pending', ...x })), ...(t?.booked ?? []).map((x) => ({ bookingStatus: 'booked', ...x }))];
}

const TRANSACTIONS_PAGE = 25;

/** One page of transactions (`limit`/`offset`); "Show more" appends the next page of the same query. */
async function loadTransactions(a, filter = {}, shown = []) {
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v));
  query.set('limit', String(TRANSACTIONS_PAGE));
  if (shown.length > 0) query.set('offset', String(shown.length));
  const body = await api('GET', `${accountPath(a)}/transactions?${query}`);
  const all = [...shown, ...transactionsOf(body)];
  const rows = all.map((t) => {
    const amount = t.transactionAmount ?? t.amount;
    const debit = typeof amount?.amount === 'string' && amount.amount.startsWith('-');
    return h(
      'tr',
      { 'data-testid': 'transaction' },
      h('td', {}, shortDate(t.bookingDate ?? t.valueDate)),
      h('td', {}, (debit ? t.creditorName : t.debtorName) ?? t.creditorName ?? t.debtorName ?? ''),
      h('td', {}, t.remittanceInformationUnstructured ?? ''),
      h('td', {}, t.bookingStatus ?? ''),
      h('td', { class: `amount ${debit ? 'debit' : 'credit'}` }, money(amount)),
    );
  });
  const total = typeof body?.total === 'number' ? body.total : all.length;
  let more;
  if (total > all.length) {
    more = h('button', { type: 'button', class: 'ghost', 'data-testid': 'more-transactions' }, 'Show more');
    more.addEventListener('click', () => busy(more, $('#accounts-card'), () => loadTransactions(a, filter, all)));
  }
  $('#transactions').replaceChildren(
    rows.length === 0
      ? h('p', { class: 'hint' }, 'No transactions in this period.')
      : h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Date'), h('th', {}, 'Counterparty'), h('th', {}, 'Reference'), h('th', {}, 'Status'), h('th', { class: 'amount' }, 'Amount'))), h('tbody', {}, rows)),
    h(
      'div',
      { class: 'toolbar' },
      h('span', { class: 'hint', 'data-testid': 'transactions-summary' }, `${all.length} of ${total} transactions, ${body?.dateFrom ?? '…'} to ${body?.dateTo ?? '…'} · ${sourceNote(body)}`),
      more,
    ),
  );
}

// ---------------------------------------------------------------------------------------------
// Payments (PIS)

function newIdempotencyKey() {
  // crypto.randomUUID needs a secure context; getRandomValues works on any origin.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function renderPaymentForm() {
  const payable = state.connections.filter((c) => c.status === 'active' && c.services.includes('pis'));
  $('#payment-form').hidden = payable.length === 0;
  $('#payments-empty').hidden = payable.length > 0;
  const select = $('#payment-form [name=connectionId]');
  const chosen = select.value;
  select.replaceChildren(...payable.map((c) => h('option', { value: c.id }, `${bankName(c.aspspId)} · connected ${new Date(c.createdAt).toLocaleString()}`)));
  // Keep the user's choice; otherwise the bank just connected.
  const preferred = [chosen, state.highlight].find((id) => payable.some((c) => c.id === id));
  if (preferred) select.value = preferred;
  $('#known-ibans').replaceChildren(...state.accounts.filter((a) => a.iban).map((a) => h('option', { value: a.iban }, a.name ?? '')));
  $('#idempotency-key').textContent = state.paymentKey;
  prefillDebtor();
}

/**
 * When the accounts of the chosen connection are known, offer the first one as the debtor. A value
 * the user typed is left alone; one this function filled in follows the chosen connection.
 */
function prefillDebtor() {
  const form = $('#payment-form');
  const input = form.elements.debtorIban;
  if (input.value !== '' && input.value !== form.dataset.prefilled) return;
  const consent = state.consents.get(state.accountsConsentId);
  const offer = consent?.connectionId === form.elements.connectionId.value ? (state.accounts.find((a) => a.iban)?.iban ?? '') : '';
  input.value = offer;
  form.dataset.prefilled = offer;
}

async function submitPayment(form) {
  const f = form.elements;
  const body = {
    debtorAccount: { iban: f.debtorIban.value.trim() },
    creditorAccount: { iban: f.creditorIban.value.trim() },
    creditorName: f.creditorName.value.trim(),
    instructedAmount: { currency: 'EUR', amount: f.amount.value.trim() },
    ...(f.remittance.value.trim() ? { remittanceInformationUnstructured: f.remittance.value.trim() } : {}),
  };
  const connectionId = f.connectionId.value;
  if (!connectionId) throw new Error('Connect a bank with payments first.');
  let payment;
  try {
    payment = await api('POST', `/api/v1/connections/${encodeURIComponent(connectionId)}/payments`, { body, headers: { 'Idempotency-Key': state.paymentKey } });
  } catch (error) {
    // A definitive refusal (4xx other than "still in flight") ends this submission: a corrected
    // form is a new payment with a new key. A network error or 5xx keeps the key, so pressing the
    // button again retries the same payment and can never create a second one.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 409) newSubmission();
    throw error;
  }
  newSubmission();
  upsertPayment({ connectionId, ...payment });
}

function newSubmission() {
  state.paymentKey = newIdempotencyKey();
  $('#idempotency-key').textContent = state.paymentKey;
}

async function loadPayments() {
  try {
    state.payments = listOf(await api('GET', '/api/v1/payments'), 'payments');
  } catch (error) {
    if (!(error instanceof SessionEnded)) showError($('#payments-card'), error);
    return;
  }
  renderPayments();
  renderPaymentForm();
}

function upsertPayment(payment) {
  const i = state.payments.findIndex((p) => p.id === payment.id);
  if (i >= 0) state.payments[i] = { ...state.payments[i], ...payment };
  else state.payments.unshift(payment);
  renderPayments();
  renderPaymentForm();
}

function renderPayments() {
  const section = $('#payments-card');
  const rows = state.payments.map((p) => {
    const actions = h('td', { class: 'actions' });
    if (p.status === 'RCVD') {
      actions.append(h('a', { class: 'button', href: psuAppUrl(), target: '_blank', rel: 'noopener', 'data-testid': 'approve-link' }, 'Approve ↗'));
    }
    if (!FINAL_PAYMENT.has(p.status)) {
      const cancel = h('button', { type: 'button', class: 'ghost danger', 'data-testid': 'cancel-payment' }, 'Cancel');
      cancel.addEventListener('click', () =>
        busy(cancel, section, async () => {
          const after = await api('DELETE', `/api/v1/payments/${encodeURIComponent(p.id)}`);
          upsertPayment(after ?? (await api('GET', `/api/v1/payments/${encodeURIComponent(p.id)}`)));
        }),
      );
      const check = h('button', { type: 'button', class: 'ghost' }, 'Check now');
      check.addEventListener('click', () => busy(check, section, async () => upsertPayment(await api('GET', `/api/v1/payments/${encodeURIComponent(p.id)}?refresh=true`))));
      actions.append(check, cancel);
    }
    return h(
      'tr',
      { 'data-testid': 'payment', 'data-id': p.id },
      h('td', {}, shortDate(p.createdAt)),
      h('td', {}, p.creditorName ?? '', h('div', { class: 'meta' }, p.creditorAccount?.iban ?? '')),
      h('td', { class: 'amount' }, money(p.instructedAmount)),
      h(
        'td',
        {},
        badge(p.status),
        p.scaStatus ? h('div', { class: 'meta' }, `SCA ${p.scaStatus}`) : undefined,
        p.failureCode ? h('div', { class: 'meta' }, p.failureCode) : undefined,
        // The PSU sees the bank's id in the bank app: it tells which request to approve.
        p.bankPaymentId ? h('div', { class: 'meta' }, `bank ref ${p.bankPaymentId}`) : undefined,
      ),
      actions,
    );
  });
  const canPay = state.connections.some((c) => c.status === 'active' && c.services.includes('pis'));
  $('#payments').replaceChildren(
    rows.length === 0
      ? canPay
        ? h('p', { class: 'hint' }, 'No payments yet.')
        : ''
      : h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Date'), h('th', {}, 'To'), h('th', { class: 'amount' }, 'Amount'), h('th', {}, 'Status'), h('th', {}, ''))), h('tbody', {}, rows)),
  );
}

// ---------------------------------------------------------------------------------------------
// Live events: GET /api/v1/events read with fetch, because EventSource cannot send Authorization

function setLive(mode) {
  const live = $('#live');
  live.dataset.state = mode;
  live.textContent = { on: 'live updates on', retrying: 'reconnecting…', off: 'live updates off' }[mode];
}

function startEvents() {
  state.events?.abort();
  const controller = new AbortController();
  state.events = controller;
  void followEvents(controller.signal);
}

async function followEvents(signal) {
  let lastEventId;
  let delay = 1000;
  while (!signal.aborted) {
    try {
      const token = sessionStorage.getItem(TOKEN_KEY);
      const res = await fetch('/api/v1/events', {
        headers: { Accept: 'text/event-stream', Authorization: `Bearer ${token}`, ...(lastEventId ? { 'Last-Event-ID': lastEventId } : {}) },
        cache: 'no-store',
        signal,
      });
      if (res.status === 401) return logout('Your session ended: please sign in again.');
      if (!res.ok || !res.body) throw new Error(`events answered ${res.status}`);
      setLive('on');
      delay = 1000;
      const parser = sseParser((event) => {
        if (event.id) lastEventId = event.id;
        onEvent(event);
      });
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser(value);
      }
    } catch {
      if (signal.aborted) return;
    }
    setLive('retrying');
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15000);
  }
  setLive('off');
}

/** The text/event-stream format (HTML Living Standard 9.2.6): lines, fields, blank line = dispatch. */
function sseParser(dispatch) {
  let buffer = '';
  let event = { type: '', data: [], id: undefined };
  const line = (text) => {
    if (text === '') {
      if (event.data.length > 0) dispatch({ type: event.type || 'message', data: event.data.join('\n'), id: event.id });
      event = { type: '', data: [], id: undefined };
      return;
    }
    if (text.startsWith(':')) return; // comment: heartbeats
    const colon = text.indexOf(':');
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event.type = value;
    else if (field === 'data') event.data.push(value);
    else if (field === 'id') event.id = value;
  };
  return (chunk) => {
    buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(buffer);
      // A lone trailing \r may be the first half of a \r\n split across chunks: wait for more.
      if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
      line(buffer.slice(0, match.index));
      buffer = buffer.slice(match.index + match[0].length);
    }
  };
}

function onEvent(event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return;
  }
  if (event.type === 'consent.status') {
    const id = data.consentId ?? data.id;
    const known = state.consents.get(id);
    if (known) {
      state.consents.set(id, { ...known, status: data.status, ...(data.reconsentRequired === undefined ? {} : { reconsentRequired: data.reconsentRequired }) });
      renderConnections();
    } else {
      void loadConsents(); // e.g. created in another tab
    }
    logEvent(event.type, `${bankName(state.connections.find((c) => c.id === (data.connectionId ?? known?.connectionId))?.aspspId ?? '')} account access → ${data.status}`);
  } else if (event.type === 'payment.status') {
    const id = data.paymentId ?? data.id;
    if (state.payments.some((p) => p.id === id)) upsertPayment({ id, status: data.status, ...(data.scaStatus ? { scaStatus: data.scaStatus } : {}) });
    else void loadPayments();
    logEvent(event.type, `payment ${String(id).slice(0, 8)} → ${data.status}`);
  }
}

function logEvent(type, text) {
  const list = $('#events');
  list.querySelector('.empty')?.remove();
  list.prepend(h('li', { 'data-testid': 'event', 'data-type': type }, h('time', {}, new Date().toLocaleTimeString()), h('code', {}, type), h('span', {}, text)));
  while (list.children.length > 30) list.lastElementChild.remove();
}

// ---------------------------------------------------------------------------------------------
// Start

/** The bank login's outcome arrives as query parameters on this page; show it, then tidy the URL. */
function readLoginOutcome() {
  const params = new URLSearchParams(location.search);
  const result = params.get('result');
  if (!result) return;
  const connectionId = params.get('connectionId') ?? undefined;
  if (result === 'success') {
    state.highlight = connectionId;
    showBanner('success', 'Bank connected. You can now ask for account access or make a payment.');
  } else {
    const code = params.get('error') ?? 'bank_error';
    showBanner('error', `The bank connection failed: ${LOGIN_ERRORS[code] ?? code}`);
    $('#banner').dataset.error = code;
  }
  history.replaceState(null, '', location.pathname);
}

async function start() {
  $('#login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const button = form.querySelector('button');
    void busy(button, form, async () => {
      await login(form.elements.userId.value.trim());
      $('#banner').hidden = true;
      await showApp();
    });
  });
  $('#logout').addEventListener('click', () => logout());
  $('#accounts-refresh').addEventListener('click', (e) => {
    if (state.accountsConsentId) void busy(e.currentTarget, $('#accounts-card'), () => loadAccounts(state.accountsConsentId, true));
  });
  $('#tx-filter').addEventListener('submit', (e) => {
    e.preventDefault();
    const account = state.accounts.find((a) => accountId(a) === state.selectedAccountId);
    const f = e.currentTarget.elements;
    if (account) void busy(e.currentTarget.querySelector('button'), $('#accounts-card'), () => loadTransactions(account, { dateFrom: f.dateFrom.value, dateTo: f.dateTo.value, bookingStatus: f.bookingStatus.value }));
  });
  $('#payment-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    void busy(form.querySelector('button[type=submit]'), form, () => submitPayment(form));
  });
  $('#payment-form [name=connectionId]').addEventListener('change', prefillDebtor);

  state.config = await fetch('/demo/config.json').then((r) => r.json());
  for (const link of document.querySelectorAll('.psu-link')) link.href = psuAppUrl();
  readLoginOutcome();
  if (sessionStorage.getItem(TOKEN_KEY)) await showApp();
  else showLogin();
  document.body.dataset.ready = 'true';
}

void start();
