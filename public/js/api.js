// @ts-check
/*
 * The BFF's public API as this page uses it: one function per operation, each returning exactly the
 * documented shape (lists in their envelopes: `{connections: […]}`). Paths and fields are the
 * contract's; nothing here papers over a shape that differs from it. Every call sends the user's
 * token as `Authorization: Bearer`; a 401 ends the session.
 */

import * as session from './session.js';

/**
 * @import { Accounts, AspspList, Balances, ConnectionList, Consent, ConsentList, CreateConnection, CreatedConnection, CreatePayment, ReauthorizeConnection, DemoConfig, Payment, PaymentList, Problem, TransactionQuery, Transactions, UserToken } from './api-types'
 */

/** An answer other than 2xx: `problem` is its problem+json body (absent when the body is not one). */
export class ApiError extends Error {
  /** @param {number} status @param {Problem | undefined} problem */
  constructor(status, problem) {
    super(problem ? `${problem.code}: ${problem.title}` : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** The user token was refused: the page has already signed the user out. */
export class SessionEnded extends Error {}

/** @type {() => void} */
let onSessionEnded = () => {};

/** What to do when the BFF refuses the user's token (sign out, say why). @param {() => void} handler */
export function whenSessionEnds(handler) {
  onSessionEnded = handler;
}

/**
 * @template T
 * @param {string} method
 * @param {string} path
 * @param {{ body?: unknown, headers?: Record<string, string>, auth?: boolean }} [options]
 * @returns {Promise<T>}
 */
async function call(method, path, { body, headers = {}, auth = true } = {}) {
  const bearer = auth ? session.token() : null;
  const res = await fetch(path, {
    method,
    headers: {
      Accept: 'application/json',
      ...(bearer ? { Authorization: `Bearer ${bearer}` } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    // The BFF's start cookie (set by POST /api/v1/connections) must be kept, so that this browser's
    // navigation to authorizationUrl goes straight to the bank: same origin, so fetch's default.
    credentials: 'same-origin',
  });
  if (res.status === 401 && bearer) {
    onSessionEnded();
    throw new SessionEnded();
  }
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, (res.headers.get('content-type') ?? '').includes('application/problem+json') ? JSON.parse(text) : undefined);
  return text === '' ? /** @type {T} */ (undefined) : JSON.parse(text);
}

/** @param {string} segment */
const enc = (segment) => encodeURIComponent(segment);

/** @param {Record<string, string | number | boolean | undefined>} params */
function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '' && value !== false) search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

/** Sandbox mode only: where the sandbox bank's PSU app is. @returns {Promise<DemoConfig>} */
export const demoConfig = () => call('GET', '/demo/config.json', { auth: false });

/** Sandbox mode only: a user token for any user id. @param {string} userId @returns {Promise<UserToken>} */
export const sandboxLogin = (userId) => call('POST', '/api/v1/sandbox/login', { body: { userId }, auth: false });

/** @returns {Promise<AspspList>} */
export const listAspsps = () => call('GET', '/api/v1/aspsps');

/** @returns {Promise<ConnectionList>} */
export const listConnections = () => call('GET', '/api/v1/connections');

/** @param {CreateConnection} body @returns {Promise<CreatedConnection>} */
export const createConnection = (body) => call('POST', '/api/v1/connections', { body });

/**
 * A new bank login for a connection whose login ended (reauth_required) or ends soon: the same
 * connection, consents and data; the browser goes to authorizationUrl as for a new connection.
 * @param {string} id @param {ReauthorizeConnection} body @returns {Promise<CreatedConnection>}
 */
export const reauthorizeConnection = (id, body) => call('POST', `/api/v1/connections/${enc(id)}/reauthorize`, { body });

/** Forgets the bank's tokens and ends its consents. @param {string} id @returns {Promise<void>} */
export const deleteConnection = (id) => call('DELETE', `/api/v1/connections/${enc(id)}`);

/** @returns {Promise<ConsentList>} */
export const listConsents = () => call('GET', '/api/v1/consents');

/**
 * No body fields: the BFF's defaults follow each bank's rules (Flowe: recurring, 90 days, 4 a day).
 * @param {string} connectionId @returns {Promise<Consent>}
 */
export const createConsent = (connectionId) => call('POST', `/api/v1/connections/${enc(connectionId)}/consents`, { body: {} });

/** `refresh`: ask the bank now instead of the status as last polled. @param {string} id @param {{ refresh?: boolean }} [options] @returns {Promise<Consent>} */
export const getConsent = (id, { refresh } = {}) => call('GET', `/api/v1/consents/${enc(id)}${query({ refresh })}`);

/** @param {string} id @returns {Promise<void>} */
export const deleteConsent = (id) => call('DELETE', `/api/v1/consents/${enc(id)}`);

/**
 * The stored copy, or (`refresh`) a read from the bank now: attended, so no daily budget is spent.
 * @param {string} consentId @param {{ refresh?: boolean }} [options] @returns {Promise<Accounts>}
 */
export const getAccounts = (consentId, { refresh } = {}) => call('GET', `/api/v1/consents/${enc(consentId)}/accounts${query({ refresh })}`);

/** @param {string} consentId @param {string} accountId @param {{ refresh?: boolean }} [options] @returns {Promise<Balances>} */
export const getBalances = (consentId, accountId, { refresh } = {}) =>
  call('GET', `/api/v1/consents/${enc(consentId)}/accounts/${enc(accountId)}/balances${query({ refresh })}`);

/** @param {string} consentId @param {string} accountId @param {TransactionQuery} [params] @returns {Promise<Transactions>} */
export const getTransactions = (consentId, accountId, params = {}) =>
  call('GET', `/api/v1/consents/${enc(consentId)}/accounts/${enc(accountId)}/transactions${query({ ...params })}`);

/** @returns {Promise<PaymentList>} */
export const listPayments = () => call('GET', '/api/v1/payments');

/**
 * The same key with the same body replays the first answer, so a retry can never pay twice.
 * @param {string} connectionId @param {CreatePayment} body @param {string} idempotencyKey @returns {Promise<Payment>}
 */
export const createPayment = (connectionId, body, idempotencyKey) =>
  call('POST', `/api/v1/connections/${enc(connectionId)}/payments`, { body, headers: { 'Idempotency-Key': idempotencyKey } });

/** @param {string} id @param {{ refresh?: boolean }} [options] @returns {Promise<Payment>} */
export const getPayment = (id, { refresh } = {}) => call('GET', `/api/v1/payments/${enc(id)}${query({ refresh })}`);

/**
 * 204 (cancelled: no body) or 202 with the payment (the PSU must approve the cancellation).
 * @param {string} id @returns {Promise<Payment | undefined>}
 */
export const cancelPayment = (id) => call('DELETE', `/api/v1/payments/${enc(id)}`);
