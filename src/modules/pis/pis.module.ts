import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ConnectionsModule } from '../connections/connections.module.js';
import { Payment, PaymentStatusChange } from './payment.entity.js';
import { PaymentInitiationService } from './payment-initiation.service.js';
import { PaymentStore } from './payment.store.js';
import { PaymentsController } from './payments.controller.js';
import { PaymentsService } from './payments.service.js';

/**
 * PIS: SEPA credit transfers, idempotent per (user, Idempotency-Key), with status, history and
 * cancellation. Exports PaymentsService, whose `pollStatus(paymentId)` the scheduler calls.
 */
@Module({
  imports: [TypeOrmModule.forFeature([Payment, PaymentStatusChange]), ConnectionsModule],
  controllers: [PaymentsController],
  providers: [PaymentStore, PaymentInitiationService, PaymentsService],
  exports: [PaymentsService],
})
export class PisModule {}
