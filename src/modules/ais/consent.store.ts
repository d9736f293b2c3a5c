import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, In, type EntityManager } from 'typeorm';
import type { ConsentStatus } from '../../aspsp/berlin-group/ais.js';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { AppError } from '../../common/errors/app-error.js';
import type { BudgetCounting } from '../../config/banks.config.js';
import { returningRows } from '../../database/returning.js';
import { OutboxStore } from '../events/outbox.store.js';
import { PollQueue } from '../polling/poll-queue.store.js';
import { budgetState, mayCharge, type BudgetUsage, type ChargeRequest, type ResourceUsage } from './budget.js';
import { AisConsent } from './consent.entity.js';
import { canMove, isEnded, reconsentRequired, type LocalConsentStatus } from './consent-status.js';

/** A consent past its validUntil that is still open: expireIfDue moves it to `expired`. */
export function isDueToExpire(consent: AisConsent): boolean {
  return !isEnded(consent.status) && consent.status !== 'pending' && consent.validUntil < utcDate();
}

/** How long the PSU has to approve a new consent in their bank app before the scheduler gives up. */
export const APPROVAL_DEADLINE_MS = 15 * 60_000;

const WINDOW = "interval '24 hours'";

export type BudgetRefusal = { reason: 'budget_spent' | 'rate_limited' | 'not_valid'; nextAllowedAt?: Date };

export type NewConsent = Omit<AisConsent, 'id' | 'createdAt' | 'updatedAt' | 'status' | 'bankConsentId' | 'statusReason' | 'expiryWarnedAt'>;

/** Units left across a bank's valid consents, under each counting rule (the caller picks the bank's). */
export interface UnitsLeft {
  aspspId: string;
  perCall: number;
  perResource: number;
}

interface Change {
  status: LocalConsentStatus;
  statusReason: string | null;
  bankConsentId?: string;
}

/**
 * The owner of `ais_consents` and of its budget ledger `ais_unattended_reads`, on the
 * `PaymentStore` pattern: every status change runs under the consent's row lock, with its
 * `consent.status` outbox event and the poll-queue changes in the same transaction, so a change is
 * never announced without having happened, announced twice, or left with a stale poll item.
 *
 * Creation is journaled: the row is committed `pending` (with a poll item that fires if the process
 * dies mid-call) before the bank is asked, then becomes what the bank answered, `unknown`, or is
 * discarded when the bank certainly created nothing. `pending` is never announced.
 *
 * The budget: one ledger row per unattended request carrying the Consent-ID, with its resource and
 * page, in a rolling 24 h window. Times are the database's (`now()`), so replicas with skewed clocks
 * agree. A charge locks the consent row (`FOR UPDATE`) and counts the window before inserting its
 * row, so two replicas (or two workers of one) can never both take the last unit. The lock is held
 * only for those statements, never while the bank is called.
 */
@Injectable()
export class ConsentStore {
  private readonly logger = new Logger(ConsentStore.name);

  /**
   * For AccountStore's one-statement save of an account list: stamps the consent's
   * `accountsFetchedAt` where `where` holds, returning the row with its version (`xmin`).
   */
  static stampAccountsFetched(where: string): string {
    return `UPDATE ais_consents SET accounts_fetched_at = now(), updated_at = now() WHERE ${where} RETURNING *, xmin::text AS version`;
  }

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
    return this.dataSource
      .getRepository(AisConsent)
      .find({ where: { userId, ...(connectionId ? { connectionId } : {}) }, order: { createdAt: 'DESC' }, take: limit });
  }

  /** The connection's consents that the bank may still honour (`received`, `valid`, and `unknown` ones it may have). */
  openForConnection(userId: string, connectionId: string): Promise<AisConsent[]> {
    return this.dataSource.getRepository(AisConsent).find({ where: { userId, connectionId, status: In(['received', 'valid', 'unknown']) } });
  }

  /**
   * Commits a consent request before the bank is asked: `pending`, no bank id, not announced. Its
   * poll item fires at `staleAt`: if this process dies before the answer is written, the scheduler
   * finds the row and settles it as `unknown`.
   */
  async reserve(consent: NewConsent, staleAt: Date): Promise<AisConsent> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(AisConsent);
      const saved = await repo.save(repo.create({ ...consent, status: 'pending', statusReason: null, bankConsentId: null }));
      await this.polls.schedule(m, {
        kind: 'consent',
        resourceId: saved.id,
        aspspId: saved.aspspId,
        at: staleAt,
        deadlineAt: new Date(Date.now() + APPROVAL_DEADLINE_MS),
      });
      return saved;
    });
  }

  /**
   * The bank created the consent: its id and status (normally `received`, then polled until the PSU
   * decides). A status the bank sent unreadably leaves the consent `unknown` with the id, so the
   * scheduler asks the bank for it.
   */
  recordCreated(consentId: string, bankConsentId: string, status: ConsentStatus | undefined): Promise<AisConsent> {
    const change: Change = status ? { status, statusReason: null, bankConsentId } : { status: 'unknown', statusReason: 'unreadable_status', bankConsentId };
    return this.change(consentId, change, (c) => c.status === 'pending' || (c.status === 'unknown' && c.bankConsentId === null));
  }

  /** The bank may or may not have created the consent (timeout, 500, 502, 504, a crash mid-call): `unknown`, announced, never forgotten. */
  recordUnknown(consentId: string, reason: string): Promise<AisConsent> {
    return this.change(consentId, { status: 'unknown', statusReason: reason }, (c) => c.status === 'pending');
  }

  /** The bank certainly created nothing (it refused, or no request reached it): the pending row and its poll item go. */
  async discard(consentId: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      await m.query("DELETE FROM ais_consents WHERE id = $1 AND status = 'pending'", [consentId]);
      await this.polls.remove(m, 'consent', consentId);
    });
  }

  /** Moves a consent to `to` if that is a legal move (an ended consent never comes back); returns it as stored. */
  move(consentId: string, to: LocalConsentStatus, reason: string | null = null): Promise<AisConsent> {
    return this.change(consentId, { status: to, statusReason: reason }, (c) => canMove(c.status, to));
  }

  /** A live consent whose validUntil (a UTC date) has passed is expired, whatever the bank last said (not while its creation is in flight). */
  async expireIfDue(consent: AisConsent): Promise<AisConsent> {
    if (!isDueToExpire(consent)) return consent;
    return this.move(consent.id, 'expired', 'valid_until_passed');
  }

  /**
   * Charges one unattended request against the consent's budget before it is sent, or says why it
   * may not go (`budget_spent` with the time the window rolls, `rate_limited` until the bank's
   * Retry-After, `not_valid`). Atomic across replicas: the consent row is locked while the window is
   * counted and the row inserted.
   */
  async charge(consentId: string, counting: BudgetCounting, req: ChargeRequest): Promise<{ unitId: string } | BudgetRefusal> {
    return this.dataSource.transaction(async (m) => {
      const rows: { status: string; limit: number; blocked: Date | null }[] = await m.query(
        `SELECT status, frequency_per_day AS limit, CASE WHEN budget_blocked_until > now() THEN budget_blocked_until END AS blocked
           FROM ais_consents WHERE id = $1 FOR UPDATE`,
        [consentId],
      );
      const consent = rows[0];
      if (!consent || consent.status !== 'valid') return { reason: 'not_valid' as const };
      if (consent.blocked) return { reason: 'rate_limited' as const, nextAllowedAt: consent.blocked };
      const usage: BudgetUsage = { limit: consent.limit, resources: await this.windowOf(m, consentId), blockedUntil: null };
      if (!mayCharge(usage, counting, req)) {
        const [now] = await m.query('SELECT now() AS now');
        return { reason: 'budget_spent' as const, nextAllowedAt: budgetState(usage, counting, now.now as Date).nextUnitAt };
      }
      const [unit] = await m.query('INSERT INTO ais_unattended_reads (consent_id, resource, page) VALUES ($1, $2, $3) RETURNING id::text AS id', [
        consentId,
        req.resource.slice(0, 300),
        req.page,
      ]);
      return { unitId: unit.id as string };
    });
  }

  /** Keeps a consent's ledger small: rows a week past their window serve no count, only a late look at what was spent. */
  async pruneLedger(consentId: string): Promise<void> {
    await this.dataSource.query("DELETE FROM ais_unattended_reads WHERE consent_id = $1 AND read_at < now() - interval '8 days'", [consentId]);
  }

  /** Gives a unit back: only when its request never left (the circuit was open, the connection refused). */
  async releaseUnit(unitId: string): Promise<void> {
    await this.dataSource.query('DELETE FROM ais_unattended_reads WHERE id = $1', [unitId]);
  }

  async settleUnits(unitIds: string[], outcome: 'ok' | 'rate_limited' | 'failed'): Promise<void> {
    if (unitIds.length === 0) return;
    await this.dataSource.query('UPDATE ais_unattended_reads SET outcome = $2 WHERE id = ANY($1::bigint[])', [unitIds, outcome]);
  }

  /**
   * The bank answered 429: the budget is spent whatever our count says, until the bank's
   * Retry-After or, without one, until our window rolls (the oldest counted read turns 24 h old).
   */
  async markRateLimited(consentId: string, retryAfterSeconds?: number): Promise<Date> {
    const result: unknown = await this.dataSource.query(
      `UPDATE ais_consents SET budget_blocked_until = GREATEST(
          COALESCE(budget_blocked_until, '-infinity'),
          CASE WHEN $2::int IS NOT NULL THEN now() + make_interval(secs => $2::int)
               ELSE COALESCE((SELECT min(read_at) FROM ais_unattended_reads WHERE consent_id = $1 AND read_at > now() - ${WINDOW}), now()) + ${WINDOW} END),
          updated_at = now()
        WHERE id = $1 RETURNING budget_blocked_until`,
      [consentId, retryAfterSeconds ?? null],
    );
    return returningRows<{ budget_blocked_until: Date }>(result)[0]?.budget_blocked_until ?? new Date();
  }

  /**
   * The ledger's view of each consent's window, and the database's now() it was counted at: one
   * round trip for any number of consents (the limit and any 429 block are on the consent rows the
   * caller holds).
   */
  async windows(consentIds: string[]): Promise<{ now: Date; windows: Map<string, ResourceUsage[]> }> {
    const rows: (ResourceUsage & { consentId: string | null; now: Date })[] = await this.dataSource.query(
      `WITH w AS (
         SELECT consent_id::text AS "consentId", resource, count(*)::int AS calls, (count(*) FILTER (WHERE page = 1))::int AS reads,
                min(read_at) AS "oldestCallAt", min(read_at) FILTER (WHERE page = 1) AS "oldestReadAt"
           FROM ais_unattended_reads WHERE consent_id = ANY($1::uuid[]) AND read_at > now() - ${WINDOW}
          GROUP BY consent_id, resource
       )
       SELECT now() AS now, w.* FROM (SELECT 1) AS one LEFT JOIN w ON true`,
      [consentIds],
    );
    const windows = new Map<string, ResourceUsage[]>();
    for (const { consentId, now: _, ...usage } of rows) if (consentId !== null) windows.set(consentId, [...(windows.get(consentId) ?? []), usage]);
    return { now: rows[0]!.now, windows };
  }

  /** The ledger's view of one consent's budget now (its limit and any 429 block read with it). */
  async usage(consentId: string): Promise<BudgetUsage | undefined> {
    const [consent]: { limit: number; blocked: Date | null }[] = await this.dataSource.query(
      'SELECT frequency_per_day AS limit, CASE WHEN budget_blocked_until > now() THEN budget_blocked_until END AS blocked FROM ais_consents WHERE id = $1',
      [consentId],
    );
    if (!consent) return undefined;
    return { limit: consent.limit, resources: await this.windowOf(this.dataSource.manager, consentId), blockedUntil: consent.blocked };
  }

  /** The database's clock, which the ledger's window is counted on. */
  async now(): Promise<Date> {
    const [row] = await this.dataSource.query('SELECT now() AS now');
    return row.now as Date;
  }

  /** For the budget gauge: units left across each bank's usable consents (valid, not past validUntil), under both counting rules. */
  unitsLeft(): Promise<UnitsLeft[]> {
    return this.dataSource.query(
      `WITH w AS (
         SELECT consent_id, resource, count(*)::int AS calls, (count(*) FILTER (WHERE page = 1))::int AS reads
           FROM ais_unattended_reads WHERE read_at > now() - ${WINDOW} GROUP BY consent_id, resource
       ), per_consent AS (
         SELECT c.aspsp_id, c.frequency_per_day AS lim, COALESCE(c.budget_blocked_until > now(), false) AS blocked,
                COALESCE((SELECT sum(calls) FROM w WHERE w.consent_id = c.id), 0) AS calls,
                COALESCE((SELECT max(reads) FROM w WHERE w.consent_id = c.id AND w.resource <> '*'), 0)
                  + COALESCE((SELECT sum(reads) FROM w WHERE w.consent_id = c.id AND w.resource = '*'), 0) AS reads
           FROM ais_consents c WHERE c.status = 'valid' AND c.valid_until >= current_date
       )
       SELECT aspsp_id AS "aspspId",
              COALESCE(sum(CASE WHEN blocked THEN 0 ELSE greatest(lim - calls, 0) END), 0)::int AS "perCall",
              COALESCE(sum(CASE WHEN blocked THEN 0 ELSE greatest(lim - reads, 0) END), 0)::int AS "perResource"
         FROM per_consent GROUP BY aspsp_id`,
    );
  }

  /** For the reconciliation gauge: consents whose creation outcome is still unknown, per bank. */
  unsettled(): Promise<{ aspspId: string; unknown: number }[]> {
    return this.dataSource.query(`SELECT aspsp_id AS "aspspId", count(*)::int AS unknown FROM ais_consents WHERE status = 'unknown' GROUP BY aspsp_id`);
  }

  private async windowOf(m: EntityManager, consentId: string): Promise<ResourceUsage[]> {
    return (await this.windowsOf(m, [consentId])).get(consentId) ?? [];
  }

  private async windowsOf(m: EntityManager, consentIds: string[]): Promise<Map<string, ResourceUsage[]>> {
    const rows: (ResourceUsage & { consentId: string })[] = await m.query(
      `SELECT consent_id::text AS "consentId", resource, count(*)::int AS calls, (count(*) FILTER (WHERE page = 1))::int AS reads,
              min(read_at) AS "oldestCallAt", min(read_at) FILTER (WHERE page = 1) AS "oldestReadAt"
         FROM ais_unattended_reads WHERE consent_id = ANY($1::uuid[]) AND read_at > now() - ${WINDOW}
        GROUP BY consent_id, resource`,
      [consentIds],
    );
    const out = new Map<string, ResourceUsage[]>();
    for (const { consentId, ...usage } of rows) out.set(consentId, [...(out.get(consentId) ?? []), usage]);
    return out;
  }

  /**
   * Marks the valid consents whose last day (`validUntil`) is `lastDay` or earlier and not yet
   * announced, and writes a `consent.expiring` event for each in the same transaction: each
   * consent's end is announced once, by whichever replica gets there first. Returns how many.
   */
  async announceExpiring(now: Date, lastDay: string): Promise<number> {
    return this.dataSource.transaction(async (m) => {
      const rows = returningRows<{ id: string; userId: string; connectionId: string; aspspId: string; validUntil: string }>(
        await m.query(
          `UPDATE ais_consents SET expiry_warned_at = $1
            WHERE id IN (SELECT id FROM ais_consents WHERE status = 'valid' AND expiry_warned_at IS NULL AND valid_until <= $2::date
                         ORDER BY valid_until LIMIT 500 FOR UPDATE SKIP LOCKED)
            RETURNING id, user_id AS "userId", connection_id AS "connectionId", aspsp_id AS "aspspId", to_char(valid_until, 'YYYY-MM-DD') AS "validUntil"`,
          [now, lastDay],
        ),
      );
      for (const row of rows) {
        await this.outbox.record(m, {
          userId: row.userId,
          type: 'consent.expiring',
          data: { consentId: row.id, connectionId: row.connectionId, aspspId: row.aspspId, status: 'valid', validUntil: row.validUntil },
        });
      }
      return rows.length;
    });
  }

  /** A status change under the row lock, with its event and poll items; skipped (row returned as is) unless `allowed`. */
  private async change(consentId: string, change: Change, allowed: (current: AisConsent) => boolean): Promise<AisConsent> {
    return this.dataSource.transaction(async (m) => {
      const repo = m.getRepository(AisConsent);
      const consent = await repo.findOne({ where: { id: consentId }, lock: { mode: 'pessimistic_write' } });
      if (!consent) throw AppError.notFound('Consent');
      if (!allowed(consent)) return consent;
      const from = consent.status;
      consent.status = change.status;
      consent.statusReason = change.statusReason;
      consent.statusChangedAt = new Date();
      if (change.bankConsentId !== undefined) consent.bankConsentId = change.bankConsentId;
      await repo.update(consent.id, {
        status: consent.status,
        statusReason: consent.statusReason,
        statusChangedAt: consent.statusChangedAt,
        bankConsentId: consent.bankConsentId,
      });
      await this.announce(m, consent);
      await this.afterMove(m, consent);
      this.logger.log({ consentId, aspspId: consent.aspspId, from, to: consent.status, reason: consent.statusReason }, 'consent status changed');
      return consent;
    });
  }

  private async announce(m: EntityManager, c: AisConsent): Promise<void> {
    await this.outbox.record(m, {
      userId: c.userId,
      type: 'consent.status',
      data: { consentId: c.id, connectionId: c.connectionId, status: c.status, reconsentRequired: reconsentRequired(c.status) },
    });
  }

  private async afterMove(m: EntityManager, c: AisConsent): Promise<void> {
    // Status polling while the PSU decides, and while an unknown consent can be asked for by id.
    const askBank = c.status === 'received' || (c.status === 'unknown' && c.bankConsentId !== null);
    if (askBank) await this.polls.schedule(m, { kind: 'consent', resourceId: c.id, aspspId: c.aspspId });
    else await this.polls.remove(m, 'consent', c.id);
    // A valid recurring consent is kept fresh by unattended refreshes within its budget.
    if (c.status === 'valid' && c.recurringIndicator) await this.polls.schedule(m, { kind: 'ais-refresh', resourceId: c.id, aspspId: c.aspspId });
    if (isEnded(c.status)) await this.polls.remove(m, 'ais-refresh', c.id);
  }
}
