// @ts-check
/*
 * The BFF's public API as this page uses it: one function per operation, each a call of the typed
 * client (openapi-fetch, served by the BFF from its installed package, over the `paths` that
 * openapi-typescript generates from the OpenAPI document). Paths, parameters, bodies and answers are
 * checked against the contract by `npm run lint`: a renamed path or field is a type error here, not
 * a 404 in the browser. Each function returns exactly the documented shape (lists in their
 * envelopes: `{connections: […]}`). Every call but the sandbox login and the page's config sends the
 * user's token as `Authorization: Bearer`; a 401 then ends the session.
 */

import createClient from './vendor/openapi-fetch.mjs';
import { ApiError, SessionEnded } from './api-errors.js';
import * as session from './session.js';

/**
 * @import { paths } from '../../clients/typescript/schema'
 * @import { Client, ClientOptions, Middleware } from './vendor/openapi-fetch.mjs'
 * @import { Accounts, AspspList, Balances, ConnectionList, Consent, ConsentList, CreateConnection, CreatedConnection, CreatePayment, ReauthorizeConnection, DemoConfig, Payment, PaymentList, Problem, TransactionQuery, Transactions, UserToken } from './api-types'
 */

/** @type {() => void} */
let onSessionEnded = () => {};

/** What to do when the BFF refuses the user's token (sign out, say why). @param {() => void} handler */
export function whenSessionEnds(handler) {
  onSessionEnded = handler;
}

/** @type {ClientOptions} */
const OPTIONS = {
  // Same origin: the paths are the whole URL.
  baseUrl: '',
  headers: { Accept: 'application/json' },
  cache: 'no-store',
  // The BFF's start cookie (set by POST /api/v1/connections) must be kept, so that this browser's
  // navigation to authorizationUrl goes straight to the bank: same origin, so fetch's default.
  credentials: 'same-origin',
};

/**
 * The user's token on every request, read when it is sent (a sign-in or sign-out in between
 * counts). A 401 to a request that carried one means the BFF no longer accepts it: sign out.
 * @type {Middleware}
 */
const userToken = {
  onRequest({ request }) {
    const bearer = session.token();
    if (bearer) request.headers.set('Authorization', `Bearer ${bearer}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && request.headers.has('Authorization')) {
      onSessionEnded();
      throw new SessionEnded();
    }
    return undefined;
  },
};

/** The calls made as the signed-in user. @type {Client<paths>} */
const client = createClient(OPTIONS);
client.use(userToken);

/** The two calls made before there is a user: no token, so no 401 can end a session. @type {Client<paths>} */
const anonymous = createClient(OPTIONS);

/**
 * The success body of a call, or its failure as an ApiError (with the problem when the body is
 * problem+json).
 * @template T
 * @param {Promise<{ data?: T, error?: unknown, response: Response }>} call
 * @returns {Promise<T>}
 */
async function answer(call) {
  const { data, error, response } = await call;
  if (!response.ok)
    throw new ApiError(
      response.status,
      (response.headers.get('content-type') ?? '').includes('application/problem+json') ? /** @type {Problem} */ (error) : undefined,
    );
  return /** @type {T} */ (data);
}

/** The API's `refresh=true`, or nothing (the stored copy). @param {boolean | undefined} refresh */
const refreshing = (refresh) => (refresh ? /** @type {const} */ ('true') : undefined);

/** Sandbox mode only: where the sandbox bank's PSU app is. @returns {Promise<DemoConfig>} */
export const demoConfig = () => answer(anonymous.GET('/demo/config.json'));

/** Sandbox mode only: a user token for any user id. @param {string} userId @returns {Promise<UserToken>} */
export const sandboxLogin = (userId) => answer(anonymous.POST('/api/v1/sandbox/login', { body: { userId } }));

/** @returns {Promise<AspspList>} */
export const listAspsps = () => answer(client.GET('/api/v1/aspsps'));

/** @returns {Promise<ConnectionList>} */
export const listConnections = () => answer(client.GET('/api/v1/connections'));

/** @param {CreateConnection} body @returns {Promise<CreatedConnection>} */
export const createConnection = (body) => answer(client.POST('/api/v1/connections', { body }));

/**
 * A new bank login for a connection whose login ended (reauth_required) or ends soon: the same
 * connection, consents and data; the browser goes to authorizationUrl as for a new connection.
 * @param {string} id @param {ReauthorizeConnection} body @returns {Promise<CreatedConnection>}
 */
export const reauthorizeConnection = (id, body) => answer(client.POST('/api/v1/connections/{id}/reauthorize', { params: { path: { id } }, body }));

/** Forgets the bank's tokens and ends its consents. @param {string} id @returns {Promise<void>} */
export const deleteConnection = (id) => answer(client.DELETE('/api/v1/connections/{id}', { params: { path: { id } } }));

/** @returns {Promise<ConsentList>} */
export const listConsents = () => answer(client.GET('/api/v1/consents'));

/**
 * No body fields: the BFF's defaults follow each bank's rules (Flowe: recurring, 90 days, 4 a day).
 * @param {string} connectionId @returns {Promise<Consent>}
 */
export const createConsent = (connectionId) => answer(client.POST('/api/v1/connections/{id}/consents', { params: { path: { id: connectionId } }, body: {} }));

/** `refresh`: ask the bank now instead of the status as last polled. @param {string} id @param {{ refresh?: boolean }} [options] @returns {Promise<Consent>} */
export const getConsent = (id, { refresh } = {}) =>
  answer(client.GET('/api/v1/consents/{id}', { params: { path: { id }, query: { refresh: refreshing(refresh) } } }));

/** Ends the consent (at the bank too); answers it as it now is. @param {string} id @returns {Promise<Consent>} */
export const deleteConsent = (id) => answer(client.DELETE('/api/v1/consents/{id}', { params: { path: { id } } }));

/**
 * The stored copy, or (`refresh`) a read from the bank now: attended, so no daily budget is spent.
 * @param {string} consentId @param {{ refresh?: boolean }} [options] @returns {Promise<Accounts>}
 */
export const getAccounts = (consentId, { refresh } = {}) =>
  answer(client.GET('/api/v1/consents/{consentId}/accounts', { params: { path: { consentId }, query: { refresh: refreshing(refresh) } } }));

/** @param {string} consentId @param {string} accountId @param {{ refresh?: boolean }} [options] @returns {Promise<Balances>} */
export const getBalances = (consentId, accountId, { refresh } = {}) =>
  answer(
    client.GET('/api/v1/consents/{consentId}/accounts/{accountId}/balances', {
      params: { path: { consentId, accountId }, query: { refresh: refreshing(refresh) } },
    }),
  );

/** @param {string} consentId @param {string} accountId @param {TransactionQuery} [params] @returns {Promise<Transactions>} */
export const getTransactions = (consentId, accountId, { refresh, ...query } = {}) =>
  answer(
    client.GET('/api/v1/consents/{consentId}/accounts/{accountId}/transactions', {
      params: { path: { consentId, accountId }, query: { ...query, refresh: refreshing(refresh) } },
    }),
  );

/** @returns {Promise<PaymentList>} */
export const listPayments = () => answer(client.GET('/api/v1/payments'));

/**
 * The same key with the same body replays the first answer, so a retry can never pay twice.
 * @param {string} connectionId @param {CreatePayment} body @param {string} idempotencyKey @returns {Promise<Payment>}
 */
export const createPayment = (connectionId, body, idempotencyKey) =>
  answer(
    client.POST('/api/v1/connections/{id}/payments', {
      params: { path: { id: connectionId }, header: { 'Idempotency-Key': idempotencyKey } },
      body,
    }),
  );

/** @param {string} id @param {{ refresh?: boolean }} [options] @returns {Promise<Payment>} */
export const getPayment = (id, { refresh } = {}) =>
  answer(client.GET('/api/v1/payments/{id}', { params: { path: { id }, query: { refresh: refreshing(refresh) } } }));

/**
 * 204 (cancelled: no body) or 202 with the payment (the PSU must approve the cancellation).
 * @param {string} id @returns {Promise<Payment | undefined>}
 */
export const cancelPayment = (id) => answer(client.DELETE('/api/v1/payments/{id}', { params: { path: { id } } }));
