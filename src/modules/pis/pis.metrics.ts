import { Injectable, Logger } from '@nestjs/common';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../common/metrics/metrics.service.js';
import { PaymentStore } from './payment.store.js';

/**
 * Payments whose initiation outcome is still unknown, read from the database at scrape time (every
 * replica reports the same numbers), by reconciliation outcome. `searching` falls back to zero
 * within the reconciliation window; the others are payments a person has to look at.
 */
@Injectable()
export class PisMetrics {
  private readonly logger = new Logger(PisMetrics.name);

  constructor(metrics: MetricsService, store: PaymentStore) {
    const logger = this.logger;
    new Gauge({
      name: 'payments_unreconciled',
      help: 'Payments whose initiation outcome is still unknown, by where reconciliation stands (searching, no_account_access, inconclusive)',
      labelNames: ['outcome'],
      registers: [metrics.registry],
      async collect() {
        try {
          this.reset();
          this.set({ outcome: 'searching' }, 0);
          for (const row of await store.countUnreconciled()) this.set({ outcome: row.outcome }, row.count);
        } catch (error) {
          logger.warn({ err: error }, 'could not count unreconciled payments');
        }
      },
    });
  }
}
