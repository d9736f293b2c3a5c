import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, getSchemaPath, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { ProblemDetails } from '../common/errors/problem.view.js';
import { DOCUMENTED_EVENTS } from '../modules/events/event.view.js';
import { completeDocument } from './complete-document.js';

const WEBHOOK_HEADERS = {
  'X-Event-Id': { description: 'The event id (the body’s `id`): de-duplicate on it', required: true, schema: { type: 'string' } },
  'X-Event-Type': { description: 'The event type (the body’s `type`)', required: true, schema: { type: 'string' } },
  'X-Signature': {
    description:
      '`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">` under the endpoint\'s secret (WEBHOOK_SECRET, or its `secret` in WEBHOOK_ENDPOINTS): ' +
      'verify it in constant time and refuse an old `t`',
    required: true,
    schema: { type: 'string', pattern: '^t=[0-9]{1,12},v1=[0-9a-f]{64}$' },
  },
  'X-Event-Replay': {
    description: 'Present (`true`) when an operator queued the event again (POST /ops/webhooks/events/{id}/replay): the same X-Event-Id as before',
    required: false,
    schema: { type: 'string', pattern: '^true$' },
  },
} as const;

/** Event payloads as components, their SSE frames under `x-sse-events`, their webhook POSTs under `webhooks`. */
function describeEvents(document: OpenAPIObject): void {
  const events = Object.entries(DOCUMENTED_EVENTS);
  document.webhooks = Object.fromEntries(
    events.map(([type, { webhook }]) => [
      type,
      {
        post: {
          operationId: `on${type.replace(/(^|\.)(\w)/g, (_, __: string, c: string) => c.toUpperCase())}`,
          summary: `Sent to each webhook endpoint whose event types include ${type} (WEBHOOK_URL, WEBHOOK_ENDPOINTS), at least once: de-duplicate by id`,
          parameters: Object.entries(WEBHOOK_HEADERS).map(([name, h]) => ({ name, in: 'header' as const, ...h })),
          requestBody: { required: true, content: { 'application/json': { schema: { $ref: getSchemaPath(webhook) } } } },
          responses: { '2XX': { description: 'Received; any other answer (or none within WEBHOOK_TIMEOUT_MS) is retried with backoff' } },
        },
      },
    ]),
  );
  const stream = document.paths['/api/v1/events']?.get?.responses['200'];
  const content = stream && 'content' in stream ? stream.content?.['text/event-stream'] : undefined;
  if (content) {
    // Each frame's `event:` names its type and its `data:` line is one JSON value of that schema.
    Object.assign(content.schema ?? {}, { 'x-sse-events': Object.fromEntries(events.map(([type, { sse }]) => [type, { $ref: getSchemaPath(sse) }])) });
  }
}

const extraModels = [ProblemDetails, ...Object.values(DOCUMENTED_EVENTS).flatMap(({ sse, webhook }) => [sse, webhook])];

/**
 * The OpenAPI 3.1 document of the API, as `/docs-json` serves it and `npm run openapi` commits it
 * (specs/tpp-bff.openapi.json). It describes what the server sends: the contract test checks every
 * answer the suites receive against it.
 */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setOpenAPIVersion('3.1.0')
      .setTitle('tpp-bff')
      .setDescription('Backend-for-frontend of a PSD2 TPP: bank connections, accounts (AIS), payments (PIS). Errors are application/problem+json (RFC 9457).')
      .setVersion('1')
      .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }, 'user')
      .addTag('connections', 'Banks, and connecting the user’s bank (OAuth2 login at the bank)')
      .addTag('ais', 'Account information: consents, accounts, balances, transactions')
      .addTag('payments', 'Payment initiation: SEPA credit transfers, status, cancellation')
      .addTag('events', 'Server-sent events of status changes (also sent as webhooks)')
      .addTag('identity', 'The user behind the token; the sandbox demo login')
      .addTag('demo', 'The sandbox demo page’s configuration')
      .addTag('ops', 'Liveness and readiness')
      .build(),
    // The whole error catalogue and the event payloads, whether or not a route refers to them.
    { extraModels },
  );
  describeEvents(document);
  return completeDocument(document);
}
