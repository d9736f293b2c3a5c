import { ApiProperty, ApiPropertyOptional, IntersectionType } from '@nestjs/swagger';
import { SCA_STATUSES } from '../../aspsp/berlin-group/pis.js';
import { LOCAL_CONSENT_STATUSES } from '../ais/consent-status.js';
import { PAYMENT_STATUSES, RECONCILIATION_OUTCOMES, TRACKING_END_REASONS } from '../pis/payment.view.js';

const CONNECTION_STATUSES = ['pending', 'active', 'reauth_required', 'revoked', 'failed'];

/**
 * The payloads of the events the API pushes: the `data:` line of an SSE frame (GET /api/v1/events)
 * and the `data` of a webhook message. Documented as schemas so a client is generated for them too.
 */
export class ConsentStatusEventData {
  @ApiProperty({ format: 'uuid' }) consentId!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ enum: LOCAL_CONSENT_STATUSES }) status!: string;
  @ApiProperty({ description: 'The bank or the PSU ended the consent: ask the user for a new one' }) reconsentRequired!: boolean;
}

export class PaymentStatusEventData {
  @ApiProperty({ format: 'uuid' }) paymentId!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ enum: PAYMENT_STATUSES }) status!: string;
  @ApiPropertyOptional({ enum: SCA_STATUSES, type: 'string', nullable: true }) scaStatus?: string | null;
  @ApiPropertyOptional({ enum: TRACKING_END_REASONS, description: 'Present when the BFF stops asking the bank about the payment' }) trackingEndReason?: string;
  @ApiPropertyOptional({ enum: RECONCILIATION_OUTCOMES, description: 'Present when reconciliation settled an unknown payment' }) reconciliationOutcome?: string;
}

export class ConnectionStatusEventData {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: CONNECTION_STATUSES }) status!: string;
  @ApiProperty({ enum: CONNECTION_STATUSES }) previousStatus!: string;
  @ApiPropertyOptional({ description: 'Why the connection left active (machine-readable), e.g. the bank refused the refresh token' }) reason?: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When the PSU must log in at the bank again' }) reauthBy?: string;
}

export class ConnectionExpiringEventData {
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: ['active'] }) status!: string;
  @ApiProperty({ format: 'date-time', description: 'The bank login ends then: offer POST /api/v1/connections/{id}/reauthorize' }) reauthBy!: string;
}

export class ConsentExpiringEventData {
  @ApiProperty({ format: 'uuid' }) consentId!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ enum: ['valid'] }) status!: string;
  @ApiProperty({ format: 'date', description: 'Last day (UTC) the consent can be used: offer a new consent' }) validUntil!: string;
}

/** The fields every SSE `data:` line adds to its event's data. */
class SseEventFields {
  @ApiProperty({ pattern: '^[0-9]{1,18}$', description: 'The SSE `id:` again: de-duplicate on it (delivery is at least once)' }) eventId!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
}

/** An SSE `data:` line is its event's data with eventId and occurredAt beside it. */
export class ConsentStatusEvent extends IntersectionType(SseEventFields, ConsentStatusEventData) {}
export class PaymentStatusEvent extends IntersectionType(SseEventFields, PaymentStatusEventData) {}
export class ConnectionStatusEvent extends IntersectionType(SseEventFields, ConnectionStatusEventData) {}
export class ConnectionExpiringEvent extends IntersectionType(SseEventFields, ConnectionExpiringEventData) {}
export class ConsentExpiringEvent extends IntersectionType(SseEventFields, ConsentExpiringEventData) {}

/** The body of a webhook POST (signed: see the X-Signature header). */
export class WebhookMessage {
  @ApiProperty({ pattern: '^[0-9]{1,18}$', description: 'The event id, also the X-Event-Id header: de-duplicate on it' }) id!: string;
  @ApiProperty({
    enum: ['consent.status', 'payment.status', 'connection.status', 'connection.expiring', 'consent.expiring'],
    description: 'Also the X-Event-Type header',
  })
  type!: string;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ description: "The frontend user's id (the user token's sub) the event belongs to" }) userId!: string;
  @ApiPropertyOptional({
    description:
      "The externalReference of the event's connection (data.connectionId), when it has one: the value it has when the event is delivered " +
      '(a PATCH /api/v1/connections/{id} reaches events still waiting for delivery, and replays)',
  })
  externalReference?: string;
}

export class ConsentStatusWebhook extends WebhookMessage {
  @ApiProperty({ enum: ['consent.status'] }) declare type: string;
  @ApiProperty({ type: ConsentStatusEventData }) data!: ConsentStatusEventData;
}

export class PaymentStatusWebhook extends WebhookMessage {
  @ApiProperty({ enum: ['payment.status'] }) declare type: string;
  @ApiProperty({ type: PaymentStatusEventData }) data!: PaymentStatusEventData;
}

export class ConnectionStatusWebhook extends WebhookMessage {
  @ApiProperty({ enum: ['connection.status'] }) declare type: string;
  @ApiProperty({ type: ConnectionStatusEventData }) data!: ConnectionStatusEventData;
}

export class ConnectionExpiringWebhook extends WebhookMessage {
  @ApiProperty({ enum: ['connection.expiring'] }) declare type: string;
  @ApiProperty({ type: ConnectionExpiringEventData }) data!: ConnectionExpiringEventData;
}

export class ConsentExpiringWebhook extends WebhookMessage {
  @ApiProperty({ enum: ['consent.expiring'] }) declare type: string;
  @ApiProperty({ type: ConsentExpiringEventData }) data!: ConsentExpiringEventData;
}

/** Event type → the schema of its SSE data line and of its webhook body. */
export const DOCUMENTED_EVENTS = {
  'consent.status': { sse: ConsentStatusEvent, webhook: ConsentStatusWebhook },
  'payment.status': { sse: PaymentStatusEvent, webhook: PaymentStatusWebhook },
  'connection.status': { sse: ConnectionStatusEvent, webhook: ConnectionStatusWebhook },
  'connection.expiring': { sse: ConnectionExpiringEvent, webhook: ConnectionExpiringWebhook },
  'consent.expiring': { sse: ConsentExpiringEvent, webhook: ConsentExpiringWebhook },
} as const;
