import { Controller, Get, Headers, Param, Query, Req, Res } from '@nestjs/common';
import { ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiQuery, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { ApiProblems } from '../../common/errors/problem.view.js';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import { Authenticated, CurrentUser, type AuthenticatedUser } from '../identity/index.js';
import { toWebhookMessage, type WebhookMessage } from './event-message.js';
import { DOCUMENTED_EVENTS } from './event.view.js';
import { EventStreamHub, type StreamHandle } from './event-stream.hub.js';
import { OutboxStore } from './outbox.store.js';

/** Outbox ids are bigserials: at most 18 digits always fit. */
const EVENT_ID = /^\d{1,18}$/;

@ApiTags('events')
@Authenticated()
@Controller('api/v1')
export class EventsController {
  constructor(
    private readonly hub: EventStreamHub,
    private readonly outbox: OutboxStore,
  ) {}

  @Get('events/:eventId')
  @ApiOperation({
    operationId: 'getEvent',
    summary: "One of this user's events, as a webhook body: to look one up again by the id an SSE frame or a webhook named",
    description: 'Events are kept for 7 days (longer while a webhook endpoint has not received them). Another user’s event is not found.',
  })
  @ApiParam({ name: 'eventId', description: 'The event id (SSE `id:`, webhook `id` and X-Event-Id)', schema: { type: 'string', pattern: '^[0-9]{1,18}$' } })
  @ApiOkResponse({
    description: 'The event: the body a webhook receives for it (with the connection’s externalReference as it is now)',
    schema: { oneOf: Object.values(DOCUMENTED_EVENTS).map(({ webhook }) => ({ $ref: getSchemaPath(webhook) })) },
  })
  @ApiProblems('validation_failed', 'not_found')
  async get(@CurrentUser() user: AuthenticatedUser, @Param('eventId') eventId: string): Promise<WebhookMessage> {
    if (!EVENT_ID.test(eventId)) throw AppError.validation([{ field: 'eventId', message: 'must be an event id (digits)' }]);
    const row = await this.outbox.findForUser(user.id, eventId);
    if (!row) throw AppError.notFound('Event');
    return toWebhookMessage(row);
  }

  @Get('events')
  @ApiOperation({
    operationId: 'streamEvents',
    summary: "Server-sent events: this user's consent, payment and connection status changes and expiry warnings",
    description:
      'text/event-stream. Each event has `id:` (send the last one back as `Last-Event-ID` when reconnecting, on any replica, to get ' +
      'everything committed since), `event:` (`consent.status`, `payment.status`, `connection.status`, `connection.expiring`, `consent.expiring`) and one JSON `data:` line with `eventId` (the same id), ' +
      'the resource ids, the new status and `occurredAt`. Ids only grow, and an event is sent only once every lower id has committed ' +
      'or rolled back, so resuming never skips a change that committed late. The stream opens with an `id:` line without data (its ' +
      'starting position: a client that has received no event yet resumes from it too). Comment lines keep the connection alive. ' +
      'Delivery is at least once: de-duplicate by `eventId`. Browsers: read it with fetch and a stream reader (EventSource cannot ' +
      'send the Authorization header). Streams are closed after SSE_MAX_STREAM_SECONDS.',
  })
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Resume after this event id (the last `id:` the stream sent)' })
  @ApiQuery({
    name: 'after',
    required: false,
    description:
      'Catch up from this event id, for clients that cannot set Last-Event-ID (a first connection after the app was closed): the stream first ' +
      "sends this user's events after it, in order, then live ones. Last-Event-ID wins when both are sent (a reconnecting client's is newer).",
  })
  @ApiOkResponse({
    description: 'The event stream (open until the client leaves or SSE_MAX_STREAM_SECONDS pass)',
    content: {
      'text/event-stream': {
        schema: {
          type: 'string',
          example:
            'retry: 2000\nid: 41\n\nid: 42\nevent: payment.status\ndata: {"eventId":"42","paymentId":"…","connectionId":"…","status":"ACSC","scaStatus":"finalised","occurredAt":"…"}\n\n',
        },
      },
    },
  })
  // 400: Last-Event-ID is not an event id; 429: too many open streams for this user.
  @ApiProblems('validation_failed', 'rate_limited')
  async stream(
    @CurrentUser() user: AuthenticatedUser,
    @Headers('last-event-id') lastEventId: string | undefined,
    @Query('after') afterQuery: unknown,
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
  ): Promise<void> {
    const fromHeader = lastEventId?.trim() ? lastEventId.trim() : undefined;
    if (fromHeader !== undefined && !EVENT_ID.test(fromHeader))
      throw AppError.validation([{ field: 'header:Last-Event-ID', message: 'must be an event id (digits) from this stream' }]);
    if (afterQuery !== undefined && (typeof afterQuery !== 'string' || !EVENT_ID.test(afterQuery))) {
      throw AppError.validation([{ field: 'after', message: 'must be an event id (digits) from this stream' }]);
    }
    const after = fromHeader ?? afterQuery;
    // The stream is written straight to Node's response: an open-ended body of frames written as
    // events happen, with back-pressure read from the socket (writableLength), which a reply's
    // one-shot send() does not offer. Headers are set but not sent: should opening fail, the
    // problem filter still answers with problem+json through the reply (whose headers win).
    const res = reply.raw;
    res.statusCode = 200;
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('X-Accel-Buffering', 'no');
    // The client may leave while the stream is being opened: then it is closed as soon as it exists.
    const stream: { handle?: StreamHandle & { startId: string }; gone: boolean } = { gone: false };
    res.once('close', () => {
      stream.gone = true;
      stream.handle?.close();
    });
    stream.handle = await this.hub.open(user.id, after, {
      write: (chunk) => res.write(chunk),
      bufferedBytes: () => res.writableLength,
      end: () => res.end(),
    });
    // From here on this handler owns the response: Fastify neither sends nor waits for a reply.
    reply.hijack();
    if (stream.gone) return stream.handle.close();
    res.flushHeaders();
    req.raw.socket.setNoDelay(true);
    // Reconnect delay for clients that honour it (the SSE `retry:` field), and the stream's starting
    // position as its first id: a client that leaves before any event still resumes from here.
    res.write(`retry: 2000\nid: ${stream.handle.startId}\n\n`);
  }
}
