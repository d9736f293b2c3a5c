import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { utcDate } from '../../aspsp/berlin-group/dates.js';
import { AppError } from '../../common/errors/app-error.js';
import { OutboxService } from '../events/outbox.service.js';
import { PollQueue } from '../scheduler/poll-queue.service.js';
import { AisConsent } from './consent.entity.js';
import { canMove, isEnded, reconsentRequired, type LocalConsentStatus } from './consent-status.js';

/** How long the PSU has to approve a new consent in their bank app before the scheduler gives up. */
export const APPROVAL_DEADLINE_MS = 15 * 60_000;

/**
 * Every consent status change goes through here: under the consent's row lock, with its
 * `consent.status` outbox event and the poll-queue changes in the same transaction, so a change is
 * never announced without having happened, announced twice, or left with a stale poll item.
 */
@Injectable()
export class ConsentTransitions {
  private readonly logger = new Logger(ConsentTransitions.name);

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxService,
    private readonly polls: PollQueue,
  ) {}

  /** Stores a consent the bank just created, announces it and queues its status polling. */
  async created(consent: AisConsent): Promise<AisConsent> {
    return this.dataSource.transaction(async (m) => {
      const saved = await m.getRepository(AisConsent).save(consent);
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
