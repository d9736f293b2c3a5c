// @ts-check
/*
 * The page's state, in one object. Actions change it and call `changed()`; the views render from it
 * (batched once per microtask). Which button is busy and which section shows an error are state too,
 * so a list re-rendered by a live event mid-action keeps its spinner and its message.
 */

/**
 * @import { Account, Accounts, Aspsp, Balances, Connection, Consent, DemoConfig, Payment, Transaction, Transactions } from './api-types'
 * @import { ErrorText } from './problem-text'
 * @import { LiveState } from './sse'
 */

/**
 * Data read from the API for one area of the page. `failure` beside `data`: the last attempt to
 * read it again failed, and the page says so next to the older data it still shows.
 * @template T
 * @typedef {{ data?: T, failure?: string }} Loadable
 */

/**
 * @typedef {'login' | 'banks' | 'connections' | 'accounts' | 'payments'} Section
 * @typedef {{ kind: 'success' | 'error', text: string, code?: string }} Banner
 * @typedef {{ type: string, text: string, at: Date }} LoggedEvent
 * @typedef {{ dateFrom?: string, dateTo?: string, bookingStatus?: 'booked' | 'pending' | 'both' }} TransactionFilter
 * @typedef {{ account: Account, balances: Loadable<Balances>, transactions: Loadable<Transactions> & { rows: Transaction[], filter: TransactionFilter } }} OpenAccount
 * @typedef {{ consentId: string, list: Loadable<Accounts>, open?: OpenAccount }} AccountsArea
 */

/**
 * @typedef {object} State
 * @property {DemoConfig} config
 * @property {'starting' | 'login' | 'app'} view
 * @property {string | undefined} user
 * @property {Banner | undefined} banner
 * @property {boolean} finishing the bank login came back: its connection is being loaded
 * @property {boolean} loaded banks and connections have been read once
 * @property {Aspsp[]} aspsps
 * @property {Connection[]} connections
 * @property {Map<string, Consent>} consents
 * @property {string | undefined} highlight the connection the bank login just finished
 * @property {AccountsArea | undefined} accounts
 * @property {Payment[]} payments
 * @property {string | undefined} payFrom the connection chosen in the payment form
 * @property {string} paymentKey the Idempotency-Key of the payment being entered
 * @property {LiveState} live
 * @property {LoggedEvent[]} events
 * @property {Set<string>} busy keys of the actions in progress
 * @property {Partial<Record<Section, ErrorText>>} errors
 */

/** @returns {State} */
export function initialState() {
  return {
    config: { sandboxUrl: '', publicUrl: '' },
    view: 'starting',
    user: undefined,
    banner: undefined,
    finishing: false,
    loaded: false,
    aspsps: [],
    connections: [],
    consents: new Map(),
    highlight: undefined,
    accounts: undefined,
    payments: [],
    payFrom: undefined,
    paymentKey: newIdempotencyKey(),
    live: 'off',
    events: [],
    busy: new Set(),
    errors: {},
  };
}

export const state = initialState();

/** @type {((state: State) => void)[]} */
const views = [];
let scheduled = false;

/** @param {(state: State) => void} render */
export function onChange(render) {
  views.push(render);
}

/** Re-renders every view once, after the current task's changes. */
export function changed() {
  if (scheduled) return;
  scheduled = true;
  queueMicrotask(() => {
    scheduled = false;
    for (const render of views) render(state);
  });
}

/** @param {string} aspspId */
export function bankName(aspspId) {
  return state.aspsps.find((a) => a.id === aspspId)?.name ?? aspspId;
}

export function newIdempotencyKey() {
  // crypto.randomUUID needs a secure context (https or localhost); getRandomValues works on any origin.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
