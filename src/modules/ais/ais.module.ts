import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { BankPaceModule } from '../bank-pace/bank-pace.module.js';
import { ConnectionLifecycle } from '../connections/connection-lifecycle.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { HousekeepingTasks } from '../polling/housekeeping-tasks.js';
import { PollHandlers } from '../polling/poll-handlers.js';
import { PollingModule } from '../polling/polling.module.js';
import { AccountDataService } from './account-data.service.js';
import { AccountStore } from './account.store.js';
import { AccountsController } from './accounts.controller.js';
import { AisBank } from './ais-bank.js';
import { AisReader } from './ais-reader.js';
import { AisRefreshService } from './ais-refresh.service.js';
import { AisMetrics } from './ais.metrics.js';
import { ConsentBudgets } from './consent-budgets.service.js';
import { AisConsent } from './consent.entity.js';
import { ConsentStore } from './consent.store.js';
import { ConsentsController } from './consents.controller.js';
import { ConsentsService } from './consents.service.js';
import { StatementsService } from './statements.service.js';

/**
 * AIS: consents, and the accounts, balances and transactions read through them, kept in PostgreSQL
 * within each bank's daily budget. `ConsentStore` and `AccountStore` own the AIS tables. At start-up
 * the module registers how its poll items are polled (`consent`: a creation that never finished,
 * an unknown outcome, the status until the PSU decides; `ais-refresh`: unattended refreshes) and
 * terminates a connection's consents before it is revoked; housekeeping announces consents about
 * to end (`consent.expiring`).
 */
@Module({
  imports: [TypeOrmModule.forFeature([AisConsent]), AspspModule, BankPaceModule, ConnectionsModule, EventsModule, IdentityModule, PollingModule],
  controllers: [ConsentsController, AccountsController],
  providers: [
    ConsentsService,
    AccountDataService,
    AisRefreshService,
    AisBank,
    AisReader,
    AccountStore,
    ConsentStore,
    ConsentBudgets,
    AisMetrics,
    StatementsService,
  ],
  exports: [ConsentsService, AisRefreshService, StatementsService],
})
export class AisModule implements OnModuleInit {
  constructor(
    private readonly lifecycle: ConnectionLifecycle,
    private readonly handlers: PollHandlers,
    private readonly consents: ConsentsService,
    private readonly refreshes: AisRefreshService,
    private readonly housekeeping: HousekeepingTasks,
  ) {}

  onModuleInit(): void {
    // Deleting a connection terminates its open consents at the bank first (docs/design.md, "Connections").
    this.lifecycle.onBeforeRevoke('ais-consents', (userId, connectionId) => this.consents.terminateOpen(userId, connectionId));
    // Past the approval deadline an unapproved consent is withdrawn and expires here (reconsent required).
    this.handlers.register('consent', (item) => this.consents.pollStatus(item.resourceId, item.deadlinePassed));
    this.handlers.register('ais-refresh', async (item) => {
      const outcome = await this.refreshes.refreshUnattended(item.resourceId);
      // nextAllowedAt: the next refresh paced by the budget spent, when the window rolls, or the
      // bank's Retry-After. Without it the scheduler waits SCHEDULER_AIS_REFRESH_FALLBACK_SECONDS;
      // the ledger refuses overspending either way.
      const status = outcome.refreshed ? `refreshed:${outcome.scope}` : (outcome.reason ?? 'skipped');
      return { final: outcome.reason === 'not_valid', status, nextPollAt: outcome.nextAllowedAt };
    });
    // Consents about to end are announced once (consent.expiring), so the user can renew in time.
    this.housekeeping.register('consent-expiry-warnings', (now) => this.consents.announceExpiring(now));
  }
}
