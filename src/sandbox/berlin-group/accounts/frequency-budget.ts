import { Injectable } from '@nestjs/common';

const WINDOW_MS = 24 * 3600 * 1000;

/**
 * Unattended AIS uses in a rolling 24 h window (sandbox clock), under a key the caller chooses by the
 * bank's `budgetCounting` mode: the consent alone (`per_call`, Flowe guide 4.1: "the Consent-ID cannot
 * be used more than frequencyPerDay ... in 24 hours ... for unattended requests") or the consent and
 * the resource (`per_resource`: the list, one account, its balances, its transactions — Berlin Group).
 */
@Injectable()
export class FrequencyBudget {
  private readonly uses = new Map<string, number[]>();

  /** Records one use; false (nothing recorded) when `limit` uses already happened in the window. */
  consume(key: string, limit: number, nowMs: number): boolean {
    const recent = (this.uses.get(key) ?? []).filter((t) => t > nowMs - WINDOW_MS);
    if (recent.length >= limit) {
      this.uses.set(key, recent);
      return false;
    }
    recent.push(nowMs);
    this.uses.set(key, recent);
    return true;
  }

  reset(): void {
    this.uses.clear();
  }
}
