import { Module } from '@nestjs/common';
import { AccountsController } from './accounts/accounts.controller.js';
import { AccountsService } from './accounts/accounts.service.js';
import { FrequencyBudget } from './accounts/frequency-budget.js';
import { ConsentService } from './consents/consent.service.js';
import { ConsentsController } from './consents/consents.controller.js';
import { LinkBuilder } from './links.js';
import { PaymentService } from './payments/payment.service.js';
import { PaymentsController } from './payments/payments.controller.js';

/** NextGenPSD2 AIS and PIS, shared by both banks (ConnectPay: Berlin Group defaults; Flowe: its guide). */
@Module({
  controllers: [ConsentsController, AccountsController, PaymentsController],
  providers: [ConsentService, PaymentService, AccountsService, FrequencyBudget, LinkBuilder],
  exports: [ConsentService, PaymentService, AccountsService],
})
export class BerlinGroupModule {}
