/**
 * What went wrong at a bank, as a kind the caller can act on without parsing text (the scheduler
 * backs off by kind; the problem filter answers each kind with its own code, see bank-problem.ts):
 * - `transient`: 5xx, or the connection broke after the request was sent: back off, try again later;
 * - `timeout`: no answer in time (for a payment initiation the outcome is unknown);
 * - `unavailable`: the bank's circuit is open, or our own limits refused the call before sending it;
 * - `unreachable`: the request never reached the bank (connection refused, DNS failure, TLS
 *   handshake refused, connect timeout): nothing was done there, so a payment can be sent again;
 * - `misconfigured`: the bank refused *us*, not the user's grant (subscription key, client secret,
 *   certificate, a 401 that names no token): an operator must act; tokens and connections stay;
 * - `token_invalid`: the bank refused the user's token (TOKEN_INVALID/EXPIRED/UNKNOWN: refresh once)
 *   or refresh token (`invalid_grant`: the grant has ended);
 * - `consent_invalid`: CONSENT_INVALID / CONSENT_EXPIRED / CONSENT_UNKNOWN / revoked;
 * - `rate_limited`: 429 (ACCESS_EXCEEDED, or the login server throttling us);
 * - `rejected`: the bank refused the request itself (4xx with tppMessages);
 * - `unexpected`: anything we cannot interpret.
 */
export type BankErrorKind =
  'transient' | 'timeout' | 'unavailable' | 'unreachable' | 'misconfigured' | 'token_invalid' | 'consent_invalid' | 'rate_limited' | 'rejected' | 'unexpected';

export const BANK_ERROR_KINDS: readonly BankErrorKind[] = [
  'transient',
  'timeout',
  'unavailable',
  'unreachable',
  'misconfigured',
  'token_invalid',
  'consent_invalid',
  'rate_limited',
  'rejected',
  'unexpected',
];

/**
 * Why, in one word an operator can alert on (`bank_errors_total{cause}`). Finer than the kind: a
 * `misconfigured` error says which credential the bank refused, an `unreachable` one how the
 * connection failed.
 */
export type BankFailureCause =
  | 'server_error'
  | 'timeout'
  | 'deadline_exceeded'
  | 'connection_failed'
  | 'connection_refused'
  | 'dns_failure'
  | 'connect_timeout'
  | 'tls_refused'
  | 'circuit_open'
  | 'subscription_key_refused'
  | 'refused_without_reason'
  | 'client_auth_failed'
  | 'certificate_refused'
  | 'token_request_refused'
  | 'token_refused_after_refresh'
  | 'token_endpoint_rate_limited'
  | 'rate_limited'
  | 'grant_refused'
  | 'token_invalid'
  | 'consent_invalid'
  | 'rejected'
  | 'unexpected';

export interface TppMessage {
  category?: string;
  code: string;
  text?: string;
  path?: string;
}

export interface BankErrorDetails {
  status?: number;
  bankCode?: string;
  tppMessages?: TppMessage[];
  retryAfterSeconds?: number;
  oauthError?: string;
  /** The cause for metrics and logs; defaults to one per kind (see `causeOf`). */
  cause?: BankFailureCause;
}

export class BankError extends Error {
  override readonly name = 'BankError';

  constructor(
    readonly aspspId: string,
    readonly kind: BankErrorKind,
    message: string,
    readonly details: BankErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The failure's cause for metrics: the one given, else the kind's own. */
  get failureCause(): BankFailureCause {
    return this.details.cause ?? DEFAULT_CAUSE[this.kind];
  }
}

const DEFAULT_CAUSE: Readonly<Record<BankErrorKind, BankFailureCause>> = {
  transient: 'server_error',
  timeout: 'timeout',
  unavailable: 'circuit_open',
  unreachable: 'connection_refused',
  misconfigured: 'client_auth_failed',
  token_invalid: 'token_invalid',
  consent_invalid: 'consent_invalid',
  rate_limited: 'rate_limited',
  rejected: 'rejected',
  unexpected: 'unexpected',
};
