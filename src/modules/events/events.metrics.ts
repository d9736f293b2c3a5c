import { Injectable } from '@nestjs/common';
import { Counter, Gauge } from 'prom-client';
import { MetricsService } from '../../common/metrics/metrics.service.js';

/** Publishing metrics: open SSE streams and events sent, webhook deliveries by outcome. */
@Injectable()
export class EventsMetrics {
  readonly streams: Gauge;
  readonly streamed: Counter<'type'>;
  readonly webhookDeliveries: Counter<'endpoint' | 'outcome'>;

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.streams = new Gauge({ name: 'sse_streams', help: 'Open server-sent event streams on this replica', registers });
    this.streamed = new Counter({ name: 'sse_events_sent_total', help: 'Events written to SSE streams', labelNames: ['type'], registers });
    this.webhookDeliveries = new Counter({
      name: 'webhook_deliveries_total',
      help: "Webhook POSTs per endpoint by outcome (delivered, failed), and queued events the endpoint's filter no longer takes (filtered)",
      labelNames: ['endpoint', 'outcome'],
      registers,
    });
  }
}
