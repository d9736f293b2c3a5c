import { Global, Module } from '@nestjs/common';
import { EventStreamHub } from './event-stream.hub.js';
import { EventsController } from './events.controller.js';
import { EventsMetrics } from './events.metrics.js';
import { OutboxService } from './outbox.service.js';
import { WebhookDispatcher } from './webhook.dispatcher.js';

/**
 * Status changes for the frontend: the transactional outbox (`OutboxService.record`, used by the
 * AIS and PIS services), its server-sent event stream (`GET /api/v1/events`) and the optional
 * signed webhook.
 */
@Global()
@Module({
  controllers: [EventsController],
  providers: [OutboxService, EventStreamHub, EventsMetrics, WebhookDispatcher],
  exports: [OutboxService],
})
export class EventsModule {}
