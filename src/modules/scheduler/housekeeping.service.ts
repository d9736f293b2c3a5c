import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { ConfigOf } from '../../config/define-config.js';
import { eventsConfig, schedulerConfig } from '../../config/index.js';
import { BankLoginService } from '../bank-login/bank-login.service.js';
import { OutboxStore } from '../events/outbox.store.js';
import { HousekeepingTasks } from '../polling/housekeeping-tasks.js';

const EVERY_MS = 10 * 60_000;
/** SSE clients resume within minutes; a week of events is plenty for Last-Event-ID and audits. */
export const OUTBOX_RETENTION_DAYS = 7;

/**
 * Runs the tasks modules registered (`HousekeepingTasks`: announcing bank logins and consents
 * about to end), and drops what no longer serves anyone: expired login tickets and states, and outbox events older
 * than a week — except those a configured webhook endpoint has not received yet, which are kept until it
 * does (delivery is at least once). The owners delete (the bank login's store, `OutboxStore`); this only
 * decides when and how old. Runs on every replica with the scheduler; the deletes are
 * idempotent, so replicas running it together do no harm.
 */
@Injectable()
export class Housekeeping implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(Housekeeping.name);

  constructor(
    private readonly outbox: OutboxStore,
    private readonly logins: BankLoginService,
    private readonly tasks: HousekeepingTasks,
    private readonly registry: SchedulerRegistry,
    @Inject(schedulerConfig.KEY) private readonly scheduler: ConfigOf<typeof schedulerConfig>,
    @Inject(eventsConfig.KEY) private readonly events: ConfigOf<typeof eventsConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.scheduler.enabled) return;
    this.registry.addInterval(
      'housekeeping',
      setInterval(() => void this.run().catch((error: unknown) => this.logger.warn({ error: String(error) }, 'housekeeping failed')), EVERY_MS),
    );
  }

  onApplicationShutdown(): void {
    if (this.registry.doesExist('interval', 'housekeeping')) this.registry.deleteInterval('housekeeping');
  }

  async run(now = new Date()): Promise<{ outboxDeleted: number }> {
    await this.tasks.runAll(now);
    await this.logins.purgeExpired();
    const cutoff = new Date(now.getTime() - OUTBOX_RETENTION_DAYS * 86_400_000);
    const outboxDeleted = await this.outbox.purge(
      cutoff,
      (this.events.webhook?.endpoints ?? []).map((e) => e.id),
    );
    if (outboxDeleted > 0) this.logger.log({ outboxDeleted }, 'old outbox events removed');
    return { outboxDeleted };
  }
}
