import { Module, type OnModuleInit } from '@nestjs/common';
import { AisRefreshService } from '../ais/ais-refresh.service.js';
import { AisModule } from '../ais/ais.module.js';
import { ConsentsService } from '../ais/consents.service.js';
import { PaymentsService } from '../pis/payments.service.js';
import { PisModule } from '../pis/pis.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { Housekeeping } from './housekeeping.service.js';
import { PollHandlers } from './poll-handlers.js';

/**
 * The thin pollers: each kind of poll item is one call into the AIS or PIS service, which asks the
 * bank once and records any change with its outbox event. The scheduler decides only when.
 */
@Module({ imports: [AisModule, PisModule, ConnectionsModule], providers: [Housekeeping] })
export class PollersModule implements OnModuleInit {
  constructor(
    private readonly handlers: PollHandlers,
    private readonly consents: ConsentsService,
    private readonly refreshes: AisRefreshService,
    private readonly payments: PaymentsService,
  ) {}

  onModuleInit(): void {
    // Past the approval deadline the consent is withdrawn and expires here (reconsent required).
    this.handlers.register('consent', (item) => (item.deadlinePassed ? this.consents.expireUnapproved(item.resourceId) : this.consents.pollStatus(item.resourceId)));
    this.handlers.register('payment', (item) => this.payments.pollStatus(item.resourceId));
    this.handlers.register('ais-refresh', async (item) => {
      const outcome = await this.refreshes.refreshUnattended(item.resourceId);
      // nextAllowedAt: when the budget's window rolls or the bank's Retry-After ends. Without it the
      // scheduler waits SCHEDULER_AIS_REFRESH_FALLBACK_SECONDS; the AIS budget refuses overspending either way.
      return { final: outcome.reason === 'not_valid', status: outcome.refreshed ? 'refreshed' : (outcome.reason ?? 'skipped'), nextPollAt: outcome.nextAllowedAt };
    });
  }
}
