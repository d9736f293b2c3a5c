import type { BankError, BankErrorKind } from '../../aspsp/bank-error.js';
import type { ErrorCode } from './error-codes.js';

/**
 * What the frontend is told for each kind of bank failure. A 5xx names the bank (in `detail` and
 * `aspspId`); only a refusal of the request itself is a 4xx. A bank 429 is a 503 for our client
 * (`bank_rate_limited`): the client did nothing wrong, and our own per-user limits keep 429.
 */
export const BANK_ERROR_CODES: Readonly<Record<BankErrorKind, ErrorCode>> = {
  timeout: 'bank_timeout',
  transient: 'bank_unavailable',
  unavailable: 'bank_unavailable',
  // Nothing reached the bank: try again later (a payment was not made).
  unreachable: 'bank_unavailable',
  // The bank refused our credentials (key, secret, certificate): an operator must act; the user's grant stands.
  misconfigured: 'bank_error',
  rate_limited: 'bank_rate_limited',
  rejected: 'bank_rejected',
  unexpected: 'bank_error',
  // Reaches the filter only when the bank refused our token after the refresh-and-retry.
  token_invalid: 'reauth_required',
  consent_invalid: 'reconsent_required',
};

/** The problem's code, detail and extensions for a bank failure: which bank, what kind, the bank's own code, no secrets. */
export function bankProblem(error: BankError): { code: ErrorCode; detail: string; extensions: Record<string, unknown> } {
  const { bankCode, tppMessages, retryAfterSeconds } = error.details;
  const cause = error.failureCause;
  return {
    code: BANK_ERROR_CODES[error.kind],
    detail: `${error.aspspId}: ${error.message}`,
    extensions: {
      aspspId: error.aspspId,
      bankErrorKind: error.kind,
      bankErrorCause: cause,
      ...(bankCode ? { bankCode } : {}),
      ...(tppMessages ? { tppMessages: tppMessages.map(({ category, code, text, path }) => ({ category, code, text, path })) } : {}),
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
      ...(error.kind === 'token_invalid' ? { reauthRequired: true } : {}),
      ...(error.kind === 'consent_invalid' ? { reconsentRequired: true } : {}),
    },
  };
}
