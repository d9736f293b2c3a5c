import { Controller, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { AppError } from '../../common/errors/app-error.js';
import type { ConfigOf } from '../../config/define-config.js';
import { eventsConfig, type EventType } from '../../config/events.config.js';
import { WebhookDeliveryStore } from './webhook-delivery.store.js';

/** Outbox ids are bigserials: at most 18 digits always fit. */
const EVENT_ID = /^\d{1,18}$/;

export interface ReplayAnswer {
  eventId: string;
  type: string;
  /** The endpoints the event is queued for again. */
  endpoints: string[];
}

/**
 * `POST /ops/webhooks/events/{eventId}/replay`: for a receiver that lost or mis-processed an event,
 * queues it again (signed as usual, same X-Event-Id, with X-Event-Replay: true) for every endpoint
 * whose filter takes its type, or for the one `?endpoint=` names. Part of the ops surface (see
 * opsAccess: never served to anonymous callers on the public port), and not in the public API
 * document. No user token: the operator acts for the service.
 */
@ApiExcludeController()
@Controller('ops/webhooks')
export class WebhookReplayController {
  constructor(
    @Inject(eventsConfig.KEY) private readonly config: ConfigOf<typeof eventsConfig>,
    private readonly deliveries: WebhookDeliveryStore,
  ) {}

  @Post('events/:eventId/replay')
  @HttpCode(202)
  async replay(@Param('eventId') eventId: string, @Query('endpoint') endpoint: unknown): Promise<ReplayAnswer> {
    if (!EVENT_ID.test(eventId)) throw AppError.validation([{ field: 'eventId', message: 'must be an event id (digits)' }]);
    const configured = this.config.webhook?.endpoints ?? [];
    if (configured.length === 0) throw new AppError('webhook_not_configured', 'Nothing to replay to: no webhook is configured');
    if (endpoint !== undefined && (typeof endpoint !== 'string' || !configured.some((e) => e.id === endpoint))) {
      throw AppError.validation([
        { field: 'endpoint', message: `must be a configured webhook endpoint id (${configured.map((e) => e.id).join(', ') || 'none'})` },
      ]);
    }
    const type = await this.deliveries.eventType(eventId);
    if (type === undefined) throw AppError.notFound('Event');
    const targets = configured.filter((e) => (endpoint === undefined || e.id === endpoint) && e.eventTypes.includes(type as EventType));
    if (targets.length === 0) {
      const named = endpoint === undefined ? '' : ` named ${String(endpoint)}`;
      throw new AppError('webhook_not_configured', `Nothing to replay to: no configured endpoint${named} takes ${type} events`);
    }
    const endpoints = await this.deliveries.replay(
      eventId,
      targets.map((e) => e.id),
    );
    // Deleted by housekeeping between the two statements.
    if (endpoints.length === 0) throw AppError.notFound('Event');
    return { eventId, type, endpoints };
  }
}
