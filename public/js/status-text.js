// @ts-check
/*
 * Every status the API can report, in words. The tables are keyed by the API's enums: tsc checks
 * them against api-types.d.ts, and test/demo checks their keys against /docs-json, so a status added
 * to the API without words here fails a test instead of showing a bank code to a person.
 */

/**
 * @import { BookingStatus, Connection, ConnectionStatus, Consent, ConsentStatus, DataWarningCode, Payment, PaymentStatus, ScaStatus } from './api-types'
 * @typedef {'ok' | 'warn' | 'bad' | 'info' | 'neutral'} Tone
 * @typedef {{ text: string, tone: Tone }} StatusText
 * @typedef {StatusText & { final: boolean }} PaymentStatusText
 * @typedef {{ text: string, tone: Tone, detail?: string }} Shown
 */

/** @type {Record<ConnectionStatus, StatusText>} */
export const CONNECTION_STATUS = {
  pending: { text: 'Waiting for the bank login', tone: 'warn' },
  active: { text: 'Connected', tone: 'ok' },
  reauth_required: { text: 'Log in to the bank again', tone: 'warn' },
  revoked: { text: 'Disconnected', tone: 'neutral' },
  failed: { text: 'Not connected', tone: 'bad' },
};

/** @type {Record<ConsentStatus, StatusText>} */
export const CONSENT_STATUS = {
  pending: { text: 'Asking the bank…', tone: 'info' },
  unknown: { text: 'Not confirmed: the bank did not answer in time', tone: 'warn' },
  received: { text: 'Waiting for your approval in the bank app', tone: 'warn' },
  valid: { text: 'Access granted', tone: 'ok' },
  rejected: { text: 'Refused in the bank app', tone: 'bad' },
  revokedByPsu: { text: 'Withdrawn in the bank app', tone: 'bad' },
  expired: { text: 'Access expired', tone: 'bad' },
  terminatedByTpp: { text: 'Access ended', tone: 'neutral' },
  invalid: { text: 'No longer accepted by the bank', tone: 'bad' },
};

/**
 * ISO 20022 payment statuses (Berlin Group `transactionStatus`) and the BFF's own three: `pending`
 * (the bank call is in flight), `unknown` (the bank did not answer; the payment is never re-sent)
 * and `failed` (the bank does not have it: it could not be reached, or the payment was not found there).
 * `final`: the bank will not change it any more, so nothing is left to check or cancel.
 * @type {Record<PaymentStatus, PaymentStatusText>}
 */
export const PAYMENT_STATUS = {
  pending: { text: 'Sending to the bank…', tone: 'info', final: false },
  unknown: { text: 'Unknown: the bank did not answer in time', tone: 'warn', final: false },
  failed: { text: 'Not made: nothing was paid', tone: 'bad', final: true },
  RCVD: { text: 'Waiting for your approval in the bank app', tone: 'warn', final: false },
  PDNG: { text: 'The bank is still processing it', tone: 'info', final: false },
  PATC: { text: 'Waiting for another approval in the bank app', tone: 'warn', final: false },
  ACTC: { text: 'Approved; the bank is checking it', tone: 'info', final: false },
  ACCP: { text: 'Accepted by the bank', tone: 'info', final: false },
  ACFC: { text: 'Accepted; the bank has checked the funds', tone: 'info', final: false },
  ACWP: { text: 'Accepted by the bank, not sent yet', tone: 'info', final: false },
  ACWC: { text: 'Accepted by the bank with changes', tone: 'info', final: false },
  PART: { text: 'Partly accepted by the bank', tone: 'warn', final: false },
  ACSP: { text: 'Sent', tone: 'info', final: false },
  ACSC: { text: 'Paid', tone: 'ok', final: true },
  ACCC: { text: "Paid; the payee's bank has it", tone: 'ok', final: true },
  RJCT: { text: 'Rejected by the bank', tone: 'bad', final: true },
  CANC: { text: 'Cancelled', tone: 'neutral', final: true },
};

/** Berlin Group SCA statuses: how far the approval in the bank app has got. @type {Record<ScaStatus, string>} */
export const SCA_STATUS = {
  received: 'Waiting for your approval in the bank app',
  psuIdentified: 'The bank has identified you',
  psuAuthenticated: 'You have logged in at the bank',
  scaMethodSelected: 'Approval method chosen',
  started: 'Approval started in the bank app',
  unconfirmed: 'Waiting for your confirmation',
  finalised: 'Approved in the bank app',
  failed: 'Not approved in the bank app',
  exempted: 'No approval needed',
};

/** @type {Record<BookingStatus, string>} */
export const BOOKING_STATUS = {
  booked: 'Booked',
  pending: 'Pending',
};

/** Why stored account data is shown instead of a fresh read. @type {Record<DataWarningCode, (bank: string) => string>} */
export const DATA_WARNING = {
  budget_spent: (bank) => `${bank} allows a few background reads a day and they are used up`,
  rate_limited: (bank) => `${bank} asked us to slow down`,
};

/** The `error` of a bank login that came back without success (also a failed connection's `failureReason`). */
export const LOGIN_ERRORS = /** @type {Record<string, string>} */ ({
  access_denied: 'You cancelled at the bank, or did not grant access.',
  cancelled: 'You cancelled before going to the bank.',
  invalid_state: 'The bank login could not be matched to this browser. Start again from this page.',
  expired_state: 'The bank login took too long. Please try again.',
  expired_ticket: 'The login link expired before you used it. Please try again.',
  missing_code: 'The bank did not send the login back to us. Please try again.',
  exchange_failed: 'The bank did not accept the login. Please try again.',
  scope_mismatch: 'The bank answered for another login. Please try again from this page.',
  bank_identity_conflict: 'These bank accounts are already connected by another user of this app.',
  bank_error: 'The bank reported an error. Please try again later.',
});

/**
 * Berlin Group codes a bank gives when it rejects a payment, as the reason a person reads.
 * @type {Record<string, string>}
 */
const REJECTION_REASONS = {
  FORMAT_ERROR: 'some payment details were not accepted',
  PARAMETER_NOT_CONSISTENT: 'some payment details do not match',
  PAYMENT_FAILED: 'the payment could not be made',
  PRODUCT_INVALID: 'this kind of payment is not available for the account',
  PRODUCT_UNKNOWN: 'this kind of payment is not offered',
  RESOURCE_UNKNOWN: 'the account is not one of yours at this bank',
  EXECUTION_DATE_INVALID: 'the date is not possible',
  SERVICE_BLOCKED: 'payments are blocked for this account',
  SERVICE_INVALID: 'payments are not allowed for this account',
  CONSENT_INVALID: 'the bank no longer accepts our access',
  TOKEN_INVALID: 'the bank no longer accepts our access',
  bank_timeout: 'the bank did not answer in time',
  bank_error: 'the bank answered with an error',
  interrupted: 'sending was interrupted',
  rejected: 'no reason given',
};

/** @param {string | undefined} code */
export function rejectionReason(code) {
  return (code && REJECTION_REASONS[code]) || 'no reason given';
}

/** @param {Connection} connection @returns {Shown} */
export function connectionShown(connection) {
  const shown = CONNECTION_STATUS[connection.status];
  if (connection.status === 'failed' && connection.failureReason)
    return { ...shown, detail: LOGIN_ERRORS[connection.failureReason] ?? LOGIN_ERRORS.bank_error };
  return shown;
}

/** @param {Consent} consent @returns {Shown} */
export function consentShown(consent) {
  const shown = CONSENT_STATUS[consent.status];
  if (consent.status === 'unknown') return { ...shown, detail: 'It may still reach your bank app. If you do not see it there, end it and ask again.' };
  return shown;
}

/**
 * A payment's state in one sentence. A final status says everything (a cancelled payment is
 * "Cancelled", whatever its SCA status); while it is open, the approval in the bank app refines it.
 * @param {Pick<Payment, 'status' | 'scaStatus' | 'failureCode'>} payment
 * @returns {Shown}
 */
export function paymentShown(payment) {
  const status = PAYMENT_STATUS[payment.status];
  if (payment.status === 'RJCT') return { text: `${status.text}: ${rejectionReason(payment.failureCode)}`, tone: status.tone };
  if (payment.status === 'unknown') return { ...status, detail: 'It may still have been made: check your bank app before paying again.' };
  if (payment.status === 'failed') return { ...status, detail: 'Your bank has no record of it, so nothing was paid. You can send it again.' };
  if (status.final || !payment.scaStatus) return status;
  const waitingForApproval = payment.status === 'RCVD' || payment.status === 'PATC' || payment.status === 'PDNG';
  if (waitingForApproval && (payment.scaStatus === 'finalised' || payment.scaStatus === 'exempted'))
    return { text: 'Approved; the bank is processing it', tone: 'info' };
  if (waitingForApproval && payment.scaStatus === 'failed') return { text: SCA_STATUS.failed, tone: 'bad' };
  if (waitingForApproval && payment.scaStatus !== 'received') return { ...status, detail: SCA_STATUS[payment.scaStatus] };
  return status;
}

/** @param {PaymentStatus} status */
export function isFinalPayment(status) {
  return PAYMENT_STATUS[status].final;
}

/** Berlin Group balance types, as a person would say them. @type {Record<string, string>} */
export const BALANCE_NAMES = {
  closingBooked: 'Booked balance',
  interimBooked: 'Booked so far today',
  interimAvailable: 'Available now',
  openingBooked: 'Opening balance',
  expected: 'Expected, with pending items',
  forwardAvailable: 'Available later',
};
