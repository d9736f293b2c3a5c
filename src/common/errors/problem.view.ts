import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse, getSchemaPath } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger';
import { BANK_ERROR_KINDS } from '../../aspsp/bank-error.js';
import { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode } from './error-codes.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

const CATALOGUE_TABLE = ERROR_CODES.map((code) => `- \`${code}\` (${ERROR_CATALOGUE[code].status}): ${ERROR_CATALOGUE[code].title}`).join('\n');

export class FieldErrorView {
  @ApiProperty({ example: 'instructedAmount.amount' }) field!: string;
  @ApiProperty() message!: string;
}

export class TppMessageView {
  @ApiPropertyOptional() category?: string;
  @ApiProperty({ example: 'CONSENT_INVALID' }) code!: string;
  @ApiPropertyOptional() text?: string;
  @ApiPropertyOptional() path?: string;
}

/**
 * Every error the API answers (RFC 9457 `application/problem+json`). The frontend switches on
 * `code`; the extension fields present depend on it. Registered as an extra model so the whole
 * catalogue is in the OpenAPI document even where a route does not list it.
 */
export class ProblemDetails {
  @ApiProperty({ example: 'https://tpp-bff.dev/problems/validation-failed' }) type!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status' }) status!: number;
  @ApiProperty({ enum: ERROR_CODES, enumName: 'ErrorCode', description: `What went wrong, stable for the frontend to switch on:\n${CATALOGUE_TABLE}` })
  code!: ErrorCode;
  @ApiPropertyOptional({ description: 'For a person; a bank failure names the bank first (`flowe: …`)' }) detail?: string;
  @ApiPropertyOptional({ description: 'X-Request-ID of the request, to find it in the logs' }) requestId?: string;
  @ApiPropertyOptional({ type: [FieldErrorView], description: '`validation_failed`: every bad field' }) errors?: FieldErrorView[];
  @ApiPropertyOptional({ description: 'The bank concerned (bank failures, consents, connections)' }) aspspId?: string;
  @ApiPropertyOptional({
    enum: BANK_ERROR_KINDS,
    description:
      'Bank failures: what kind (`unreachable`: the request never reached the bank; `misconfigured`: the bank refused our credentials, the grant stands)',
  })
  bankErrorKind?: string;
  @ApiPropertyOptional({
    description: 'Bank failures: the cause, e.g. `subscription_key_refused`, `client_auth_failed`, `tls_refused`, `token_endpoint_rate_limited`',
  })
  bankErrorCause?: string;
  @ApiPropertyOptional({ description: "The bank's own code, e.g. CONSENT_INVALID" }) bankCode?: string;
  @ApiPropertyOptional({ type: [TppMessageView], description: "The bank's tppMessages" }) tppMessages?: TppMessageView[];
  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'Also sent as the Retry-After header' }) retryAfterSeconds?: number;
  @ApiPropertyOptional({ description: '`reauth_required`, `connection_not_active`: the connection status' }) connectionStatus?: string;
  @ApiPropertyOptional({ description: 'True: the user must connect the bank again' }) reauthRequired?: boolean;
  @ApiPropertyOptional({ description: '`reconsent_required`, `consent_not_valid`: the consent status' }) consentStatus?: string;
  @ApiPropertyOptional({ description: 'True: ask the user for a new consent' }) reconsentRequired?: boolean;
  @ApiPropertyOptional({ description: '`service_not_granted`: the service the route needs' }) requiredService?: string;
  @ApiPropertyOptional({ format: 'uuid', description: 'Payments: the payment concerned' }) paymentId?: string;
  @ApiPropertyOptional({ description: 'Payments: its status now (e.g. `unknown` after a bank timeout, `RJCT`, `failed` when the bank could not be reached)' })
  paymentStatus?: string;
  @ApiPropertyOptional({ description: 'Payments: true when the same request with the same Idempotency-Key may be sent again (nothing reached the bank)' })
  retryable?: boolean;
}

/**
 * The schema of one problem answer: ProblemDetails with `code` narrowed to the codes this route
 * answers with this status, so a generated client (and the contract test) knows exactly which.
 */
export function problemSchema(status: number, codes: readonly ErrorCode[]): SchemaObject {
  return {
    allOf: [{ $ref: getSchemaPath(ProblemDetails) }],
    properties: { status: { type: 'integer', enum: [status] }, code: { type: 'string', enum: [...codes] } },
  };
}

/** Documents the problem answers a route can give: one response per status, listing its codes. */
export function ApiProblems(...codes: ErrorCode[]): MethodDecorator & ClassDecorator {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) byStatus.set(ERROR_CATALOGUE[code].status, [...(byStatus.get(ERROR_CATALOGUE[code].status) ?? []), code]);
  return applyDecorators(
    ...[...byStatus].map(([status, listed]) =>
      ApiResponse({
        status,
        description: listed.map((code) => `\`${code}\`: ${ERROR_CATALOGUE[code].title}`).join('; '),
        content: { [PROBLEM_CONTENT_TYPE]: { schema: problemSchema(status, listed) } },
      }),
    ),
  );
}

/** What every route that calls a bank may answer when the bank fails. */
export const BANK_FAILURES: readonly ErrorCode[] = ['reauth_required', 'bank_rejected', 'bank_error', 'bank_unavailable', 'bank_rate_limited', 'bank_timeout'];
