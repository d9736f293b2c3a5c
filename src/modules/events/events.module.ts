import { Module } from '@nestjs/common';
import { IdentityModule } from '../identity/identity.module.js';
import { EventStreamHub } from './event-stream.hub.js';
import { EventsController } from './events.controller.js';
import { EventsMetrics } from './events.metrics.js';
import { OutboxStore } from './outbox.store.js';
import { WebhookDeliveryStore } from './webhook-delivery.store.js';
import { WebhookReplayController } from './webhook-replay.controller.js';
import { WebhookDispatcher } from './webhook.dispatcher.js';

/**
 * Status changes for the frontend: the transactional outbox (`OutboxStore.record`, called by the
 * AIS and PIS stores inside their transactions), its server-sent event stream
 * (`GET /api/v1/events`, and one event by id), and the optional signed webhook endpoints with their
 * per-endpoint delivery state (`WebhookDeliveryStore`) and the ops replay route. Housekeeping trims
 * the outbox through `OutboxStore.purge`.
 */
@Module({
  imports: [IdentityModule],
  controllers: [EventsController, WebhookReplayController],
  providers: [OutboxStore, EventStreamHub, EventsMetrics, WebhookDeliveryStore, WebhookDispatcher],
  exports: [OutboxStore],
})
export class EventsModule {}
