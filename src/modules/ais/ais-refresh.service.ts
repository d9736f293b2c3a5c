import { Injectable, Logger } from '@nestjs/common';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { ConsentUse } from '../../aspsp/berlin-group/ais.js';
import { AppError } from '../../common/errors/app-error.js';
import type { BudgetCounting } from '../../config/banks.config.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { AisMetrics, type RefreshMetricOutcome } from './ais.metrics.js';
import { AisReader } from './ais-reader.js';
import { accountsToRefresh, nextRefreshAfter, refreshRange } from './budget.js';
import type { AisConsent } from './consent.entity.js';
import { ConsentStore, type BudgetRefusal } from './consent.store.js';

export interface RefreshOutcome {
  refreshed: boolean;
  /**
   * `complete`: the account list with balances and every account's transactions; `partial`: the
   * budget covered the list and only some accounts' transactions (the others go first next time).
   */
  scope?: 'complete' | 'partial';
  reason?: 'budget_spent' | 'rate_limited' | 'not_valid' | 'failed';
  /** Uses of the consent's budget this refresh spent. */
  units: number;
  /** When the next unattended refresh should run (paced over the day, or when the bank allows again). */
  nextAllowedAt?: Date;
}

/** A request the budget refused to pay for: the read stops before the request is sent. */
class BudgetStop extends Error {
  constructor(readonly refusal: BudgetRefusal) {
    super(`unattended budget: ${refusal.reason}`);
  }
}

/** The uses one refresh spends: every request is charged before it is sent (pages and retries after a token refresh too). */
class RefreshBudget {
  readonly unitIds: string[] = [];
  /** First-page charges per resource: what a `per_resource` bank counts. */
  private readonly reads = new Map<string, number>();

  constructor(
    private readonly store: ConsentStore,
    private readonly consent: AisConsent,
    private readonly counting: BudgetCounting,
    private readonly onCharged: () => void,
  ) {}

  readonly charge = async (use: ConsentUse): Promise<void> => {
    const result = await this.store.charge(this.consent.id, this.counting, { resource: use.resource, page: use.page });
    if (!('unitId' in result)) throw new BudgetStop(result);
    this.unitIds.push(result.unitId);
    if (use.page === 1) this.reads.set(use.resource, (this.reads.get(use.resource) ?? 0) + 1);
    this.onCharged();
  };

  /** The last request was charged but never left (the circuit was open, the bank refused the connection). */
  async releaseLast(): Promise<void> {
    const unitId = this.unitIds.pop();
    if (unitId !== undefined) await this.store.releaseUnit(unitId);
  }

  /** Uses spent as the bank counts them. */
  get units(): number {
    return this.counting === 'per_call' ? this.unitIds.length : Math.max(0, ...this.reads.values());
  }
}

/**
 * Background (unattended) refresh of a consent's accounts, balances and transactions: what keeps
 * the stored copy fresh without the PSU, within the consent's `frequencyPerDay` as the bank counts
 * it (`<ID>_AIS_BUDGET_COUNTING`). A refresh reads the account list with balances in one call
 * (`accounts?withBalance=true`), then one transactions read per account, only since its last read
 * (one page), least recently refreshed first, as many as the budget covers. Every request is charged
 * to the ledger before it is sent, atomically across replicas, and never carries the PSU's IP. The
 * next refresh is paced by what this one spent, so the day's budget is spread over the day.
 */
@Injectable()
export class AisRefreshService {
  private readonly logger = new Logger(AisRefreshService.name);

  constructor(
    private readonly consents: ConsentStore,
    private readonly connections: ConnectionsService,
    private readonly reader: AisReader,
    private readonly aspsps: AspspRegistry,
    private readonly metrics: AisMetrics,
  ) {}

  /**
   * Refreshes within the budget, or says why not (`budget_spent`, `rate_limited`, `not_valid` when
   * the consent or its connection cannot be used). A bank 429 marks the budget spent until its
   * Retry-After or until the window rolls; any other bank failure after a use was spent is `failed`,
   * paced like a refresh. A failure before anything was charged (the token could not be refreshed,
   * the circuit is open) is thrown as `BankError`, for the scheduler's usual backoff.
   */
  async refreshUnattended(consentId: string): Promise<RefreshOutcome> {
    let consent = await this.consents.findById(consentId);
    if (!consent) throw AppError.notFound('Consent');
    consent = await this.consents.expireIfDue(consent);
    const connection = await this.connections.findById(consent.connectionId);
    if (consent.status !== 'valid' || connection?.status !== 'active') return this.done(consent, { refreshed: false, reason: 'not_valid', units: 0 });

    await this.consents.pruneLedger(consent.id);
    const counting = this.aspsps.get(consent.aspspId).bank.aisBudgetCounting;
    const budget = new RefreshBudget(this.consents, consent, counting, () => this.metrics.unitsSpent.inc({ aspsp: consent.aspspId }));
    const unattended = { beforeRequest: budget.charge };
    try {
      const { links, withoutBalances } = await this.reader.accountsWithBalances(consent, unattended);
      const usage = await this.consents.usage(consent.id);
      const candidates = links.map((link, position) => ({
        link,
        position,
        resourceId: link.resourceId,
        transactionsFetchedAt: link.account.transactionsFetchedAt,
      }));
      const planned = usage ? accountsToRefresh(usage, counting, candidates) : [];
      let refreshedAccounts = 0;
      for (const { link } of planned) {
        if (await this.withinBudget(() => this.reader.transactions(consent, link, refreshRange(link.account, counting), unattended))) refreshedAccounts += 1;
      }
      // A bank that ignored withBalance (no account came with balances): read them with whatever units are left.
      const ignoredWithBalance = withoutBalances.length === links.length;
      if (ignoredWithBalance) for (const link of withoutBalances) if (!(await this.withinBudget(() => this.reader.balances(consent, link, unattended)))) break;
      await this.consents.settleUnits(budget.unitIds, 'ok');
      const scope = refreshedAccounts === links.length ? 'complete' : 'partial';
      const now = await this.consents.now();
      return this.done(consent, { refreshed: true, scope, units: budget.units, nextAllowedAt: nextRefreshAfter(budget.units, consent.frequencyPerDay, now) });
    } catch (error) {
      return this.failed(consent, budget, error);
    }
  }

  /** Runs one read; false when the budget refused one of its requests (nothing of it is stored). */
  private async withinBudget(read: () => Promise<void>): Promise<boolean> {
    try {
      await read();
      return true;
    } catch (error) {
      if (error instanceof BudgetStop && error.refusal.reason === 'budget_spent') return false;
      throw error;
    }
  }

  private async failed(consent: AisConsent, budget: RefreshBudget, error: unknown): Promise<RefreshOutcome> {
    if (error instanceof BudgetStop) {
      // Refused before the first request (or the consent stopped being valid): nothing was read.
      await this.consents.settleUnits(budget.unitIds, 'failed');
      return this.done(consent, { refreshed: false, ...error.refusal, units: budget.units });
    }
    if (error instanceof BankError && error.kind === 'unavailable') await budget.releaseLast();
    // The bank refused the consent (AisBank has settled its status) or the connection needs a new login.
    if (error instanceof AppError && (error.code === 'reconsent_required' || error.code === 'consent_not_valid' || error.code === 'reauth_required')) {
      await this.consents.settleUnits(budget.unitIds, 'failed');
      return this.done(consent, { refreshed: false, reason: 'not_valid', units: budget.units });
    }
    if (budget.unitIds.length === 0) {
      this.metrics.refreshes.inc({ aspsp: consent.aspspId, outcome: 'failed' });
      throw error;
    }
    if (error instanceof BankError && error.kind === 'rate_limited') {
      await this.consents.settleUnits(budget.unitIds, 'rate_limited');
      this.metrics.unattended429.inc({ aspsp: consent.aspspId });
      const nextAllowedAt = await this.consents.markRateLimited(consent.id, error.details.retryAfterSeconds);
      this.logger.warn(
        { consentId: consent.id, aspspId: consent.aspspId, bankCode: error.details.bankCode, units: budget.units, nextAllowedAt },
        'bank refused an unattended read (429): budget marked spent',
      );
      return this.done(consent, { refreshed: false, reason: 'rate_limited', units: budget.units, nextAllowedAt });
    }
    await this.consents.settleUnits(budget.unitIds, 'failed');
    if (!(error instanceof BankError)) throw error;
    // The uses are spent: try again at the pace of the budget, not at the pace of the error backoff.
    const nextAllowedAt = nextRefreshAfter(budget.units, consent.frequencyPerDay, await this.consents.now());
    this.logger.warn(
      { consentId: consent.id, aspspId: consent.aspspId, kind: error.kind, bankStatus: error.details.status, units: budget.units, nextAllowedAt },
      'unattended refresh failed after spending budget',
    );
    return this.done(consent, { refreshed: false, reason: 'failed', units: budget.units, nextAllowedAt });
  }

  private done(consent: AisConsent, outcome: RefreshOutcome): RefreshOutcome {
    const label: RefreshMetricOutcome = outcome.refreshed ? outcome.scope! : outcome.reason!;
    this.metrics.refreshes.inc({ aspsp: consent.aspspId, outcome: label });
    return outcome;
  }
}
