import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ConfigOf } from '../../config/define-config.js';
import { pisConfig } from '../../config/pis.config.js';
import { StatementsService } from '../ais/statements.service.js';
import { hasEnded } from './payment-lifecycle.js';
import type { Payment } from './payment.entity.js';
import { PaymentStore } from './payment.store.js';
import { readStatement } from './reconciliation.js';

export interface ReconciliationPoll {
  final: boolean;
  status: string;
  nextPollAt?: Date;
}

/**
 * Settles payments whose initiation outcome is unknown (docs/design.md, "Unknown payments") from
 * the debtor account's statement, found by the payment's end-to-end id: the AIS refreshes that
 * happen anyway bring the statement in, so looking costs no bank call and no budget. Found → the
 * bank has it, with the status the statement tells; a statement read after the window without it →
 * `failed`/`not_found_at_bank`. Every look is recorded on the payment; a settled one is a
 * `payment.status` event with `reconciliationOutcome`. (A payment whose bank id is known is
 * reconciled by asking the bank: PaymentsService.)
 */
@Injectable()
export class PaymentReconciliationService {
  private readonly logger = new Logger(PaymentReconciliationService.name);

  constructor(
    private readonly store: PaymentStore,
    private readonly statements: StatementsService,
    @Inject(pisConfig.KEY) private readonly config: ConfigOf<typeof pisConfig>,
  ) {}

  /** One look at the statement for an `unknown` payment. */
  async reconcile(payment: Payment): Promise<ReconciliationPoll> {
    const verdict = await this.look(payment);
    switch (verdict.kind) {
      case 'found': {
        const updated = await this.store.transition(payment, {
          status: verdict.status,
          source: 'reconciliation',
          reconciliation: { method: 'statement', outcome: 'found' },
          onlyIf: (p) => p.status === 'unknown',
        });
        this.logger.log({ paymentId: payment.id, aspspId: payment.aspspId, status: verdict.status }, 'payment with an unknown outcome found on the statement');
        const status = updated?.status ?? verdict.status;
        return { final: hasEnded(status), status, nextPollAt: this.nextLook() };
      }
      case 'not_found': {
        const updated = await this.store.transition(payment, {
          status: 'failed',
          failureCode: 'not_found_at_bank',
          source: 'reconciliation',
          reconciliation: { method: 'statement', outcome: 'not_found_at_bank' },
          onlyIf: (p) => p.status === 'unknown',
        });
        this.logger.log({ paymentId: payment.id, aspspId: payment.aspspId }, 'payment with an unknown outcome is not at the bank: failed');
        return { final: true, status: updated?.status ?? 'failed' };
      }
      case 'wait':
        await this.store.recordReconciliationCheck(payment.id, verdict.outcome);
        return { final: false, status: payment.status, nextPollAt: this.nextLook() };
      case 'give_up':
        await this.store.recordReconciliationCheck(payment.id, verdict.outcome);
        await this.store.endTracking(payment.id, 'not_reconcilable');
        this.logger.warn(
          { paymentId: payment.id, aspspId: payment.aspspId, outcome: verdict.outcome },
          'payment with an unknown outcome cannot be reconciled: it stays unknown',
        );
        return { final: true, status: payment.status };
      default: {
        const unreachable: never = verdict;
        return unreachable;
      }
    }
  }

  /**
   * A payment found on the statement has no bank id to ask about: its later changes (booked,
   * returned) are read from the statement too, until its settlement window closes.
   */
  async followStatement(payment: Payment): Promise<ReconciliationPoll> {
    const verdict = await this.look(payment);
    if (verdict.kind === 'found' && verdict.status !== payment.status) {
      await this.store.transition(payment, {
        status: verdict.status,
        source: 'reconciliation',
        onlyIf: (p) => p.status === payment.status && p.trackingEndedAt === null,
      });
    }
    return { final: false, status: verdict.kind === 'found' ? verdict.status : payment.status, nextPollAt: this.nextLook() };
  }

  private async look(payment: Payment) {
    const search = await this.statements.findEndToEndId(payment.userId, payment.aspspId, payment.debtorIban, payment.endToEndIdentification);
    return readStatement(payment, search, new Date(), this.config.reconcileWindowMs);
  }

  private nextLook(): Date {
    return new Date(Date.now() + this.config.reconcilePollMs);
  }
}
