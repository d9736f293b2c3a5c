import {
  ForbiddenException,
  Logger,
  MethodNotAllowedException,
  NotFoundException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnprocessableEntityException,
  type ArgumentsHost,
} from '@nestjs/common';
import { BankError, type BankErrorKind } from '../../src/aspsp/bank-error.js';
import { AppError } from '../../src/common/errors/app-error.js';
import { BANK_ERROR_CODES } from '../../src/common/errors/bank-problem.js';
import { ERROR_CATALOGUE, ERROR_CODES, type ErrorCode } from '../../src/common/errors/error-codes.js';
import { ProblemFilter } from '../../src/common/errors/problem.filter.js';
import { QueryFailedError } from 'typeorm';
import { consentNotUsable } from '../../src/modules/ais/consent-errors.js';
import type { AisConsent } from '../../src/modules/ais/consent.entity.js';
import {
  bankIdentityConflict,
  connectionNotUsable,
  notReauthorizable,
  reauthRequired,
  serviceNotGranted,
} from '../../src/modules/connections/connection-errors.js';

const bank = (kind: BankErrorKind, details: BankError['details'] = {}) => new BankError('flowe', kind, `the bank failed (${kind})`, details);
const consent = (status: AisConsent['status']) => ({ id: 'c-1', aspspId: 'flowe', status }) as AisConsent;
const bodyParser = (type: string, status: number) => Object.assign(new Error(type), { type, status });

/**
 * One real way to reach each code: the error a service, guard, pipe, body parser or bank call
 * really throws. A code added to the catalogue without an entry here fails the walk below.
 */
const TRIGGERS: Record<ErrorCode, unknown> = {
  validation_failed: AppError.validation([{ field: 'returnUrl', message: 'is not on the allowed return URL list' }]),
  malformed_json: bodyParser('entity.parse.failed', 400),
  unauthenticated: new UnauthorizedException(),
  forbidden: new ForbiddenException(),
  not_found: new NotFoundException(),
  method_not_allowed: new MethodNotAllowedException(),
  reauth_required: reauthRequired('flowe'),
  connection_not_active: connectionNotUsable({ status: 'revoked', aspspId: 'flowe' }),
  connection_not_reauthorizable: notReauthorizable({ status: 'revoked', aspspId: 'flowe' }),
  service_not_granted: serviceNotGranted({ services: ['ais'], aspspId: 'flowe' }, 'pis'),
  bank_identity_conflict: bankIdentityConflict('flowe'),
  reconsent_required: consentNotUsable(consent('revokedByPsu')),
  consent_not_valid: consentNotUsable(consent('received')),
  idempotency_key_in_flight: new AppError('idempotency_key_in_flight', 'still running', { retryAfterSeconds: 1 }),
  payment_not_cancellable: new AppError('payment_not_cancellable', 'settled', { paymentStatus: 'ACSC' }),
  webhook_not_configured: new AppError('webhook_not_configured', 'Nothing to replay to: no webhook is configured'),
  payload_too_large: bodyParser('entity.too.large', 413),
  unsupported_media_type: bodyParser('charset.unsupported', 415),
  unprocessable: new UnprocessableEntityException(),
  idempotency_key_reused: new AppError('idempotency_key_reused'),
  bank_rejected: bank('rejected', { status: 400, bankCode: 'FORMAT_ERROR', tppMessages: [{ category: 'ERROR', code: 'FORMAT_ERROR', text: 'bad' }] }),
  rate_limited: new AppError('rate_limited', 'too many streams', { retryAfterSeconds: 5 }),
  internal_error: new Error('a bug'),
  bank_error: bank('unexpected'),
  service_unavailable: new ServiceUnavailableException(),
  database_unavailable: new QueryFailedError('SELECT 1', [], new Error('Query read timeout')),
  bank_unavailable: bank('unavailable', { retryAfterSeconds: 10 }),
  bank_rate_limited: bank('rate_limited', { status: 429, bankCode: 'ACCESS_EXCEEDED', retryAfterSeconds: 30 }),
  bank_timeout: bank('timeout'),
};

/** Runs the filter as Nest does, on a Fastify reply that records what is sent. */
function answer(exception: unknown): { status: number; headers: Record<string, string>; body: Record<string, unknown> } {
  const sent = { status: 0, headers: {} as Record<string, string>, body: {} as Record<string, unknown> };
  const res = {
    sent: false,
    raw: { headersSent: false },
    code(code: number) {
      sent.status = code;
      return this;
    },
    headers(headers: Record<string, string>) {
      Object.assign(sent.headers, headers);
      return this;
    },
    send: (text: string) => void (sent.body = JSON.parse(text) as Record<string, unknown>),
  };
  const host = { switchToHttp: () => ({ getRequest: () => ({ id: 'req-1' }), getResponse: () => res }) } as unknown as ArgumentsHost;
  new ProblemFilter().catch(exception, host);
  return sent;
}

describe('the error catalogue', () => {
  // The filter logs bank failures and unknown errors; here they are expected.
  beforeAll(() => Logger.overrideLogger(false));
  it.each(ERROR_CODES)('%s has a status, a title, and the filter answers it', (code) => {
    const entry = ERROR_CATALOGUE[code];
    expect(entry.status).toBeGreaterThanOrEqual(400);
    expect(entry.status).toBeLessThan(600);
    expect(entry.title.length).toBeGreaterThan(5);
    expect(TRIGGERS[code]).toBeDefined();
    const sent = answer(TRIGGERS[code]);
    expect(sent.status).toBe(entry.status);
    expect(sent.body).toMatchObject({
      code,
      status: entry.status,
      title: entry.title,
      type: `https://tpp-bff.dev/problems/${code.replace(/_/g, '-')}`,
      requestId: 'req-1',
    });
  });

  it('answers every kind of bank failure with a code of the catalogue, naming the bank', () => {
    for (const kind of Object.keys(BANK_ERROR_CODES) as BankErrorKind[]) {
      const sent = answer(bank(kind));
      expect(sent.body).toMatchObject({ code: BANK_ERROR_CODES[kind], aspspId: 'flowe', bankErrorKind: kind, detail: expect.stringMatching(/^flowe: /) });
      expect(ERROR_CODES).toContain(sent.body.code);
    }
  });

  it('sends Retry-After when the bank, the breaker or our own limit says when to try again', () => {
    expect(answer(TRIGGERS.bank_rate_limited).headers['Retry-After']).toBe('30');
    expect(answer(TRIGGERS.bank_unavailable).headers['Retry-After']).toBe('10');
    expect(answer(TRIGGERS.rate_limited).headers['Retry-After']).toBe('5');
    expect(answer(TRIGGERS.database_unavailable).headers['Retry-After']).toBe('5');
    expect(answer(TRIGGERS.bank_timeout).headers['Retry-After']).toBeUndefined();
  });

  it('keeps the extension fields the frontend acts on', () => {
    expect(answer(TRIGGERS.reauth_required).body).toMatchObject({ connectionStatus: 'reauth_required', reauthRequired: true, aspspId: 'flowe' });
    expect(answer(TRIGGERS.connection_not_active).body).toMatchObject({ connectionStatus: 'revoked', reauthRequired: false });
    expect(answer(TRIGGERS.reconsent_required).body).toMatchObject({ consentStatus: 'revokedByPsu', reconsentRequired: true, aspspId: 'flowe' });
    expect(answer(TRIGGERS.consent_not_valid).body).toMatchObject({ consentStatus: 'received', reconsentRequired: false });
    expect(answer(TRIGGERS.service_not_granted).body).toMatchObject({ requiredService: 'pis', services: ['ais'] });
    expect(answer(TRIGGERS.bank_rejected).body).toMatchObject({
      bankCode: 'FORMAT_ERROR',
      tppMessages: [{ category: 'ERROR', code: 'FORMAT_ERROR', text: 'bad' }],
    });
    expect(answer(bank('token_invalid')).body).toMatchObject({ code: 'reauth_required', reauthRequired: true });
    expect(answer(bank('consent_invalid')).body).toMatchObject({ code: 'reconsent_required', reconsentRequired: true });
  });

  it('answers the database being unavailable with a 503 that says nothing of the driver', () => {
    const cancelled = Object.assign(new Error('canceling statement due to statement timeout: SELECT secret_column'), { code: '57014' });
    const sent = answer(new QueryFailedError('SELECT secret_column FROM payments', [], cancelled));
    expect(sent.status).toBe(503);
    expect(sent.body).toMatchObject({ code: 'database_unavailable', retryAfterSeconds: 5 });
    expect(JSON.stringify(sent.body)).not.toContain('secret_column');
  });

  it('never lets an unknown error say more than the request id', () => {
    const sent = answer(new Error('password=hunter2 at db.query'));
    expect(sent.body).toEqual(expect.objectContaining({ code: 'internal_error', detail: 'An unexpected error occurred' }));
    expect(JSON.stringify(sent.body)).not.toContain('hunter2');
  });
});
