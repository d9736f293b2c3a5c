import { ERROR_CATALOGUE, type ErrorCode } from './error-codes.js';

export interface FieldError {
  /** Dotted path of the offending field, e.g. `instructedAmount.amount` or `header:Idempotency-Key`. */
  field: string;
  message: string;
}

/**
 * The one base class of domain errors. Services throw these; the problem filter turns them into
 * RFC 9457 problem+json. `detail` is shown to the client, so it never carries a secret.
 */
export class AppError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extensions: Record<string, unknown> = {},
    options?: { cause?: unknown; status?: number },
  ) {
    super(detail ?? ERROR_CATALOGUE[code].title, options?.cause === undefined ? undefined : { cause: options.cause });
    this.status = options?.status ?? ERROR_CATALOGUE[code].status;
  }

  static validation(errors: FieldError[]): AppError {
    const detail = errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    return new AppError('validation_failed', detail, { errors });
  }

  static notFound(what: string): AppError {
    return new AppError('not_found', `${what} not found`);
  }
}
