import { Injectable, Logger } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { MetricsService } from '../../common/metrics/metrics.service.js';
import { PollQueue } from '../polling/poll-queue.store.js';

/**
 * The scheduler's Prometheus metrics: items due (read from the database at scrape time, so every
 * replica reports the same backlog), polls by bank, kind and outcome (rate() gives polls/s), the
 * lag between an item's next_poll_at and the moment it was claimed. (Each bank's circuit is a bank
 * metric: see common/metrics/bank.metrics.ts.)
 */
@Injectable()
export class SchedulerMetrics {
  private readonly logger = new Logger(SchedulerMetrics.name);

  readonly polls: Counter<'aspsp' | 'kind' | 'outcome'>;
  readonly lag: Histogram<'kind'>;
  readonly duration: Histogram<'aspsp' | 'kind'>;

  constructor(metrics: MetricsService, queue: PollQueue) {
    const registers = [metrics.registry];
    this.polls = new Counter({
      name: 'scheduler_polls_total',
      help: 'Polls by bank, item kind and outcome',
      labelNames: ['aspsp', 'kind', 'outcome'],
      registers,
    });
    this.lag = new Histogram({
      name: 'scheduler_poll_lag_seconds',
      help: 'Delay between an item becoming due (next_poll_at) and a replica claiming it',
      labelNames: ['kind'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.duration = new Histogram({
      name: 'scheduler_poll_duration_seconds',
      help: 'Time a poll takes (bank call and status write)',
      labelNames: ['aspsp', 'kind'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    const logger = this.logger;
    new Gauge({
      name: 'scheduler_items_due',
      help: 'Poll items whose next_poll_at has passed, per kind',
      labelNames: ['kind'],
      registers,
      async collect() {
        this.reset();
        try {
          for (const row of await queue.dueCounts()) this.set({ kind: row.kind }, row.due);
        } catch (error) {
          logger.warn({ err: error }, 'could not count due poll items');
        }
      },
    });
  }
}
