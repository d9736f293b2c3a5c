import { HttpStatus } from '@nestjs/common';

/**
 * The stable error codes of the API, with their HTTP status and title. The frontend switches on
 * `code`; titles are for humans. A new code goes here first (it is then in the OpenAPI document's
 * `ProblemDetails.code` enum); docs/design.md, "Errors", says when each is answered.
 */
export const ERROR_CATALOGUE = {
  validation_failed: { status: HttpStatus.BAD_REQUEST, title: 'The request is invalid' },
  malformed_json: { status: HttpStatus.BAD_REQUEST, title: 'The request body is not valid JSON' },
  unauthenticated: { status: HttpStatus.UNAUTHORIZED, title: 'A valid user token is required' },
  forbidden: { status: HttpStatus.FORBIDDEN, title: 'This action is not allowed' },
  not_found: { status: HttpStatus.NOT_FOUND, title: 'Not found' },
  method_not_allowed: { status: HttpStatus.METHOD_NOT_ALLOWED, title: 'Method not allowed' },
  reauth_required: { status: HttpStatus.CONFLICT, title: 'The bank needs the user to log in again' },
  connection_not_active: { status: HttpStatus.CONFLICT, title: 'The connection is not active' },
  connection_not_reauthorizable: { status: HttpStatus.CONFLICT, title: 'The connection cannot be logged in again' },
  service_not_granted: { status: HttpStatus.CONFLICT, title: 'The connection was made without the service this needs' },
  bank_identity_conflict: { status: HttpStatus.CONFLICT, title: "The bank accounts behind this connection are another user's connection" },
  reconsent_required: { status: HttpStatus.CONFLICT, title: 'The consent has ended: the user must consent again' },
  consent_not_valid: { status: HttpStatus.CONFLICT, title: 'The consent cannot be used now' },
  idempotency_key_in_flight: { status: HttpStatus.CONFLICT, title: 'A request with this Idempotency-Key is still being processed' },
  payment_not_cancellable: { status: HttpStatus.CONFLICT, title: 'The payment can no longer be cancelled' },
  webhook_not_configured: { status: HttpStatus.CONFLICT, title: 'No webhook endpoint is configured for this event' },
  payload_too_large: { status: HttpStatus.PAYLOAD_TOO_LARGE, title: 'The request body is too large' },
  unsupported_media_type: { status: HttpStatus.UNSUPPORTED_MEDIA_TYPE, title: 'The request body must be application/json' },
  unprocessable: { status: HttpStatus.UNPROCESSABLE_ENTITY, title: 'The request cannot be processed' },
  idempotency_key_reused: { status: HttpStatus.UNPROCESSABLE_ENTITY, title: 'This Idempotency-Key was already used for a different request' },
  bank_rejected: { status: HttpStatus.UNPROCESSABLE_ENTITY, title: 'The bank refused the request' },
  rate_limited: { status: HttpStatus.TOO_MANY_REQUESTS, title: 'Too many requests' },
  internal_error: { status: HttpStatus.INTERNAL_SERVER_ERROR, title: 'Internal error' },
  bank_error: { status: HttpStatus.BAD_GATEWAY, title: 'The bank answered with an error' },
  service_unavailable: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'The service is not ready' },
  database_unavailable: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'Our database is unavailable; try again shortly' },
  bank_unavailable: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'The bank is unavailable' },
  bank_rate_limited: { status: HttpStatus.SERVICE_UNAVAILABLE, title: 'The bank asks us to slow down' },
  bank_timeout: { status: HttpStatus.GATEWAY_TIMEOUT, title: 'The bank did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export const ERROR_CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];
