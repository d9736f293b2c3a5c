import { Injectable } from '@nestjs/common';

const WINDOW_MS = 24 * 3600 * 1000;

/**
 * Unattended AIS reads per consent and per resource in a rolling 24 h window (sandbox clock).
 * Flowe guide 4.1: "the Consent-ID cannot be used more than frequencyPerDay ... in 24 hours ... for
 * unattended requests"; Berlin Group counts per endpoint resource (the list, one account, its balances,
 * its transactions), so each resource has its own budget.
 */
@Injectable()
export class FrequencyBudget {
  private readonly uses = new Map<string, number[]>();

  /** Records one read; false (nothing recorded) when `limit` reads already happened in the window. */
  consume(consentId: string, resource: string, limit: number, nowMs: number): boolean {
    const key = `${consentId}|${resource}`;
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
