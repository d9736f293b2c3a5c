// @ts-check
/*
 * API errors as sentences. The page switches on the problem's stable `code` and writes its own
 * words, naming the bank (`aspspId`) and, for a refusal, the bank's reason code in words. The
 * problem's `detail` is for developers and logs (it may carry a bank id or an HTTP status), and a
 * request id means nothing to the person: neither is shown. Field errors (`errors`) are, each
 * under its form label, since the API writes them to be read.
 */

import { ApiError } from './api-errors.js';
import { rejectionReason } from './status-text.js';

/**
 * @import { Problem } from './api-types'
 * @typedef {{ bank: string, action?: 'payment' }} Context
 * @typedef {(problem: Problem, context: Context) => string} Sentence
 * @typedef {{ text: string, fields: { field: string, message: string }[] }} ErrorText
 */

/** @param {Problem} p */
const retryHint = (p) => (p.retryAfterSeconds ? ` Try again in ${p.retryAfterSeconds} seconds.` : ' Try again in a moment.');

/**
 * One sentence per code of the API's error catalogue (test/demo checks that none is missing).
 * @type {Record<string, Sentence>}
 */
export const PROBLEM_TEXT = {
  validation_failed: (p) => ((p.errors ?? []).length > 0 ? 'Please correct these details:' : 'Some details were not accepted. Please check them.'),
  malformed_json: () => 'The server could not read the request. Reload the page and try again.',
  unauthenticated: () => 'Your session ended. Please sign in again.',
  forbidden: () => 'You are not allowed to do this.',
  not_found: () => 'This no longer exists. Reload the page to see the latest state.',
  method_not_allowed: () => 'This action is not available.',
  conflict: (_p, { bank }) => `This cannot be done with ${bank} right now. Reload the page to see the latest state.`,
  payload_too_large: () => 'That is too much text. Please shorten it.',
  unsupported_media_type: () => 'The server did not accept the request format. Reload the page and try again.',
  unprocessable: () => 'The request could not be processed. Please check the details.',
  rate_limited: (p, { bank }) => (p.aspspId ? `${bank} is receiving too many requests.` : 'Too many requests at once.') + retryHint(p),
  service_unavailable: (p) => 'The service is busy or starting.' + retryHint(p),
  database_unavailable: (p) => 'The service cannot reach its records just now.' + retryHint(p),
  internal_error: () => 'Something went wrong on our side. Please try again.',
  bank_error: (p, { bank }) => (p.status === 422 ? `Rejected by ${bank}: ${bankReason(p)}.` : `${bank} answered with an error. Please try again later.`),
  bank_unavailable: (_p, { bank }) => `${bank} cannot be reached right now. Please try again in a few minutes.`,
  bank_timeout: (_p, { bank, action }) =>
    action === 'payment'
      ? `${bank} did not answer in time. The payment may still have been made: check your bank app before paying again.`
      : `${bank} did not answer in time. Please try again.`,
  idempotency_key_reused: () => 'This payment was already sent with other details. Press Send again to make it a new payment.',
  idempotency_key_in_flight: () => 'This payment is still being sent. Wait a moment, then look at the list below.',
  payment_not_cancellable: () => 'This payment can no longer be cancelled.',
  // Answered only by the ops replay route, which the page never calls.
  webhook_not_configured: () => 'No webhook receives this event.',
  // The explicit codes that replace the generic `conflict` and name each bank failure's kind.
  reauth_required: (_p, { bank }) => `${bank} needs you to log in again.`,
  reconsent_required: (_p, { bank }) => `${bank} no longer accepts this account access. Ask for access again.`,
  consent_not_valid: () => 'This account access cannot be used right now. Its state is shown above.',
  connection_not_active: (_p, { bank }) => `The connection to ${bank} is not active.`,
  connection_not_reauthorizable: (_p, { bank }) => `This connection to ${bank} cannot be renewed. Connect the bank again instead.`,
  service_not_granted: (_p, { bank }) => `This connection to ${bank} was made without this service. Connect the bank again with it.`,
  bank_identity_conflict: (_p, { bank }) => `These ${bank} accounts are already connected by another user of this app, so this connection was stopped.`,
  bank_rejected: (p, { bank }) => `Rejected by ${bank}: ${bankReason(p)}.`,
  bank_rate_limited: (p, { bank }) => `${bank} asks us to slow down.` + retryHint(p),
};

/** @param {Problem} p */
function bankReason(p) {
  const code = p.bankCode ?? p.tppMessages?.[0]?.code;
  return rejectionReason(code);
}

/**
 * @param {unknown} error what an action threw
 * @param {(aspspId: string) => string} bankName
 * @param {Context} context the bank the action was about, for problems that do not name one
 * @returns {ErrorText}
 */
export function errorText(error, bankName, context) {
  if (!(error instanceof ApiError)) {
    // fetch rejects with a TypeError when the network fails; anything else is a bug in this page.
    return {
      text:
        error instanceof TypeError
          ? 'The server could not be reached. Check your connection and try again.'
          : 'Something went wrong in this page. Reload it and try again.',
      fields: [],
    };
  }
  const problem = error.problem;
  if (!problem) return { text: `Something went wrong (the server answered ${error.status}). Please try again.`, fields: [] };
  const bank = problem.aspspId ? bankName(problem.aspspId) : context.bank;
  const sentence = PROBLEM_TEXT[problem.code];
  return { text: sentence ? sentence(problem, { ...context, bank }) : problem.title, fields: problem.errors ?? [] };
}

/**
 * Why a read from the bank did not replace the data on screen, to follow "Showing data from 10:42; …".
 * @param {unknown} error @param {string} bank
 */
export function refreshFailureText(error, bank) {
  const code = error instanceof ApiError ? error.problem?.code : undefined;
  if (code === 'bank_unavailable' || code === 'bank_timeout') return `${bank} could not be reached`;
  if (code === 'rate_limited' || code === 'bank_rate_limited') return `${bank} asked us to slow down`;
  return errorText(error, () => bank, { bank }).text;
}
