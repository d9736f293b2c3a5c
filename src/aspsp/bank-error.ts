import { AppError } from '../common/errors/app-error.js';

/**
 * What went wrong at a bank, as a kind the caller can act on without parsing text:
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

  /** The problem+json the frontend sees: which bank, what kind, the bank's own code, no secrets. */
  toAppError(): AppError {
    const extensions = {
      aspspId: this.aspspId,
      bankErrorKind: this.kind,
      ...(this.details.bankCode ? { bankCode: this.details.bankCode } : {}),
      ...(this.details.tppMessages ? { tppMessages: this.details.tppMessages.map(({ category, code, text, path }) => ({ category, code, text, path })) } : {}),
      ...(this.details.retryAfterSeconds ? { retryAfterSeconds: this.details.retryAfterSeconds } : {}),
    };
    const detail = `${this.aspspId}: ${this.message}`;
    switch (this.kind) {
      case 'timeout':
        return new AppError('bank_timeout', detail, extensions);
      case 'unavailable':
      case 'transient':
        return new AppError('bank_unavailable', detail, extensions);
      case 'rate_limited':
        return new AppError('rate_limited', detail, extensions);
      case 'rejected':
        return new AppError('bank_error', detail, extensions, { status: 422 });
      case 'token_invalid':
      case 'consent_invalid':
        return new AppError('conflict', detail, extensions);
      case 'unexpected':
        return new AppError('bank_error', detail, extensions);
      default: {
        const unreachable: never = this.kind;
        return unreachable;
      }
    }
  }
}
