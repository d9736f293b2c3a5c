import { Injectable } from '@nestjs/common';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import type { BudgetCounting } from '../../config/banks.config.js';
import { PollQueue } from '../polling/poll-queue.store.js';
import { budgetState, type ResourceUsage } from './budget.js';
import { toBudgetView, type BudgetView } from './budget.view.js';
import type { AisConsent } from './consent.entity.js';
import { ConsentStore } from './consent.store.js';

/** What the frontend is told about a consent's background refreshes. */
export interface RefreshInfo {
  budget: BudgetView;
  /** When the scheduler will next refresh the stored copy in the background (absent: no refresh planned). */
  nextRefreshAt?: string;
}

/**
 * Each consent's budget as its bank counts it, and the next planned background refresh (the
 * scheduler's `ais-refresh` item), for the consent and AIS data answers: two round trips (the
 * ledger, the poll queue), run together, for any number of consents.
 */
@Injectable()
export class ConsentBudgets {
  constructor(
    private readonly store: ConsentStore,
    private readonly polls: PollQueue,
    private readonly aspsps: AspspRegistry,
  ) {}

  async describe(consents: readonly AisConsent[]): Promise<Map<string, RefreshInfo>> {
    const ids = consents.map((c) => c.id);
    const [{ now, windows }, next] = await Promise.all([this.store.windows(ids), this.polls.nextPollAt('ais-refresh', ids)]);
    const out = new Map<string, RefreshInfo>();
    for (const consent of consents) out.set(consent.id, this.describeRead(consent, now, windows.get(consent.id) ?? [], next.get(consent.id) ?? null));
    return out;
  }

  /** The same, from a ledger window and refresh time already read (with the consent, in one statement). */
  describeRead(consent: AisConsent, now: Date, window: ResourceUsage[], nextRefreshAt: Date | null): RefreshInfo {
    const usage = { limit: consent.frequencyPerDay, resources: window, blockedUntil: consent.budgetBlockedUntil };
    return {
      budget: toBudgetView(budgetState(usage, this.countingOf(consent.aspspId), now)),
      ...(nextRefreshAt ? { nextRefreshAt: nextRefreshAt.toISOString() } : {}),
    };
  }

  /** The bank's counting rule; a bank no longer configured is described by the safe reading. */
  private countingOf(aspspId: string): BudgetCounting {
    return this.aspsps.all().find((a) => a.id === aspspId)?.bank.aisBudgetCounting ?? 'per_call';
  }

  async describeOne(consent: AisConsent): Promise<RefreshInfo> {
    return (await this.describe([consent])).get(consent.id)!;
  }
}
