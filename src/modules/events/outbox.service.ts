import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type EventType = 'consent.status' | 'payment.status' | 'connection.status';

export interface OutboxEvent {
  userId: string;
  type: EventType;
  /** What the frontend receives; ids and statuses only, never a token or a bank secret. */
  data: Record<string, unknown>;
}

/**
 * The transactional outbox: a status change and its event are written in the same transaction,
 * so a change is never announced without having happened, nor lost after it did. Publishing (SSE,
 * webhooks) reads the table afterwards.
 */
@Injectable()
export class OutboxService {
  async record(manager: EntityManager, event: OutboxEvent): Promise<void> {
    await manager.query('INSERT INTO outbox_events (user_id, type, payload) VALUES ($1, $2, $3)', [event.userId, event.type, JSON.stringify(event.data)]);
  }
}
