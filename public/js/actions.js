// @ts-check
/*
 * What the user can do, as calls to the API and changes to the page's state. Every call that
 * reaches a bank runs through `run`, which marks its button busy (a spinner) until the answer comes
 * and turns a failure into a sentence in the section it belongs to.
 */

import * as api from './api.js';
import { ApiError, SessionEnded } from './api-errors.js';
import { errorText, refreshFailureText } from './problem-text.js';
import * as session from './session.js';
import { followEvents } from './sse.js';
import { bankName, changed, initialState, newIdempotencyKey, state } from './store.js';
import { CONNECTION_STATUS, CONSENT_STATUS, LOGIN_ERRORS, paymentShown } from './status-text.js';
import { day, money } from './format.js';

/**
 * @import { Account, Aspsp, Connection, ConnectionExpiringEvent, ConnectionStatusEvent, Consent, ConsentExpiringEvent, ConsentStatusEvent, CreatePayment, Payment, PaymentStatusEvent, ServiceId } from './api-types'
 * @import { ServerEvent } from './sse'
 * @import { Loadable, Section, TransactionFilter } from './store'
 */

const TRANSACTIONS_PAGE = 25;

/** @type {AbortController | undefined} */
let liveStream;

/**
 * Runs one user action: its button (`key`) is busy meanwhile, a failure is shown in `section`.
 * @param {string} key
 * @param {Section} section
 * @param {{ bank?: string, action?: 'payment' }} context the bank it is about, for the error's wording
 * @param {() => Promise<void>} action
 */
export async function run(key, section, context, action) {
  if (state.busy.has(key)) return;
  state.busy.add(key);
  delete state.errors[section];
  changed();
  try {
    await action();
  } catch (error) {
    if (!(error instanceof SessionEnded)) state.errors[section] = errorText(error, bankName, { bank: context.bank ?? 'The bank', action: context.action });
  } finally {
    state.busy.delete(key);
    changed();
  }
}

// ---------------------------------------------------------------------------------------------
// Session

/** @param {string} userId */
export async function signIn(userId) {
  const { token } = await api.sandboxLogin(userId);
  session.begin(userId, token);
  state.banner = undefined;
  await enterApp();
}

/** Another user may sign in next in this tab: nothing of this one's data stays on screen. @param {string} [message] */
export function signOut(message) {
  session.end();
  liveStream?.abort();
  liveStream = undefined;
  const config = state.config;
  Object.assign(state, initialState(), { config, view: 'login', banner: message ? { kind: 'error', text: message } : undefined });
  changed();
}

api.whenSessionEnds(() => signOut('Your session ended: please sign in again.'));

/** Shows the app for the signed-in user and loads everything it lists. */
export async function enterApp() {
  state.view = 'app';
  state.user = session.userId() ?? '';
  changed();
  startLive();
  await loadAll();
}

/**
 * The bank login's outcome arrives as `?connectionId&result=success|error&error=<code>` on this
 * page's URL. Read it once and tidy the address bar; on success the page says "Finishing the
 * connection…" until the connection itself has been read.
 */
export function readLoginOutcome() {
  const params = new URLSearchParams(location.search);
  const result = params.get('result');
  if (!result) return;
  history.replaceState(null, '', location.pathname);
  if (result === 'success') {
    state.highlight = params.get('connectionId') ?? undefined;
    state.finishing = true;
  } else {
    const code = params.get('error') ?? 'bank_error';
    state.banner = { kind: 'error', text: `The bank connection failed. ${LOGIN_ERRORS[code] ?? LOGIN_ERRORS.bank_error}`, code };
  }
}

async function loadAll() {
  const settled = await Promise.allSettled([loadBanks(), loadConnections(), loadConsents(), loadPayments()]);
  state.loaded = true;
  if (state.finishing) {
    state.finishing = false;
    const connection = state.connections.find((c) => c.id === state.highlight);
    state.banner =
      connection?.status === 'active'
        ? { kind: 'success', text: `${bankName(connection.aspspId)} is connected. You can now ask for account access or make a payment.` }
        : { kind: 'error', text: 'The bank login finished, but the connection could not be read. Reload the page to see it.' };
  }
  for (const [i, section] of /** @type {const} */ (['banks', 'connections', 'connections', 'payments']).entries()) {
    const outcome = settled[i];
    if (outcome.status === 'rejected' && !(outcome.reason instanceof SessionEnded))
      state.errors[section] = errorText(outcome.reason, bankName, { bank: 'The bank' });
  }
  changed();
}

async function loadBanks() {
  state.aspsps = (await api.listAspsps()).aspsps;
}

async function loadConnections() {
  state.connections = (await api.listConnections()).connections;
  changed();
}

async function loadConsents() {
  state.consents = new Map((await api.listConsents()).consents.map((k) => [k.id, k]));
  changed();
}

async function loadPayments() {
  state.payments = (await api.listPayments()).payments;
  changed();
}

// ---------------------------------------------------------------------------------------------
// Connections

/**
 * Creates the connection, then leaves this page: the bank login is a top-level navigation (never
 * an iframe or a popup), so the user sees the bank's own address bar.
 * @param {Aspsp} bank @param {ServiceId[]} services
 */
export async function connectBank(bank, services) {
  const created = await api.createConnection({ aspspId: bank.id, returnUrl: `${location.origin}/`, ...(services.length > 0 ? { services } : {}) });
  location.assign(new URL(created.authorizationUrl, location.origin).toString());
  // The page stays busy until the browser has left it.
  await new Promise(() => {});
}

/**
 * Logs in at the bank again for a connection whose login ended or ends soon, then leaves this page
 * for the bank as `connectBank` does. The connection keeps its id, account access and data.
 * @param {Connection} connection
 */
export async function logInAgain(connection) {
  const renewed = await api.reauthorizeConnection(connection.id, { returnUrl: `${location.origin}/` });
  location.assign(new URL(renewed.authorizationUrl, location.origin).toString());
  await new Promise(() => {});
}

/** @param {Connection} connection */
export async function disconnect(connection) {
  await api.deleteConnection(connection.id);
  if (state.accounts && state.consents.get(state.accounts.consentId)?.connectionId === connection.id) state.accounts = undefined;
  await Promise.all([loadConnections(), loadConsents()]);
}

// ---------------------------------------------------------------------------------------------
// Consents

/** @param {Connection} connection */
export async function askForAccess(connection) {
  const consent = await api.createConsent(connection.id);
  state.consents.set(consent.id, consent);
}

/** @param {Consent} consent */
export async function checkConsent(consent) {
  const fresh = await api.getConsent(consent.id, { refresh: true });
  state.consents.set(fresh.id, fresh);
}

/** @param {Consent} consent */
export async function endAccess(consent) {
  await api.deleteConsent(consent.id);
  const after = await api.getConsent(consent.id);
  state.consents.set(after.id, after);
  if (state.accounts?.consentId === consent.id) state.accounts = undefined;
}

// ---------------------------------------------------------------------------------------------
// Accounts, balances, transactions

/** @param {Consent} consent */
export async function showAccounts(consent) {
  state.accounts = { consentId: consent.id, list: {} };
  changed();
  try {
    state.accounts.list = { data: await api.getAccounts(consent.id) };
  } catch (error) {
    state.accounts = undefined;
    throw error;
  }
  // Paying from one of these accounts is the likely next step: offer this connection.
  const connection = state.connections.find((c) => c.id === consent.connectionId);
  if (connection?.status === 'active' && connection.services.includes('pis')) state.payFrom = connection.id;
}

/**
 * Reads the accounts (and the open account's balances and transactions) from the bank now. A read
 * that fails leaves the older data on screen, labelled with its time and why it is not newer.
 */
export async function readFromBank() {
  const area = state.accounts;
  if (!area) return;
  const bank = bankName(state.consents.get(area.consentId)?.aspspId ?? '');
  /** @template T @param {Loadable<T>} target @param {() => Promise<T>} read */
  const refresh = async (target, read) => {
    try {
      target.data = await read();
      delete target.failure;
    } catch (error) {
      if (error instanceof SessionEnded) throw error;
      target.failure = refreshFailureText(error, bank);
    }
  };
  const open = area.open;
  await Promise.all([
    refresh(area.list, () => api.getAccounts(area.consentId, { refresh: true })),
    open && refresh(open.balances, () => api.getBalances(area.consentId, open.account.id, { refresh: true })),
    open &&
      refresh(open.transactions, async () => {
        const data = await api.getTransactions(area.consentId, open.account.id, { ...open.transactions.filter, limit: TRANSACTIONS_PAGE, refresh: true });
        open.transactions.rows = rowsOf(data);
        return data;
      }),
  ]);
}

/** @param {Account} account */
export async function openAccount(account) {
  const area = state.accounts;
  if (!area) return;
  /** @type {TransactionFilter} */
  const filter = {};
  area.open = { account, balances: {}, transactions: { rows: [], filter } };
  changed();
  const open = area.open;
  await Promise.all([
    api.getBalances(area.consentId, account.id).then((data) => {
      open.balances = { data };
    }),
    loadTransactions(filter),
  ]);
}

/**
 * One page of transactions; `more` appends the next page of the same query, otherwise the list is
 * replaced (placeholders meanwhile).
 * @param {TransactionFilter} filter @param {{ more?: boolean }} [options]
 */
export async function loadTransactions(filter, { more = false } = {}) {
  const area = state.accounts;
  const open = area?.open;
  if (!area || !open) return;
  const shown = more ? open.transactions.rows : [];
  if (!more) {
    open.transactions = { rows: [], filter };
    changed();
  }
  const data = await api.getTransactions(area.consentId, open.account.id, { ...filter, limit: TRANSACTIONS_PAGE, ...(more ? { offset: shown.length } : {}) });
  open.transactions = { data, filter, rows: [...shown, ...rowsOf(data)] };
}

/** Pending first (the newest movements), then booked, as the API lists each. @param {import('./api-types').Transactions} data */
function rowsOf(data) {
  return [...data.transactions.pending, ...data.transactions.booked];
}

// ---------------------------------------------------------------------------------------------
// Payments

/**
 * @param {string} connectionId @param {CreatePayment} body
 */
export async function sendPayment(connectionId, body) {
  let payment;
  try {
    payment = await api.createPayment(connectionId, body, state.paymentKey);
  } catch (error) {
    // A definite refusal (4xx other than "still in flight") ends this submission: a corrected form
    // is a new payment with a new key. A network error or a 5xx keeps the key, so pressing Send
    // again retries the same payment and can never create a second one.
    if (error instanceof ApiError && error.status >= 400 && error.status < 500 && error.status !== 409) state.paymentKey = newIdempotencyKey();
    throw error;
  }
  state.paymentKey = newIdempotencyKey();
  upsertPayment(payment);
}

/** @param {Payment} payment */
export async function checkPayment(payment) {
  upsertPayment(await api.getPayment(payment.id, { refresh: true }));
}

/** @param {Payment} payment */
export async function cancelPayment(payment) {
  // 202 answers the payment (its cancellation awaits approval); 204 none: read it.
  upsertPayment((await api.cancelPayment(payment.id)) ?? (await api.getPayment(payment.id)));
}

/**
 * Puts the payment as the API answered it into the list. Answers can arrive out of order (a live
 * update's read and a click's): one older than what is shown is dropped.
 * @param {Payment} payment
 */
function upsertPayment(payment) {
  const i = state.payments.findIndex((p) => p.id === payment.id);
  if (i < 0) state.payments.unshift(payment);
  else if (payment.updatedAt >= state.payments[i].updatedAt) state.payments[i] = payment;
}

// ---------------------------------------------------------------------------------------------
// Live events

function startLive() {
  liveStream?.abort();
  liveStream = new AbortController();
  void followEvents(
    {
      token: session.token,
      onEvent: onServerEvent,
      onState: (live) => {
        state.live = live;
        changed();
      },
      onUnauthorized: () => signOut('Your session ended: please sign in again.'),
    },
    liveStream.signal,
  );
}

/** @param {ServerEvent} event */
export function onServerEvent(event) {
  let data;
  try {
    data = JSON.parse(event.data);
  } catch {
    return; // not an event this page can read; the next one may be
  }
  switch (event.type) {
    case 'consent.status': {
      const change = /** @type {ConsentStatusEvent} */ (data);
      const known = state.consents.get(change.consentId);
      if (known) state.consents.set(change.consentId, { ...known, status: change.status, reconsentRequired: change.reconsentRequired });
      else void loadConsents().catch(() => {});
      const connection = state.connections.find((c) => c.id === change.connectionId);
      log(event.type, `${connection ? bankName(connection.aspspId) : 'Bank'} account access: ${CONSENT_STATUS[change.status].text}`);
      break;
    }
    case 'payment.status': {
      const change = /** @type {PaymentStatusEvent} */ (data);
      const known = state.payments.find((p) => p.id === change.paymentId);
      const now = { status: change.status, scaStatus: change.scaStatus ?? undefined };
      log(
        event.type,
        known ? `Payment of ${money(known.instructedAmount)} to ${known.creditorName}: ${paymentShown(now).text}` : `A payment: ${paymentShown(now).text}`,
      );
      // The event says what changed; the payment itself (with a rejection's reason, say) is read from the API.
      void api
        .getPayment(change.paymentId)
        .then((payment) => {
          upsertPayment(payment);
          changed();
        })
        .catch(() => {});
      break;
    }
    case 'connection.status': {
      const change = /** @type {ConnectionStatusEvent} */ (data);
      void loadConnections().catch(() => {});
      log(event.type, `${bankName(change.aspspId)}: ${CONNECTION_STATUS[change.status].text}`);
      break;
    }
    case 'connection.expiring': {
      const warning = /** @type {ConnectionExpiringEvent} */ (data);
      void loadConnections().catch(() => {});
      log(event.type, `${bankName(warning.aspspId)}: log in again by ${day(warning.reauthBy)}`);
      break;
    }
    case 'consent.expiring': {
      const warning = /** @type {ConsentExpiringEvent} */ (data);
      void loadConsents().catch(() => {});
      log(event.type, `${bankName(warning.aspspId)} account access ends on ${day(warning.validUntil)}: renew it to keep seeing your accounts`);
      break;
    }
    default:
      return; // a type this page does not know yet
  }
  changed();
}

/** @param {string} type @param {string} text */
function log(type, text) {
  state.events = [{ type, text, at: new Date() }, ...state.events].slice(0, 30);
}
