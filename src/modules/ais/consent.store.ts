import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { AppError } from '../../common/errors/app-error.js';
import { OutboxStore } from '../events/outbox.store.js';
import { PollQueue } from '../polling/poll-queue.store.js';
import { AisConsent } from './consent.entity.js';
import { canMove, isEnded, reconsentRequired, type LocalConsentStatus } from './consent-status.js';

/** How long the PSU has to approve a new consent in their bank app before the scheduler gives up. */
export const APPROVAL_DEADLINE_MS = 15 * 60_000;

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

export type NewConsent = Omit<AisConsent, 'id' | 'createdAt' | 'updatedAt'>;

/**
 * The owner of `ais_consents` and of its budget ledger `ais_unattended_reads`, on the
 * `PaymentStore` pattern: every status change runs under the consent's row lock, with its
 * `consent.status` outbox event and the poll-queue changes in the same transaction, so a change is
 * never announced without having happened, announced twice, or left with a stale poll item.
 *
 * The budget: the consent's `frequencyPerDay` unattended reads in a rolling 24 h window counted in
 * `ais_unattended_reads`. Times are the database's (`now()`), so replicas with skewed clocks agree.
 * A claim locks the consent row (`FOR UPDATE`) and counts the window before inserting its unit, so
 * two replicas (or two workers of one) can never both take the last unit. The lock is held only
 * for those three statements, never while the bank is called.
 */
@Injectable()
export class ConsentStore {
  private readonly logger = new Logger(ConsentStore.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxStore,
    private readonly polls: PollQueue,
  ) {}

  async findById(id: string): Promise<AisConsent | undefined> {
    return (await this.dataSource.getRepository(AisConsent).findOne({ where: { id } })) ?? undefined;
  }

  async findForUser(userId: string, id: string): Promise<AisConsent | undefined> {
    return (await this.dataSource.getRepository(AisConsent).findOne({ where: { id, userId } })) ?? undefined;
  }

  /** The user's consents (of one connection, if given), newest first. */
  list(userId: string, connectionId: string | undefined, limit: number): Promise<AisConsent[]> {
    return this.dataSource.getRepository(AisConsent).find({ where: { userId, ...(connectionId ? { connectionId } : {}) }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** The connection's consents that the bank may still honour (`received`, `valid`). */
  openForConnection(userId: string, connectionId: string): Promise<AisConsent[]> {
    return this.dataSource.getRepository(AisConsent).find({ where: { userId, connectionId, status: In(['received', 'valid']) } });
  }

  /** Stores a consent the bank just created, announces it and queues its status polling. */
  async create(consent: NewConsent): Promise<AisConsent> {
    return this.dataSource.transaction(async (m) => {
      const saved = await m.getRepository(AisConsent).save(m.getRepository(AisConsent).create(consent));
      await this.announce(m, saved);
      if (saved.status === 'received') {
        await this.polls.schedule(m, { kind: 'consent', resourceId: saved.id, aspspId: saved.aspspId, deadlineAt: new Date(Date.now() + APPROVAL_DEADLINE_MS) });
      }
      await this.afterMove(m, saved);
      return saved;
    });
  }

  /** Moves a consent to `to` if that is a legal move (an ended consent never comes back); returns it as stored. */
  async move(consentId: string, to: LocalConsentStatus, reason: string | null = null): Promise<AisConsent> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(AisConsent);
      const consent = await repo.findOne({ where: { id: consentId }, lock: { mode: 'pessimistic_write' } });
      if (!consent) throw AppError.notFound('Consent');
      if (!canMove(consent.status, to)) return consent;
      const from = consent.status;
      consent.status = to;
      consent.statusReason = reason;
      consent.statusChangedAt = new Date();
      await repo.update(consent.id, { status: to, statusReason: reason, statusChangedAt: consent.statusChangedAt });
      await this.announce(m, consent);
      await this.afterMove(m, consent);
      this.logger.log({ consentId, aspspId: consent.aspspId, from, to, reason }, 'consent status changed');
      return consent;
    });
  }

  /** A live consent whose validUntil (a UTC date) has passed is expired, whatever the bank last said. */
  async expireIfDue(consent: AisConsent): Promise<AisConsent> {
    if (isEnded(consent.status) || consent.validUntil >= utcDate()) return consent;
    return this.move(consent.id, 'expired', 'valid_until_passed');
  }

  /** Records, in the caller's transaction, that the consent's account list was just read from the bank. */
  async markAccountsFetched(m: EntityManager, consentId: string): Promise<void> {
    await m.query('UPDATE ais_consents SET accounts_fetched_at = now(), updated_at = now() WHERE id = $1', [consentId]);
  }

  /** Takes one unit of the unattended budget for a read of `consentId`, or says why not. */
  async claimBudget(consentId: string): Promise<{ claimId: string } | BudgetRefusal> {
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
  async releaseBudget(claimId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM ais_unattended_reads WHERE id = $1', [claimId]);
  }

  async settleBudget(claimId: string, outcome: 'ok' | 'rate_limited' | 'failed'): Promise<void> {
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

  async budgetState(consentId: string): Promise<BudgetState> {
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

  private async announce(m: EntityManager, c: AisConsent): Promise<void> {
    await this.outbox.record(m, {
      userId: c.userId,
      type: 'consent.status',
      data: { consentId: c.id, connectionId: c.connectionId, status: c.status, reconsentRequired: reconsentRequired(c.status) },
    });
  }

  private async afterMove(m: EntityManager, c: AisConsent): Promise<void> {
    if (c.status !== 'received') await this.polls.remove(m, 'consent', c.id);
    // A valid recurring consent is kept fresh by unattended refreshes within its budget.
    if (c.status === 'valid' && c.recurringIndicator) await this.polls.schedule(m, { kind: 'ais-refresh', resourceId: c.id, aspspId: c.aspspId });
    if (isEnded(c.status)) await this.polls.remove(m, 'ais-refresh', c.id);
  }
}
