import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { returningRows } from '../../database/returning.js';

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

/** An item this replica holds a lease on. Times are the database's clock. */
export interface ClaimedItem {
  kind: PollKind;
  resourceId: string;
  aspspId: string;
  nextPollAt: Date;
  attempts: number;
  failures: number;
  startedAt: Date;
  deadlineAt: Date | null;
  lastStatus: string | null;
  statusSince: Date | null;
  /** The database's now() when the lease was taken. */
  claimedAt: Date;
}

export interface ClaimRequest {
  /** This replica's id, written to `leased_by`. */
  owner: string;
  limit: number;
  leaseSeconds: number;
  /** Never claim an item polled less than this ago, whatever its next_poll_at says. */
  minIntervalMs: number;
  kinds: PollKind[];
}

export interface PollRecord {
  /** Next poll this long after the database's now() at the time of writing. */
  delayMs: number;
  failures: number;
  outcome: string;
  /** The status the poll returned (null after an error: the last known status stays). */
  status: string | null;
}

const COLUMNS = `p.kind, p.resource_id AS "resourceId", p.aspsp_id AS "aspspId", p.next_poll_at AS "nextPollAt", p.attempts, p.failures,
  p.started_at AS "startedAt", p.deadline_at AS "deadlineAt", p.last_status AS "lastStatus", p.status_since AS "statusSince", now() AS "claimedAt"`;

/**
 * The owner of `poll_items`: the scheduler's work list in PostgreSQL. Callers add or remove items in their own transaction
 * (the same one that wrote the consent or payment), so an item can never be lost or left behind.
 * The worker claims due items with a lease (`FOR UPDATE SKIP LOCKED`: replicas never wait for
 * nor take each other's items) and writes the outcome only while it still holds the lease.
 */
@Injectable()
export class PollQueue {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async schedule(manager: EntityManager, item: PollSchedule): Promise<void> {
    await manager.query(PollQueue.scheduleFrom('VALUES ($1, $2::uuid, $3, $4::timestamptz, $5::timestamptz)'), [
      item.kind,
      item.resourceId,
      item.aspspId,
      item.at ?? new Date(),
      item.deadlineAt ?? null,
    ]);
  }

  /**
   * `schedule` as SQL for a caller's own one-statement change: adds (or brings forward) an item
   * for each row of `rows`, a VALUES list or SELECT of (kind, resource_id, aspsp_id, next_poll_at,
   * deadline_at).
   */
  static scheduleFrom(rows: string): string {
    return `INSERT INTO poll_items (kind, resource_id, aspsp_id, next_poll_at, deadline_at) ${rows}
      ON CONFLICT (kind, resource_id) DO UPDATE SET next_poll_at = LEAST(poll_items.next_poll_at, EXCLUDED.next_poll_at)`;
  }

  async remove(manager: EntityManager, kind: PollKind, resourceId: string): Promise<void> {
    await manager.query(PollQueue.removeWhere('$1', '$2::uuid'), [kind, resourceId]);
  }

  /**
   * `remove` as SQL for a caller's own one-statement change: deletes the item of `kind` for
   * `resourceId` (placeholders or expressions) when `condition` holds.
   */
  static removeWhere(kind: string, resourceId: string, condition = 'true'): string {
    return `DELETE FROM poll_items WHERE kind = ${kind} AND resource_id = ${resourceId} AND ${condition}`;
  }

  /**
   * Leases up to `limit` due items in one statement. An item is due when its time has come, no
   * live lease holds it (an expired lease is a crashed or stuck replica: the item is taken over),
   * and its last poll ended at least `minIntervalMs` ago (the banks' one-request-per-second rule
   * holds even when someone pulled `next_poll_at` forward).
   */
  async claim(req: ClaimRequest): Promise<ClaimedItem[]> {
    if (req.kinds.length === 0 || req.limit <= 0) return [];
    const result: unknown = await this.dataSource.query(
      `UPDATE poll_items p SET lease_until = now() + make_interval(secs => $2), leased_by = $1
       FROM (
         SELECT kind, resource_id FROM poll_items
         WHERE next_poll_at <= now()
           AND (lease_until IS NULL OR lease_until < now())
           AND (last_polled_at IS NULL OR last_polled_at <= now() - make_interval(secs => $3::double precision / 1000))
           AND kind = ANY($4::text[])
         ORDER BY next_poll_at
         LIMIT $5
         FOR UPDATE SKIP LOCKED
       ) due
       WHERE p.kind = due.kind AND p.resource_id = due.resource_id
       RETURNING ${COLUMNS}`,
      [req.owner, req.leaseSeconds, req.minIntervalMs, req.kinds, req.limit],
    );
    return returningRows<ClaimedItem>(result);
  }

  /** Writes a poll's outcome and the next time, and drops the lease; false when the lease was lost meanwhile. */
  async reschedule(owner: string, item: Pick<ClaimedItem, 'kind' | 'resourceId'>, record: PollRecord): Promise<boolean> {
    const result: unknown = await this.dataSource.query(
      `UPDATE poll_items SET
         next_poll_at = now() + make_interval(secs => $4::double precision / 1000),
         lease_until = NULL, leased_by = NULL,
         attempts = attempts + 1, failures = $5,
         last_polled_at = now(), last_outcome = $6,
         status_since = CASE WHEN $7::text IS NOT NULL AND last_status IS DISTINCT FROM $7::text THEN now() ELSE status_since END,
         last_status = COALESCE($7::text, last_status)
       WHERE kind = $1 AND resource_id = $2 AND leased_by = $3
       RETURNING 1`,
      [item.kind, item.resourceId, owner, record.delayMs, record.failures, record.outcome.slice(0, 60), record.status?.slice(0, 60) ?? null],
    );
    return returningRows(result).length > 0;
  }

  /** Extends this replica's leases on items whose polls are still running. */
  async renew(owner: string, items: Pick<ClaimedItem, 'kind' | 'resourceId'>[], leaseSeconds: number): Promise<void> {
    if (items.length === 0) return;
    await this.dataSource.query(
      `UPDATE poll_items p SET lease_until = now() + make_interval(secs => $4)
       FROM unnest($2::text[], $3::uuid[]) AS running(kind, resource_id)
       WHERE p.kind = running.kind AND p.resource_id = running.resource_id AND p.leased_by = $1`,
      [owner, items.map((i) => i.kind), items.map((i) => i.resourceId), leaseSeconds],
    );
  }

  /** Drops a finished item, if this replica still holds it (the handler may have removed it already). */
  async complete(owner: string, item: Pick<ClaimedItem, 'kind' | 'resourceId'>): Promise<void> {
    await this.dataSource.query('DELETE FROM poll_items WHERE kind = $1 AND resource_id = $2 AND leased_by = $3', [item.kind, item.resourceId, owner]);
  }

  /** When each of these items is next due (absent: no item), e.g. to tell the frontend when data will next be refreshed. */
  async nextPollAt(kind: PollKind, resourceIds: string[]): Promise<Map<string, Date>> {
    if (resourceIds.length === 0) return new Map();
    const rows: { resourceId: string; at: Date }[] = await this.dataSource.query(
      'SELECT resource_id::text AS "resourceId", next_poll_at AS at FROM poll_items WHERE kind = $1 AND resource_id = ANY($2::uuid[])',
      [kind, resourceIds],
    );
    return new Map(rows.map((r) => [r.resourceId, r.at]));
  }

  /** Items whose time has come, per kind (a metric: a growing number means the replicas cannot keep up). */
  async dueCounts(): Promise<{ kind: string; due: number }[]> {
    return this.dataSource.query('SELECT kind, count(*)::int AS due FROM poll_items WHERE next_poll_at <= now() GROUP BY kind');
  }
}
