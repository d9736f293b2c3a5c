import type { OutboxRow } from './outbox.store.js';
import type { WebhookDelivery } from './webhook-delivery.store.js';

/** What the frontend (SSE) and the webhook receiver get for one outbox event. */
export interface EventMessage {
  /** The outbox id: SSE `id:` (send it back as Last-Event-ID) and the webhook's deduplication key. */
  id: string;
  type: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/** The webhook's body: the event and the user it belongs to (the receiver serves every user; an SSE stream only its own). */
export interface WebhookMessage extends EventMessage {
  /** The frontend user's id (the user token's `sub`), as the API knows them. */
  userId: string;
  /** The integrator's reference of the event's connection, when it has one (read at delivery). */
  externalReference?: string;
}

export function toWebhookMessage(row: Pick<WebhookDelivery, keyof OutboxRow | 'externalReference'>): WebhookMessage {
  return { ...toEventMessage(row), userId: row.userId, ...(row.externalReference !== null ? { externalReference: row.externalReference } : {}) };
}

export function toEventMessage(row: OutboxRow): EventMessage {
  return { id: row.id, type: row.type, occurredAt: new Date(row.createdAt).toISOString(), data: row.payload };
}

/**
 * One SSE frame (WHATWG HTML "server-sent events"): `id`, `event` and one `data` line, which
 * repeats the id as `eventId` for clients that de-duplicate on the payload. JSON never
 * contains a raw newline, and types and ids come from our own table, so no field can break the frame.
 */
export function sseFrame(message: EventMessage): string {
  return `id: ${message.id}\nevent: ${message.type}\ndata: ${JSON.stringify({ eventId: message.id, ...message.data, occurredAt: message.occurredAt })}\n\n`;
}
