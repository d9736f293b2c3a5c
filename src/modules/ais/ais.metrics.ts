import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { MetricsService } from '../../common/metrics/metrics.service.js';
import { ConsentStore } from './consent.store.js';

export type RefreshMetricOutcome = 'complete' | 'partial' | 'budget_spent' | 'rate_limited' | 'not_valid' | 'failed';

/**
 * The AIS budget as an operator watches it, per bank: unattended uses spent (each request charged
 * to a consent's frequencyPerDay) and left (across the consents that can still be refreshed, read
 * from the ledger at scrape time so every replica reports the same), refreshes by outcome, the
 * bank's 429s on unattended reads (which planning should keep at zero), and consents whose creation
 * outcome is unknown (journaled, waiting for reconciliation or for the user).
 */
@Injectable()
export class AisMetrics {
  private readonly logger = new Logger(AisMetrics.name);
  readonly unitsSpent: Counter<'aspsp'>;
  readonly refreshes: Counter<'aspsp' | 'outcome'>;
  readonly unattended429: Counter<'aspsp'>;

  constructor(metrics: MetricsService, store: ConsentStore, registry: AspspRegistry) {
    const registers = [metrics.registry];
    this.unitsSpent = new Counter({
      name: 'ais_budget_units_spent_total',
      help: "Unattended requests charged to a consent's frequencyPerDay, per bank",
      labelNames: ['aspsp'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'ais_refreshes_total',
      help: 'Unattended AIS refreshes by outcome: complete, partial (budget covered only some accounts), budget_spent, rate_limited, not_valid, failed',
      labelNames: ['aspsp', 'outcome'],
      registers,
    });
    this.unattended429 = new Counter({
      name: 'ais_unattended_429_total',
      help: 'Bank 429 answers to unattended AIS reads (budget planning should keep this at 0)',
      labelNames: ['aspsp'],
      registers,
    });
    for (const adapter of registry.all()) {
      this.unitsSpent.inc({ aspsp: adapter.id }, 0);
      this.unattended429.inc({ aspsp: adapter.id }, 0);
    }
    const logger = this.logger;
    new Gauge({
      name: 'ais_budget_units_left',
      help: "Unattended uses left in the rolling 24 h window, summed over each bank's valid consents (under the bank's counting rule)",
      labelNames: ['aspsp'],
      registers,
      async collect() {
        this.reset();
        try {
          const left = new Map((await store.unitsLeft()).map((row) => [row.aspspId, row]));
          for (const adapter of registry.all()) {
            const row = left.get(adapter.id);
            this.set({ aspsp: adapter.id }, row === undefined ? 0 : adapter.bank.aisBudgetCounting === 'per_call' ? row.perCall : row.perResource);
          }
        } catch (error) {
          logger.warn({ err: error }, 'could not count AIS budget units left');
        }
      },
    });
    new Gauge({
      name: 'ais_consents_unreconciled',
      help: 'Consents whose creation outcome at the bank is unknown (timeout, 500, 502, 504, crash mid-call), per bank',
      labelNames: ['aspsp'],
      registers,
      async collect() {
        this.reset();
        try {
          const unknown = new Map((await store.unsettled()).map((row) => [row.aspspId, row.unknown]));
          for (const adapter of registry.all()) this.set({ aspsp: adapter.id }, unknown.get(adapter.id) ?? 0);
        } catch (error) {
          logger.warn({ err: error }, 'could not count unreconciled consents');
        }
      },
    });
  }
}
