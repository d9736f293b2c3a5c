import { Injectable } from '@nestjs/common';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { BerlinGroupAis, ConsentStatus, ReadContext } from '../../aspsp/berlin-group/ais.js';
import { AppError } from '../../common/errors/app-error.js';
import { StatusPace } from '../bank-pace/status-pace.js';
import { BankTokensService } from '../connections/bank-tokens.service.js';
import type { Connection } from '../connections/connection.entity.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { AisConsent } from './consent.entity.js';
import { consentNotUsable } from './consent-errors.js';
import { isEnded, type LocalConsentStatus } from './consent-status.js';
import { ConsentStore } from './consent.store.js';

/** A consent refused by the bank waits up to this long for its status to be asked (one request per second). */
const STATUS_WAIT_AFTER_REFUSAL_MS = 1500;

/**
 * A bank call made for a consent: the connection's access token (refreshed once on a 401), the
 * bank's consentId and, for attended calls, the PSU's IP. When the bank refuses the consent itself
 * (CONSENT_EXPIRED, CONSENT_INVALID, CONSENT_UNKNOWN) the consent is settled in a clear, final
 * state and the caller gets a 409 carrying that status and `reconsentRequired`.
 */
@Injectable()
export class AisBank {
  constructor(
    private readonly aspsps: AspspRegistry,
    private readonly connections: ConnectionsService,
    private readonly tokens: BankTokensService,
    private readonly consents: ConsentStore,
    private readonly pace: StatusPace,
  ) {}

  /** `read.connection`: the consent's connection when the caller has just read it (saves reading it again). */
  async call<T>(
    consent: AisConsent,
    read: { psuIpAddress?: string; connection?: Connection },
    fn: (ais: BerlinGroupAis, ctx: ReadContext) => Promise<T>,
  ): Promise<T> {
    const consentId = bankConsentIdOf(consent);
    try {
      return await this.raw(consent, (ais, accessToken) => fn(ais, { accessToken, consentId, psuIpAddress: read.psuIpAddress }), read.connection);
    } catch (error) {
      if (error instanceof BankError && error.kind === 'consent_invalid') throw await this.settleRefusal(consent, error);
      throw error;
    }
  }

  /** The bank call with a valid token, without consent-refusal handling (status polls, deletion). */
  async raw<T>(consent: AisConsent, fn: (ais: BerlinGroupAis, accessToken: string) => Promise<T>, known?: Connection): Promise<T> {
    const connection = known ?? (await this.connections.findById(consent.connectionId));
    if (!connection) throw AppError.notFound('Connection');
    const adapter = this.aspsps.get(consent.aspspId);
    return this.tokens.withAccessToken(connection, (accessToken) => fn(adapter.ais, accessToken));
  }

  /**
   * The consent's status at the bank, or undefined when it was asked less than the bank allows ago
   * (StatusPace: one status request per consent per second, across replicas).
   */
  async consentStatus(consent: AisConsent, waitUpToMs?: number): Promise<ConsentStatus | undefined> {
    const bankId = bankConsentIdOf(consent);
    let mayAsk: boolean | undefined;
    return this.raw(consent, async (ais, token) => {
      // Claimed once the token is ready, right before the request leaves; a retry after a refreshed token is the same ask.
      mayAsk ??= await this.pace.mayAsk(consent.aspspId, 'consent', bankId, waitUpToMs);
      return mayAsk ? ais.consentStatus(token, bankId) : undefined;
    });
  }

  /**
   * CONSENT_EXPIRED → `expired`. CONSENT_INVALID (and the like) → ask the bank once for the
   * consent's status, which tells e.g. `revokedByPsu` apart; when it cannot say → `invalid`.
   * CONSENT_UNKNOWN → `invalid`: the bank no longer knows it.
   */
  async settleRefusal(consent: AisConsent, error: BankError): Promise<AppError> {
    const code = error.details.bankCode;
    let status: LocalConsentStatus = code === 'CONSENT_EXPIRED' ? 'expired' : 'invalid';
    if (status === 'invalid' && code !== 'CONSENT_UNKNOWN') {
      // Worth waiting out the status interval for: it tells a revocation from other refusals.
      const reported = await this.consentStatus(consent, STATUS_WAIT_AFTER_REFUSAL_MS).catch(() => undefined);
      if (reported && isEnded(reported)) status = reported;
    }
    const settled = await this.consents.move(consent.id, status, code ?? null);
    return consentNotUsable(settled, { bankCode: code, tppMessages: error.details.tppMessages });
  }
}

/** The bank's id of a consent it knows; a consent without one (pending, or unknown) cannot be used at the bank. */
export function bankConsentIdOf(consent: AisConsent): string {
  if (consent.bankConsentId === null) throw consentNotUsable(consent);
  return consent.bankConsentId;
}
