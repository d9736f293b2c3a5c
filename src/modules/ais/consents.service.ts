import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError, type BankErrorKind } from '../../aspsp/bank-error.js';
import type { ConsentTerms } from '../../aspsp/berlin-group/ais.js';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { SingleFlight } from '../../common/concurrency/single-flight.js';
import { AppError } from '../../common/errors/app-error.js';
import { bankProblem } from '../../common/errors/bank-problem.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import { appConfig } from '../../config/app.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { BankTokensService } from '../connections/bank-tokens.service.js';
import { connectionNotUsable, serviceNotGranted } from '../connections/connection-errors.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { AisBank, bankConsentIdOf } from './ais-bank.js';
import { consentNotUsable } from './consent-errors.js';
import type { AisConsent } from './consent.entity.js';
import { isEnded } from './consent-status.js';
import { ConsentStore } from './consent.store.js';

/**
 * Bank failures after which the bank holds no new consent: it refused the request (4xx, 429), said
 * it could not handle it (503: "unable to handle the request", RFC 9110 15.6.4), or no request reached
 * it (open circuit, refused connection). Anything else (a timeout, 500, 502, 504, a reset, an answer
 * we cannot read) may have created one.
 */
const NOTHING_CREATED: ReadonlySet<BankErrorKind> = new Set([
  'rejected',
  'consent_invalid',
  'rate_limited',
  'token_invalid',
  'unavailable',
  'unreachable',
  'misconfigured',
]);

function nothingCreated(error: unknown): boolean {
  if (error instanceof AppError) return true;
  if (!(error instanceof BankError)) return false;
  return NOTHING_CREATED.has(error.kind) || (error.kind === 'transient' && error.details.status === 503);
}

/**
 * A `pending` row older than this belongs to a process that died mid-call. Generous, as for
 * payments: the call may refresh the token, be refused with a 401, refresh again and retry.
 */
export function creationStaleAfterMs(adapter: AspspAdapter): number {
  return 10 * adapter.bank.timeoutMs + 5_000;
}

export interface PollOutcome {
  final: boolean;
  status: string;
  nextPollAt?: Date;
}

/**
 * AIS consents: creation within each bank's rules, journaled like a payment; status (as last
 * polled, or asked once); deletion. User-facing methods are scoped by user (another user's id is
 * not found); `pollStatus` and `expireUnapproved` are the scheduler's, addressed by consent id alone.
 */
@Injectable()
export class ConsentsService {
  private readonly logger = new Logger(ConsentsService.name);
  private readonly flights = new SingleFlight();

  constructor(
    private readonly consents: ConsentStore,
    private readonly connections: ConnectionsService,
    private readonly aspsps: AspspRegistry,
    private readonly tokens: BankTokensService,
    private readonly bank: AisBank,
    private readonly metrics: BankMetrics,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  /** Housekeeping: announces (`consent.expiring`, once each) the valid consents whose last day is within EXPIRY_WARNING_DAYS. */
  async announceExpiring(now: Date): Promise<void> {
    const announced = await this.consents.announceExpiring(now, utcDate(now.getTime() + this.app.expiryWarningMs));
    if (announced > 0) this.logger.log({ announced }, 'consents about to end announced');
  }

  /**
   * Asks the bank for a consent on the user's connection. The bank's rules are checked first (a 400
   * naming each broken rule, and no bank call); the PSU's IP goes with the request. The consent is
   * committed `pending` before the bank is called, then stored as the bank answered (normally
   * `received`, and queued for status polling). When the bank may have created it without telling
   * us (timeout, 500, 502, 504, reset), it stays `unknown`, announced and counted, and the answer is
   * the bank's 5xx with `consentId` and `consentStatus: "unknown"`; when it did not, the row is dropped.
   */
  async create(userId: string, connectionId: string, requested: Partial<ConsentTerms>, psuIpAddress: string | undefined): Promise<AisConsent> {
    const connection = await this.connections.get(userId, connectionId);
    if (!connection.services.includes('ais')) throw serviceNotGranted(connection, 'ais');
    if (connection.status !== 'active') throw connectionNotUsable(connection);
    const adapter = this.aspsps.get(connection.aspspId);
    const today = utcDate();
    const terms = adapter.consentTerms(requested, today);
    const errors = adapter.validateConsent(terms, today);
    if (errors.length > 0) throw AppError.validation(errors);
    const reserved = await this.consents.reserve(
      {
        userId,
        connectionId: connection.id,
        aspspId: connection.aspspId,
        validUntil: terms.validUntil,
        frequencyPerDay: terms.frequencyPerDay,
        recurringIndicator: terms.recurringIndicator,
        budgetBlockedUntil: null,
        accountsFetchedAt: null,
        statusChangedAt: new Date(),
      },
      new Date(Date.now() + creationStaleAfterMs(adapter)),
    );
    let created: Awaited<ReturnType<typeof adapter.ais.createConsent>>;
    let sent = false;
    try {
      created = await this.tokens.withAccessToken(connection, (token) => {
        sent = true;
        return adapter.ais.createConsent(token, adapter.consentBody(terms), psuIpAddress);
      });
    } catch (error) {
      throw await this.creationFailed(reserved, error, sent);
    }
    return this.consents.recordCreated(reserved.id, created.consentId, created.status);
  }

  /** What a failed creation leaves behind; returns the error to answer with. `sent`: the consent request was attempted. */
  private async creationFailed(reserved: AisConsent, error: unknown, sent: boolean): Promise<unknown> {
    if (!sent || nothingCreated(error)) {
      await this.consents.discard(reserved.id);
      return error;
    }
    const reason = error instanceof BankError ? (error.kind === 'timeout' ? 'bank_timeout' : 'bank_error') : 'interrupted';
    const unknown = await this.consents.recordUnknown(reserved.id, reason);
    this.logger.warn({ consentId: unknown.id, aspspId: unknown.aspspId, reason }, 'consent creation outcome unknown: recorded, never re-sent');
    if (!(error instanceof BankError)) return error;
    const problem = bankProblem(error);
    return new AppError(
      problem.code,
      `${problem.detail}; the consent request is recorded as unknown`,
      { ...problem.extensions, consentId: unknown.id, consentStatus: unknown.status },
      { cause: error },
    );
  }

  list(userId: string, connectionId?: string): Promise<AisConsent[]> {
    return this.consents.list(userId, connectionId, 200);
  }

  /** The user's consent as last known (expired once its validUntil has passed); `refresh` asks the bank once first. */
  async get(userId: string, consentId: string, refresh = false): Promise<AisConsent> {
    const consent = await this.owned(userId, consentId);
    if (refresh && !isEnded(consent.status) && consent.bankConsentId !== null) return this.askBank(consent);
    return this.consents.expireIfDue(consent);
  }

  /** The user's consent if it can be read through now; otherwise 409 with its status and `reconsentRequired`. */
  async requireValid(userId: string, consentId: string): Promise<AisConsent> {
    return this.requireUsable(await this.owned(userId, consentId));
  }

  /** The same for a consent the caller has just read with its owner check (`AccountStore.storedAccounts`). */
  async requireUsable(owned: AisConsent): Promise<AisConsent> {
    const consent = await this.consents.expireIfDue(owned);
    if (consent.status !== 'valid') throw consentNotUsable(consent);
    return consent;
  }

  /**
   * Ends the consent at the bank (`DELETE`, the bank then reports `terminatedByTpp`) and here. An
   * already ended consent is left as it is; a bank that no longer knows the consent does not stop
   * us forgetting it, nor does an `unknown` one without the bank's id (there is nothing to address).
   * A bank failure changes nothing (5xx naming the bank): try again. A consent still being created
   * (`pending`, seconds) is a 409.
   */
  async terminate(userId: string, consentId: string): Promise<AisConsent> {
    const consent = await this.owned(userId, consentId);
    if (isEnded(consent.status)) return consent;
    if (consent.status === 'pending') throw consentNotUsable(consent);
    if (consent.bankConsentId === null) return this.consents.move(consent.id, 'terminatedByTpp', 'bank_id_unknown');
    try {
      await this.bank.raw(consent, (ais, token) => ais.deleteConsent(token, bankConsentIdOf(consent)));
    } catch (error) {
      if (!(error instanceof BankError)) throw error;
      if (error.kind !== 'consent_invalid') throw error;
      this.logger.warn({ consentId, aspspId: consent.aspspId, bankCode: error.details.bankCode }, 'bank no longer knows the consent it was asked to delete');
    }
    return this.consents.move(consent.id, 'terminatedByTpp', null);
  }

  /** Ends every open consent of a connection (before the connection is revoked); a failure is the caller's to log. */
  async terminateOpen(userId: string, connectionId: string): Promise<void> {
    for (const consent of await this.consents.openForConnection(userId, connectionId)) await this.terminate(userId, consent.id);
  }

  /**
   * For the scheduler (`consent` items): one step towards a settled consent, recording any change
   * with its outbox event. `final` means no more status polling is needed.
   * - `pending`: its creation is in flight; once past the stale time its process is presumed dead
   *   and the consent becomes `unknown`;
   * - `received`, or `unknown` with the bank's id: the bank is asked for the status (past the
   *   approval deadline, an unapproved consent is withdrawn and expires);
   * - `unknown` without an id: nothing can be asked; it stays `unknown` (final: no more polling).
   * Bank failures are thrown as `BankError` (the scheduler backs off by kind); a consent that no
   * longer exists is an `AppError` not_found.
   */
  async pollStatus(consentId: string, deadlinePassed = false): Promise<PollOutcome> {
    const consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    if (consent.status === 'pending') return this.settleIfAbandoned(consent);
    if (consent.status === 'unknown' && consent.bankConsentId === null) return { final: true, status: 'unknown' };
    if (isEnded(consent.status) || consent.status === 'valid') return { final: true, status: consent.status };
    if (deadlinePassed) return this.expireUnapproved(consentId);
    const now = await this.askBank(consent);
    return { final: !awaitsBank(now), status: now.status };
  }

  /**
   * For the scheduler, when the PSU did not approve before the deadline: the request is withdrawn
   * at the bank (best effort, so a late approval cannot open access we no longer track) and the
   * consent expires here with `reconsentRequired`. An `unknown` one is asked for first: the PSU may
   * have approved it.
   */
  async expireUnapproved(consentId: string): Promise<{ final: true; status: string }> {
    let consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    if (consent.status === 'unknown' && consent.bankConsentId !== null) consent = await this.askBank(consent);
    if (consent.status !== 'received') return { final: true, status: consent.status };
    const bankId = bankConsentIdOf(consent);
    await this.bank
      .raw(consent, (ais, token) => ais.deleteConsent(token, bankId))
      .catch((error: unknown) => {
        this.logger.warn(
          { consentId, aspspId: consent.aspspId, error: error instanceof Error ? error.message : 'unknown' },
          'could not withdraw an unapproved consent at the bank',
        );
      });
    const moved = await this.consents.move(consent.id, 'expired', 'approval_timeout');
    return { final: true, status: moved.status };
  }

  private async settleIfAbandoned(consent: AisConsent): Promise<PollOutcome> {
    const staleAt = consent.createdAt.getTime() + creationStaleAfterMs(this.aspsps.get(consent.aspspId));
    if (Date.now() < staleAt) return { final: false, status: 'pending', nextPollAt: new Date(staleAt) };
    this.logger.warn({ consentId: consent.id, aspspId: consent.aspspId }, 'consent creation abandoned mid-call: outcome unknown');
    const moved = await this.consents.recordUnknown(consent.id, 'interrupted');
    return { final: !awaitsBank(moved), status: moved.status };
  }

  private async owned(userId: string, consentId: string): Promise<AisConsent> {
    const consent = await this.consents.findForUser(userId, consentId);
    if (!consent) throw AppError.notFound('Consent');
    return consent;
  }

  /**
   * One status request; the bank's answer (or its refusal of the consent) is recorded. Concurrent
   * asks about one consent share one bank call, and at most one per second reaches the bank across
   * replicas (StatusPace): the others get the stored status, as does a bank 429.
   */
  private askBank(consent: AisConsent): Promise<AisConsent> {
    return this.flights.run(
      consent.id,
      () => this.askBankOnce(consent),
      () => this.metrics.callCoalesced(consent.aspspId, 'consent-status'),
    );
  }

  private async askBankOnce(consent: AisConsent): Promise<AisConsent> {
    try {
      const status = await this.bank.consentStatus(consent);
      if (status === undefined) return this.consents.expireIfDue((await this.consents.findById(consent.id)) ?? consent);
      const moved = await this.consents.move(consent.id, status, null);
      return this.consents.expireIfDue(moved);
    } catch (error) {
      if (!(error instanceof BankError)) throw error;
      if (error.kind === 'consent_invalid') {
        const status = error.details.bankCode === 'CONSENT_EXPIRED' ? 'expired' : 'invalid';
        return this.consents.move(consent.id, status, error.details.bankCode ?? null);
      }
      if (error.kind === 'rate_limited') return this.consents.expireIfDue((await this.consents.findById(consent.id)) ?? consent);
      throw error;
    }
  }
}

/** Still waiting on the bank: the PSU has not decided, or an unknown consent can be asked for by id. */
function awaitsBank(consent: AisConsent): boolean {
  return consent.status === 'received' || (consent.status === 'unknown' && consent.bankConsentId !== null);
}
