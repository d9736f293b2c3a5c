import { Module, type OnModuleInit } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AspspModule } from '../../aspsp/aspsp.module.js';
import { BankPaceModule } from '../bank-pace/bank-pace.module.js';
import { AisModule } from '../ais/ais.module.js';
import { ConnectionsModule } from '../connections/connections.module.js';
import { EventsModule } from '../events/events.module.js';
import { IdentityModule } from '../identity/identity.module.js';
import { PollHandlers } from '../polling/poll-handlers.js';
import { PollingModule } from '../polling/polling.module.js';
import { Payment, PaymentStatusChange } from './payment.entity.js';
import { PaymentInitiationService } from './payment-initiation.service.js';
import { PaymentReconciliationService } from './payment-reconciliation.service.js';
import { PisMetrics } from './pis.metrics.js';
import { PaymentStore } from './payment.store.js';
import { PaymentsController } from './payments.controller.js';
import { PaymentsService } from './payments.service.js';

/**
 * PIS: SEPA credit transfers, idempotent per (user, Idempotency-Key), with status, history and
 * cancellation. `PaymentStore` owns the payment tables. At start-up the module registers how
 * `payment` poll items are polled (`PaymentsService.pollStatus`).
 */
@Module({
  // AIS: the stored statements that reconcile a payment whose initiation outcome is unknown.
  imports: [
    TypeOrmModule.forFeature([Payment, PaymentStatusChange]),
    AspspModule,
    AisModule,
    BankPaceModule,
    ConnectionsModule,
    EventsModule,
    IdentityModule,
    PollingModule,
  ],
  controllers: [PaymentsController],
  providers: [PaymentStore, PaymentInitiationService, PaymentsService, PaymentReconciliationService, PisMetrics],
  exports: [PaymentsService],
})
export class PisModule implements OnModuleInit {
  constructor(
    private readonly handlers: PollHandlers,
    private readonly payments: PaymentsService,
  ) {}

  onModuleInit(): void {
    this.handlers.register('payment', (item) => this.payments.pollStatus(item.resourceId));
  }
}
