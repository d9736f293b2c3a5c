import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

const WINDOW = "interval '24 hours'";

export type BudgetRefusal = { reason: 'budget_spent' | 'rate_limited' | 'not_valid'; nextAllowedAt?: Date };

export interface BudgetState {
  used: number;
  limit: number;
  /** The budget is spent (our count) or the bank said 429 and its window has not rolled yet. */
  spent: boolean;
  rateLimited: boolean;
  /** When the next unattended read is allowed, if not now. */
  nextAllowedAt?: Date;
}

/**
 * The consent's `frequencyPerDay` budget of unattended reads, in a rolling 24 h window counted in
 * `ais_unattended_reads`. Times are the database's (`now()`), so replicas with skewed clocks agree.
 *
 * A claim locks the consent row (`FOR UPDATE`) and counts the window before inserting its unit, so
 * two replicas (or two workers of one) can never both take the last unit. The lock is held only for
 * those three statements, never while the bank is called.
 */
@Injectable()
export class UnattendedBudget {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Takes one unit for a read of `consentId`, or says why not. */
  async claim(consentId: string): Promise<{ claimId: string } | BudgetRefusal> {
    return this.dataSource.transaction(async (m) => {
      const rows: { status: string; frequency_per_day: number; blocked: Date | null }[] = await m.query(
        `SELECT status, frequency_per_day, CASE WHEN budget_blocked_until > now() THEN budget_blocked_until END AS blocked
           FROM ais_consents WHERE id = $1 FOR UPDATE`,
        [consentId],
      );
      const consent = rows[0];
      if (!consent || consent.status !== 'valid') return { reason: 'not_valid' as const };
      if (consent.blocked) return { reason: 'rate_limited' as const, nextAllowedAt: consent.blocked };
      const [window] = await m.query(
        `SELECT count(*)::int AS used, min(read_at) + ${WINDOW} AS rolls_at FROM ais_unattended_reads WHERE consent_id = $1 AND read_at > now() - ${WINDOW}`,
        [consentId],
      );
      if (window.used >= consent.frequency_per_day) return { reason: 'budget_spent' as const, nextAllowedAt: window.rolls_at as Date };
      const [claim] = await m.query('INSERT INTO ais_unattended_reads (consent_id) VALUES ($1) RETURNING id::text AS id', [consentId]);
      return { claimId: claim.id as string };
    });
  }

  /** Gives a unit back: only when no request of the read ever reached the bank. */
  async release(claimId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM ais_unattended_reads WHERE id = $1', [claimId]);
  }

  async settle(claimId: string, outcome: 'ok' | 'rate_limited' | 'failed'): Promise<void> {
    await this.dataSource.query('UPDATE ais_unattended_reads SET outcome = $2 WHERE id = $1', [claimId, outcome]);
  }

  /**
   * The bank answered 429: the budget is spent whatever our count says, until the bank's
   * Retry-After or, without one, until our window rolls (the oldest counted read turns 24 h old).
   */
  async markRateLimited(consentId: string, retryAfterSeconds?: number): Promise<Date> {
    // UPDATE … RETURNING answers [rows, count] on postgres.
    const [rows]: [{ budget_blocked_until: Date }[], number] = await this.dataSource.query(
      `UPDATE ais_consents SET budget_blocked_until = GREATEST(
          COALESCE(budget_blocked_until, '-infinity'),
          CASE WHEN $2::int IS NOT NULL THEN now() + make_interval(secs => $2::int)
               ELSE COALESCE((SELECT min(read_at) FROM ais_unattended_reads WHERE consent_id = $1 AND read_at > now() - ${WINDOW}), now()) + ${WINDOW} END),
          updated_at = now()
        WHERE id = $1 RETURNING budget_blocked_until`,
      [consentId, retryAfterSeconds ?? null],
    );
    return rows[0]?.budget_blocked_until ?? new Date();
  }

  async state(consentId: string): Promise<BudgetState> {
    const [row] = await this.dataSource.query(
      `SELECT c.frequency_per_day AS limit, CASE WHEN c.budget_blocked_until > now() THEN c.budget_blocked_until END AS blocked,
              count(r.id)::int AS used, min(r.read_at) + ${WINDOW} AS rolls_at
         FROM ais_consents c LEFT JOIN ais_unattended_reads r ON r.consent_id = c.id AND r.read_at > now() - ${WINDOW}
        WHERE c.id = $1 GROUP BY c.id`,
      [consentId],
    );
    if (!row) return { used: 0, limit: 0, spent: false, rateLimited: false };
    const rateLimited = row.blocked !== null;
    const exhausted = row.used >= row.limit;
    return {
      used: row.used,
      limit: row.limit,
      spent: rateLimited || exhausted,
      rateLimited,
      nextAllowedAt: rateLimited ? row.blocked : exhausted ? row.rolls_at : undefined,
    };
  }
}
