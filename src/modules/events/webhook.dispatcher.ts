import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../common/metrics/metrics.service.js';
import { eventsConfig } from '../../config/events.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { toWebhookMessage } from './event-message.js';
import { EventsMetrics } from './events.metrics.js';
import { OutboxStore, type WebhookDelivery } from './outbox.store.js';
import { WebhookClient } from './webhook.client.js';

const INTERVAL_NAME = 'webhook-dispatcher';
const BATCH = 20;

/**
 * Delivers every outbox event to WEBHOOK_URL at least once: each tick leases a batch of
 * undelivered events (SKIP LOCKED, so replicas share the work instead of sending twice), POSTs
 * them signed, marks 2xx answers delivered and schedules the rest again with jittered exponential
 * backoff (cockatiel) up to WEBHOOK_MAX_BACKOFF_SECONDS, forever. A replica that dies mid-POST
 * leaves its lease to expire: the receiver may then see an event twice (it de-duplicates by
 * `X-Event-Id`), never zero times. Order is not guaranteed; `id` and `occurredAt` order events.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private client: WebhookClient | undefined;
  private readonly backoff: ExponentialBackoff<unknown>;
  private running: Promise<number> | undefined;

  constructor(
    @Inject(eventsConfig.KEY) private readonly config: ConfigOf<typeof eventsConfig>,
    private readonly outbox: OutboxStore,
    private readonly metrics: EventsMetrics,
    private readonly schedulerRegistry: SchedulerRegistry,
    metricsService: MetricsService,
  ) {
    // First retry after 0.5–1 s, doubling up to the cap.
    this.backoff = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: 1000, maxDelay: config.webhook?.maxBackoffMs ?? 600_000 });
    if (config.webhook) {
      const logger = this.logger;
      new Gauge({
        name: 'webhook_pending_events',
        help: 'Outbox events not yet delivered to the webhook',
        registers: [metricsService.registry],
        async collect() {
          try {
            this.set(await outbox.pendingWebhooks());
          } catch (error) {
            logger.warn({ err: error }, 'could not count pending webhook events');
          }
        },
      });
    }
  }

  onApplicationBootstrap(): void {
    const webhook = this.config.webhook;
    if (!webhook) return;
    this.client = new WebhookClient(webhook);
    this.schedulerRegistry.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.tick(), webhook.pollMs),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.schedulerRegistry.doesExist('interval', INTERVAL_NAME)) this.schedulerRegistry.deleteInterval(INTERVAL_NAME);
    await this.running?.catch(() => undefined);
    await this.client?.close();
    this.client = undefined;
  }

  /** One round; returns how many events were attempted. */
  async tick(): Promise<number> {
    if (this.running || !this.client || !this.config.webhook) return 0;
    this.running = this.deliverBatch(this.client, this.config.webhook.timeoutMs).finally(() => (this.running = undefined));
    return this.running;
  }

  private async deliverBatch(client: WebhookClient, timeoutMs: number): Promise<number> {
    try {
      // The lease outlives one POST (its timeout) with a margin.
      const batch = await this.outbox.claimForWebhook(BATCH, 2 * timeoutMs + 5000);
      await Promise.all(batch.map((delivery) => this.deliver(client, delivery)));
      return batch.length;
    } catch (error) {
      this.logger.error({ err: error }, 'webhook delivery round failed');
      return 0;
    }
  }

  private async deliver(client: WebhookClient, delivery: WebhookDelivery): Promise<void> {
    if (!this.config.webhook?.eventTypes.includes(delivery.type)) {
      // Not a type this receiver asked for (WEBHOOK_EVENT_TYPES): done with, so it is never sent nor kept for the webhook.
      await this.outbox.markWebhookDelivered(delivery.id);
      this.metrics.webhookDeliveries.inc({ outcome: 'filtered' });
      return;
    }
    const status = await client.post(toWebhookMessage(delivery));
    if (status >= 200 && status < 300) {
      await this.outbox.markWebhookDelivered(delivery.id);
      this.metrics.webhookDeliveries.inc({ outcome: 'delivered' });
      return;
    }
    const delayMs = this.delayAfter(delivery.attempts);
    await this.outbox.retryWebhookLater(delivery.id, delayMs);
    this.metrics.webhookDeliveries.inc({ outcome: 'failed' });
    this.logger.warn({ eventId: delivery.id, attempts: delivery.attempts, status, retryInMs: delayMs }, 'webhook delivery failed; will retry');
  }

  private delayAfter(attempts: number): number {
    let step: IBackoff<unknown> = this.backoff.next();
    for (let i = 1; i < Math.min(attempts, 32); i++) step = step.next(undefined);
    return step.duration;
  }
}
