import { Injectable, Logger } from '@nestjs/common';
import { BankError } from '../../aspsp/bank-error.js';
import { addDays, utcDate } from '../../aspsp/berlin-group/dates.js';
import { AppError } from '../../common/errors/app-error.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { AisReader } from './ais-reader.js';
import { ConsentStore } from './consent.store.js';

/** How far back an unattended refresh reads transactions (Berlin Group's usual default window). */
export const REFRESH_HISTORY_DAYS = 90;

const DAY_MS = 86_400_000;
/** A minute beyond the even spacing, so clock skew never makes a refresh land inside the window. */
const SPREAD_MARGIN_MS = 60_000;

export interface RefreshOutcome {
  refreshed: boolean;
  reason?: 'budget_spent' | 'rate_limited' | 'not_valid';
  /** When the next unattended refresh may run (the budget's window rolls, or the bank's Retry-After). */
  nextAllowedAt?: Date;
}

/**
 * Background (unattended) refresh of a consent's accounts, balances and transactions: what keeps
 * the stored copy fresh without the PSU. Each refresh spends exactly one unit of the consent's
 * `frequencyPerDay` — it reads each bank resource (the account list, each account's balances,
 * each account's transactions) once, and the bank counts per resource — and never sends
 * `PSU-IP-Address`. The unit is claimed before any bank call, atomically across replicas.
 */
@Injectable()
export class AisRefreshService {
  private readonly logger = new Logger(AisRefreshService.name);

  constructor(
    private readonly consents: ConsentStore,
    private readonly connections: ConnectionsService,
    private readonly reader: AisReader,
  ) {}

  /**
   * Claims one unit of the rolling 24 h budget (or says why not: `budget_spent`, `rate_limited`,
   * `not_valid` when the consent or its connection cannot be used), then reads everything without
   * PSU-IP-Address. A bank 429 marks the budget spent until the window rolls. Other bank failures
   * are thrown as `BankError` (kind drives the scheduler's backoff); the unit stays spent when a
   * request may have reached the bank, and is given back when none did.
   */
  async refreshUnattended(consentId: string): Promise<RefreshOutcome> {
    let consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    consent = await this.consents.expireIfDue(consent);
    const connection = await this.connections.findById(consent.connectionId);
    if (consent.status !== 'valid' || connection?.status !== 'active') return { refreshed: false, reason: 'not_valid' };

    const claim = await this.consents.claimBudget(consent.id);
    if (!('claimId' in claim)) return { refreshed: false, ...claim };

    let reachedBank = false;
    const options = { onBankCall: () => (reachedBank = true) };
    try {
      const links = await this.reader.accounts(consent, options);
      const today = utcDate();
      const range = { dateFrom: addDays(today, -REFRESH_HISTORY_DAYS), dateTo: today, bookingStatus: 'both' as const };
      // One account after the other: a bank that struggles is not hit by a burst.
      for (const link of links) {
        await this.reader.balances(consent, link, options);
        await this.reader.transactions(consent, link, range, options);
      }
      await this.consents.settleBudget(claim.claimId, 'ok');
      // Spread the day's budget evenly: the stored copy is never older than 24 h / frequency.
      return { refreshed: true, nextAllowedAt: new Date(Date.now() + DAY_MS / consent.frequencyPerDay + SPREAD_MARGIN_MS) };
    } catch (error) {
      if (!reachedBank) await this.consents.releaseBudget(claim.claimId);
      else await this.consents.settleBudget(claim.claimId, error instanceof BankError && error.kind === 'rate_limited' ? 'rate_limited' : 'failed');
      if (error instanceof BankError && error.kind === 'rate_limited') {
        const nextAllowedAt = await this.consents.markRateLimited(consent.id, error.details.retryAfterSeconds);
        this.logger.warn({ consentId, aspspId: consent.aspspId, bankCode: error.details.bankCode, nextAllowedAt }, 'bank refused an unattended read (429): budget marked spent');
        return { refreshed: false, reason: 'rate_limited', nextAllowedAt };
      }
      // The bank refused the consent (AisBank has settled its status) or the connection needs a new login.
      if (error instanceof AppError && (error.code === 'reconsent_required' || error.code === 'consent_not_valid' || error.code === 'reauth_required')) {
        return { refreshed: false, reason: 'not_valid' };
      }
      throw error;
    }
  }
}
