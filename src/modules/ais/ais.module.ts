import { Module, type OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { In, Repository } from 'typeorm';
import { ConnectionLifecycle } from '../connections/connection-lifecycle.js';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionsModule } from '../connections/connections.module.js';
import { AccountDataService } from './account-data.service.js';
import { AisAccount, AisConsentAccount } from './account.entity.js';
import { AccountsController } from './accounts.controller.js';
import { AisBank } from './ais-bank.js';
import { AisReader } from './ais-reader.js';
import { AisRefreshService } from './ais-refresh.service.js';
import { AisStore } from './ais-store.js';
import { AisConsent } from './consent.entity.js';
import { ConsentTransitions } from './consent-transitions.js';
import { ConsentsController } from './consents.controller.js';
import { ConsentsService } from './consents.service.js';
import { UnattendedBudget } from './unattended-budget.js';

/**
 * AIS: consents, and the accounts, balances and transactions read through them, kept in PostgreSQL
 * within each bank's daily budget. The scheduler uses `ConsentsService.pollStatus` /
 * `expireUnapproved` and `AisRefreshService.refreshUnattended`.
 */
@Module({
  imports: [TypeOrmModule.forFeature([AisConsent, AisAccount, AisConsentAccount]), ConnectionsModule],
  controllers: [ConsentsController, AccountsController],
  providers: [ConsentsService, AccountDataService, AisRefreshService, AisBank, AisReader, AisStore, ConsentTransitions, UnattendedBudget],
  exports: [ConsentsService, AisRefreshService],
})
export class AisModule implements OnModuleInit {
  constructor(
    private readonly lifecycle: ConnectionLifecycle,
    private readonly consents: ConsentsService,
    @InjectRepository(AisConsent) private readonly consentRows: Repository<AisConsent>,
  ) {}

  /** Deleting a connection terminates its open consents at the bank first (DESIGN section 5). */
  onModuleInit(): void {
    this.lifecycle.onBeforeRevoke('ais-consents', async (userId, connectionId) => {
      const open = await this.consentRows.find({ where: { userId, connectionId, status: In(['received', 'valid']) } });
      for (const consent of open) await this.consents.terminate(userId, consent.id);
    });
  }
}
