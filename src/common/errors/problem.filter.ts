import { ArgumentsHost, Catch, HttpException, HttpStatus, Logger, type ExceptionFilter } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BankError } from '../../aspsp/bank-error.js';
import { databaseUnavailability } from '../../database/database-errors.js';
import { AppError } from './app-error.js';
import { bankProblem } from './bank-problem.js';
import type { ErrorCode } from './error-codes.js';
import { problem, sendProblem, type Problem } from './problem.js';

const STATUS_CODES: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'unprocessable',
  429: 'rate_limited',
  503: 'service_unavailable',
};

/**
 * Errors raised while a body is read carry a `type` and a `status`, not an HttpException: the
 * pipeline's own parsers (configure-app.ts) raise them as Express's body-parser did.
 */
interface BodyParserError {
  type: string;
  status: number;
}

const isBodyParserError = (e: unknown): e is BodyParserError =>
  typeof e === 'object' && e !== null && typeof (e as BodyParserError).type === 'string' && typeof (e as BodyParserError).status === 'number';

const logger = new Logger('Errors');

/**
 * Retry-After for `database_unavailable`: a restart or fail-over takes seconds, and a client that
 * comes back sooner only adds to the queue a recovering server has to work through.
 */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/**
 * Every error leaves the service as RFC 9457 problem+json with a stable `code`: domain errors
 * (`AppError`) with their own code, bank failures (`BankError`) with the code of their kind and
 * the bank named, and `Retry-After` whenever the error says when to try again. Unknown errors
 * become a 500 whose detail is only the request id: never a stack trace, a message from a driver,
 * or anything that may hold a secret.
 */
@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const ctx = host.switchToHttp();
    const req = ctx.getRequest<FastifyRequest>();
    const res = ctx.getResponse<FastifyReply>();
    if (res.sent || res.raw.headersSent) return;
    const requestId = typeof req.id === 'string' || typeof req.id === 'number' ? String(req.id) : undefined;
    const retryAfter = retryAfterOf(exception);
    sendProblem(res, this.toProblem(exception, requestId), retryAfter === undefined ? {} : { 'Retry-After': String(retryAfter) });
  }

  toProblem(exception: unknown, requestId?: string): Problem {
    return toProblem(exception, requestId);
  }
}

/** Seconds the client should wait before trying again, when the error says (the bank, the breaker or our own limits). */
export function retryAfterOf(exception: unknown): number | undefined {
  if (!(exception instanceof AppError) && !(exception instanceof BankError) && databaseUnavailability(exception)) return DATABASE_RETRY_AFTER_SECONDS;
  const seconds =
    exception instanceof AppError ? exception.extensions.retryAfterSeconds : exception instanceof BankError ? exception.details.retryAfterSeconds : undefined;
  return typeof seconds === 'number' && seconds > 0 ? Math.ceil(seconds) : undefined;
}

/**
 * The problem+json body for any error, as the filter sends it. Also used where an answer is
 * stored to be replayed (a payment's first answer for its Idempotency-Key), with `extensions`
 * added, so a replay is exactly what the filter answered the first time.
 */
export function toProblem(exception: unknown, requestId?: string, extensions: Record<string, unknown> = {}): Problem {
  if (exception instanceof AppError) {
    if (exception.status >= 500) logger.warn({ code: exception.code, detail: exception.detail, requestId }, 'request failed upstream');
    return problem(exception.code, { detail: exception.detail, status: exception.status, requestId, extensions: { ...exception.extensions, ...extensions } });
  }
  if (exception instanceof BankError) {
    const bank = bankProblem(exception);
    logger.warn(
      {
        code: bank.code,
        aspspId: exception.aspspId,
        kind: exception.kind,
        bankStatus: exception.details.status,
        bankCode: exception.details.bankCode,
        requestId,
      },
      'bank call failed',
    );
    return problem(bank.code, { detail: bank.detail, requestId, extensions: { ...bank.extensions, ...extensions } });
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const code = STATUS_CODES[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed');
    return problem(code, { status, detail: httpExceptionDetail(exception), requestId });
  }
  if (isUndecodable(exception)) {
    return problem('validation_failed', {
      detail: 'The request body could not be decoded: it does not match its Content-Encoding',
      requestId,
      extensions: { errors: [{ field: 'header:Content-Encoding', message: 'does not match the body' }] },
    });
  }
  const fastifyProblem = fastifyBodyProblem(exception, requestId);
  if (fastifyProblem) return fastifyProblem;
  if (isBodyParserError(exception)) {
    if (exception.type === 'entity.too.large') return problem('payload_too_large', { requestId });
    if (exception.type === 'entity.parse.failed') return problem('malformed_json', { requestId });
    if (exception.type === 'encoding.unsupported' || exception.type === 'charset.unsupported') return problem('unsupported_media_type', { requestId });
    return problem('validation_failed', { status: exception.status < 500 ? exception.status : 400, detail: 'The request body could not be read', requestId });
  }
  const unavailable = databaseUnavailability(exception);
  if (unavailable) {
    // Not a bug: the request may be sent again. The reason is a code (SQLSTATE, errno), never the driver's text.
    logger.warn({ code: 'database_unavailable', reason: unavailable, requestId }, 'request failed: the database is unavailable');
    return problem('database_unavailable', { requestId, extensions: { retryAfterSeconds: DATABASE_RETRY_AFTER_SECONDS, ...extensions } });
  }
  logger.error({ err: exception, requestId }, 'unhandled error');
  return problem('internal_error', { status: HttpStatus.INTERNAL_SERVER_ERROR, detail: 'An unexpected error occurred', requestId });
}

/** A body that does not decode under its own Content-Encoding (configure-app.ts): the client's mistake, never a 500. */
const isUndecodable = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { undecodable?: unknown }).undecodable === true;

/**
 * Fastify's own refusals while it reads a body (`FST_ERR_CTP_…`): too large, a media type no
 * parser takes, a Content-Length the body does not match.
 */
function fastifyBodyProblem(exception: unknown, requestId?: string): Problem | undefined {
  const { code, statusCode } = (exception ?? {}) as { code?: unknown; statusCode?: unknown };
  if (typeof code !== 'string' || !code.startsWith('FST_') || typeof statusCode !== 'number') return undefined;
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return problem('payload_too_large', { requestId });
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return problem('unsupported_media_type', { requestId });
  if (statusCode >= 500) return undefined;
  return problem('validation_failed', { status: statusCode, detail: 'The request body could not be read', requestId });
}

function httpExceptionDetail(exception: HttpException): string | undefined {
  const response = exception.getResponse();
  if (typeof response === 'string') return response;
  const message = (response as { message?: unknown }).message;
  if (typeof message === 'string') return message;
  if (Array.isArray(message)) return message.join('; ');
  return undefined;
}
