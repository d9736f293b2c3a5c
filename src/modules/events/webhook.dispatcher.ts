import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';
import { Gauge } from 'prom-client';
import { MetricsService } from '../../common/metrics/metrics.service.js';
import { eventsConfig, type WebhookEndpoint } from '../../config/events.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { toWebhookMessage } from './event-message.js';
import { EventsMetrics } from './events.metrics.js';
import { WebhookDeliveryStore, type WebhookDelivery } from './webhook-delivery.store.js';
import { WebhookClient } from './webhook.client.js';

const INTERVAL_NAME = 'webhook-dispatcher';
const BATCH = 20;

/** One endpoint's delivery loop: its own client, its own round in flight. */
interface Lane {
  endpoint: WebhookEndpoint;
  client: WebhookClient;
  running?: Promise<number>;
}

/**
 * Delivers every event to each webhook endpoint whose filter takes its type, at least once. Each
 * tick starts a round per endpoint that is not still busy with its previous one: it leases a batch
 * of that endpoint's due deliveries (SKIP LOCKED, so replicas share the work instead of sending
 * twice), POSTs them signed, marks 2xx answers delivered and schedules the rest again with
 * jittered exponential backoff (cockatiel) up to WEBHOOK_MAX_BACKOFF_SECONDS, forever. Endpoints
 * never wait for each other: one that is down or slow delays only its own events. A replica that
 * dies mid-POST leaves its lease to expire: the receiver may then see an event twice (it
 * de-duplicates by `X-Event-Id`), never zero times. Order is not guaranteed; `id` and
 * `occurredAt` order events.
 */
@Injectable()
export class WebhookDispatcher implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WebhookDispatcher.name);
  private lanes: Lane[] = [];
  private readonly backoff: ExponentialBackoff<unknown>;

  constructor(
    @Inject(eventsConfig.KEY) private readonly config: ConfigOf<typeof eventsConfig>,
    private readonly deliveries: WebhookDeliveryStore,
    private readonly metrics: EventsMetrics,
    private readonly schedulerRegistry: SchedulerRegistry,
    metricsService: MetricsService,
  ) {
    // First retry after 0.5–1 s, doubling up to the cap.
    this.backoff = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: 1000, maxDelay: config.webhook?.maxBackoffMs ?? 600_000 });
    const webhook = config.webhook;
    if (webhook) {
      const logger = this.logger;
      const ids = webhook.endpoints.map((e) => e.id);
      new Gauge({
        name: 'webhook_pending_events',
        help: 'Events not yet delivered, per webhook endpoint',
        labelNames: ['endpoint'],
        registers: [metricsService.registry],
        async collect() {
          try {
            for (const [endpoint, n] of await deliveries.pending(ids)) this.set({ endpoint }, n);
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
    this.lanes = webhook.endpoints.map((endpoint) => ({ endpoint, client: new WebhookClient(endpoint, webhook.timeoutMs) }));
    this.schedulerRegistry.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.tick(), webhook.pollMs),
    );
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (this.schedulerRegistry.doesExist('interval', INTERVAL_NAME)) this.schedulerRegistry.deleteInterval(INTERVAL_NAME);
    const lanes = this.lanes;
    this.lanes = [];
    await Promise.all(lanes.map((lane) => lane.running?.catch(() => undefined)));
    await Promise.all(lanes.map((lane) => lane.client.close()));
  }

  /** Starts a round for every endpoint not still busy; returns how many events were attempted by the rounds started. */
  async tick(): Promise<number> {
    const started = this.lanes.filter((lane) => !lane.running).map((lane) => this.startRound(lane));
    return (await Promise.all(started)).reduce((a, b) => a + b, 0);
  }

  private startRound(lane: Lane): Promise<number> {
    lane.running = this.deliverBatch(lane).finally(() => (lane.running = undefined));
    return lane.running;
  }

  private async deliverBatch(lane: Lane): Promise<number> {
    try {
      // The lease outlives one POST (its timeout) with a margin.
      const timeoutMs = this.config.webhook!.timeoutMs;
      const batch = await this.deliveries.claim(lane.endpoint.id, BATCH, 2 * timeoutMs + 5000);
      await Promise.all(batch.map((delivery) => this.deliver(lane, delivery)));
      return batch.length;
    } catch (error) {
      this.logger.error({ err: error, endpoint: lane.endpoint.id }, 'webhook delivery round failed');
      return 0;
    }
  }

  private async deliver({ endpoint, client }: Lane, delivery: WebhookDelivery): Promise<void> {
    if (!endpoint.eventTypes.includes(delivery.type)) {
      // Queued before the endpoint's filter changed (or by the upgrade): it no longer asks for this type.
      await this.deliveries.markDelivered(endpoint.id, delivery.id, delivery.attempts);
      this.metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'filtered' });
      return;
    }
    const status = await client.post(toWebhookMessage(delivery), delivery.replay);
    if (status >= 200 && status < 300) {
      await this.deliveries.markDelivered(endpoint.id, delivery.id, delivery.attempts);
      this.metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'delivered' });
      return;
    }
    const delayMs = this.delayAfter(delivery.attempts);
    await this.deliveries.retryLater(endpoint.id, delivery.id, delivery.attempts, delayMs);
    this.metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'failed' });
    this.logger.warn(
      { endpoint: endpoint.id, eventId: delivery.id, attempts: delivery.attempts, status, retryInMs: delayMs },
      'webhook delivery failed; will retry',
    );
  }

  private delayAfter(attempts: number): number {
    let step: IBackoff<unknown> = this.backoff.next();
    for (let i = 1; i < Math.min(attempts, 32); i++) step = step.next(undefined);
    return step.duration;
  }
}
