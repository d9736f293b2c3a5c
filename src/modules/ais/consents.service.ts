import { Injectable, Logger } from '@nestjs/common';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { ConsentTerms } from '../../aspsp/berlin-group/ais.js';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { SingleFlight } from '../../common/concurrency/single-flight.js';
import { AppError } from '../../common/errors/app-error.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import { BankTokensService } from '../connections/bank-tokens.service.js';
import { serviceNotGranted } from '../connections/connection-errors.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { AisBank } from './ais-bank.js';
import { consentNotUsable } from './consent-errors.js';
import type { AisConsent } from './consent.entity.js';
import { isEnded } from './consent-status.js';
import { ConsentStore } from './consent.store.js';

/**
 * AIS consents: creation within each bank's rules, status (as last polled, or asked once), deletion.
 * User-facing methods are scoped by user (another user's id is not found); `pollStatus` and
 * `expireUnapproved` are the scheduler's, addressed by consent id alone.
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
  ) {}

  /**
   * Asks the bank for a consent on the user's connection. The bank's rules are checked first (a 400
   * naming each broken rule, and no bank call); the PSU's IP goes with the request. The consent is
   * stored as the bank answered (normally `received`) and queued for status polling.
   */
  async create(userId: string, connectionId: string, requested: Partial<ConsentTerms>, psuIpAddress: string | undefined): Promise<AisConsent> {
    const connection = await this.connections.get(userId, connectionId);
    if (!connection.services.includes('ais')) throw serviceNotGranted(connection, 'ais');
    const adapter = this.aspsps.get(connection.aspspId);
    const today = utcDate();
    const terms = adapter.consentTerms(requested, today);
    const errors = adapter.validateConsent(terms, today);
    if (errors.length > 0) throw AppError.validation(errors);
    const created = await this.tokens.withAccessToken(connection, (token) => adapter.ais.createConsent(token, adapter.consentBody(terms), psuIpAddress));
    return this.consents.create({
      userId,
      connectionId: connection.id,
      aspspId: connection.aspspId,
      bankConsentId: created.consentId,
      status: created.status,
      statusReason: null,
      validUntil: terms.validUntil,
      frequencyPerDay: terms.frequencyPerDay,
      recurringIndicator: terms.recurringIndicator,
      budgetBlockedUntil: null,
      accountsFetchedAt: null,
      statusChangedAt: new Date(),
    });
  }

  list(userId: string, connectionId?: string): Promise<AisConsent[]> {
    return this.consents.list(userId, connectionId, 200);
  }

  /** The user's consent as last known (expired once its validUntil has passed); `refresh` asks the bank once first. */
  async get(userId: string, consentId: string, refresh = false): Promise<AisConsent> {
    const consent = await this.owned(userId, consentId);
    if (refresh && !isEnded(consent.status)) return this.askBank(consent);
    return this.consents.expireIfDue(consent);
  }

  /** The user's consent if it can be read through now; otherwise 409 with its status and `reconsentRequired`. */
  async requireValid(userId: string, consentId: string): Promise<AisConsent> {
    const consent = await this.consents.expireIfDue(await this.owned(userId, consentId));
    if (consent.status !== 'valid') throw consentNotUsable(consent);
    return consent;
  }

  /**
   * Ends the consent at the bank (`DELETE`, the bank then reports `terminatedByTpp`) and here. An
   * already ended consent is left as it is; a bank that no longer knows the consent does not
   * stop us forgetting it. A bank failure changes nothing (5xx naming the bank): try again.
   */
  async terminate(userId: string, consentId: string): Promise<AisConsent> {
    const consent = await this.owned(userId, consentId);
    if (isEnded(consent.status)) return consent;
    try {
      await this.bank.raw(consent, (ais, token) => ais.deleteConsent(token, consent.bankConsentId));
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
   * For the scheduler: asks the bank once for the consent's status and records a change (with its
   * outbox event). `final` means no more status polling is needed: anything but `received` (a
   * `valid` consent is then kept fresh by `ais-refresh` items instead); the poll item is removed
   * in the same transaction. Bank failures are thrown as `BankError` (the scheduler backs off by
   * kind); a consent that no longer exists is an `AppError` not_found.
   */
  async pollStatus(consentId: string): Promise<{ final: boolean; status: string }> {
    const consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    const now = isEnded(consent.status) ? consent : await this.askBank(consent);
    return { final: now.status !== 'received', status: now.status };
  }

  /**
   * For the scheduler, when the PSU did not approve before the deadline: the request is withdrawn
   * at the bank (best effort, so a late approval cannot open access we no longer track) and the
   * consent expires here with `reconsentRequired`.
   */
  async expireUnapproved(consentId: string): Promise<{ final: true; status: string }> {
    const consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    if (consent.status !== 'received') return { final: true, status: consent.status };
    await this.bank.raw(consent, (ais, token) => ais.deleteConsent(token, consent.bankConsentId)).catch((error: unknown) => {
      this.logger.warn({ consentId, aspspId: consent.aspspId, error: error instanceof Error ? error.message : 'unknown' }, 'could not withdraw an unapproved consent at the bank');
    });
    const moved = await this.consents.move(consent.id, 'expired', 'approval_timeout');
    return { final: true, status: moved.status };
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
    return this.flights.run(consent.id, () => this.askBankOnce(consent), () => this.metrics.callCoalesced(consent.aspspId, 'consent-status'));
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
