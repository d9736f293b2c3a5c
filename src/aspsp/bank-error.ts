/**
 * What went wrong at a bank, as a kind the caller can act on without parsing text (the scheduler
 * backs off by kind; the problem filter answers each kind with its own code, see bank-problem.ts):
 * - `transient`: 5xx, reset, timeout on a read: back off and try again later;
 * - `timeout`: no answer in time (for a payment initiation the outcome is unknown);
 * - `unavailable`: the circuit is open or the bank refused the connection;
 * - `token_invalid`: the bank refused our token (401) or refresh token (`invalid_grant`);
 * - `consent_invalid`: CONSENT_INVALID / CONSENT_EXPIRED / CONSENT_UNKNOWN / revoked;
 * - `rate_limited`: 429 (e.g. ACCESS_EXCEEDED);
 * - `rejected`: the bank refused the request itself (4xx with tppMessages);
 * - `unexpected`: anything we cannot interpret.
 */
export type BankErrorKind = 'transient' | 'timeout' | 'unavailable' | 'token_invalid' | 'consent_invalid' | 'rate_limited' | 'rejected' | 'unexpected';

export interface TppMessage {
  category?: string;
  code: string;
  text?: string;
  path?: string;
}

export class BankError extends Error {
  override readonly name = 'BankError';

  constructor(
    readonly aspspId: string,
    readonly kind: BankErrorKind,
    message: string,
    readonly details: { status?: number; bankCode?: string; tppMessages?: TppMessage[]; retryAfterSeconds?: number; oauthError?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
