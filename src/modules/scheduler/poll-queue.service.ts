import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

export type PollKind = 'consent' | 'payment' | 'ais-refresh';

export interface PollSchedule {
  kind: PollKind;
  /** The local id (consent or payment row, or the consent for an AIS refresh). */
  resourceId: string;
  aspspId: string;
  /** When to poll first; default now. */
  at?: Date;
  /** After this the item is timed out by the scheduler (consents), or polled slowly (payments). */
  deadlineAt?: Date;
}

/**
 * The scheduler's work list in PostgreSQL. Callers add or remove items in their own transaction
 * (the same one that wrote the consent or payment), so an item can never be lost or left behind.
 */
@Injectable()
export class PollQueue {
  async schedule(manager: EntityManager, item: PollSchedule): Promise<void> {
    await manager.query(
      `INSERT INTO poll_items (kind, resource_id, aspsp_id, next_poll_at, deadline_at)
       VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (kind, resource_id) DO UPDATE SET next_poll_at = LEAST(poll_items.next_poll_at, EXCLUDED.next_poll_at)`,
      [item.kind, item.resourceId, item.aspspId, item.at ?? new Date(), item.deadlineAt ?? null],
    );
  }

  async remove(manager: EntityManager, kind: PollKind, resourceId: string): Promise<void> {
    await manager.query('DELETE FROM poll_items WHERE kind = $1 AND resource_id = $2', [kind, resourceId]);
  }
}
