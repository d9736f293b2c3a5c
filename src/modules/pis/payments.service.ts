import { Inject, Injectable, Logger } from '@nestjs/common';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import { isFinalScaStatus, type ScaStatus } from '../../aspsp/berlin-group/pis.js';
import { SingleFlight } from '../../common/concurrency/single-flight.js';
import { AppError } from '../../common/errors/app-error.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import { StatusPace } from '../bank-pace/status-pace.js';
import type { ConfigOf } from '../../config/define-config.js';
import { pisConfig } from '../../config/pis.config.js';
import { BankTokensService } from '../connections/bank-tokens.service.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { Payment, PaymentStatusChange } from './payment.entity.js';
import { PaymentInitiationService } from './payment-initiation.service.js';
import { hasEnded, isBeyondCancellation, paymentPhase } from './payment-lifecycle.js';
import { PaymentReconciliationService } from './payment-reconciliation.service.js';
import { PaymentStore, type Transition } from './payment.store.js';

export interface PaymentWithHistory {
  payment: Payment;
  history: PaymentStatusChange[];
}

export type CancelResult = { cancelled: true } | { cancelled: false; authorisationRequired: true; payment: Payment };

/**
 * Reads, refreshes, cancels and polls payments. Every user-facing read is scoped by user (another
 * user's payment is not found); `pollStatus` is the scheduler's entry point.
 */
@Injectable()
export class PaymentsService {
  private readonly logger = new Logger(PaymentsService.name);
  private readonly flights = new SingleFlight();
  private readonly views = new SingleFlight();

  constructor(
    private readonly store: PaymentStore,
    private readonly initiation: PaymentInitiationService,
    private readonly connections: ConnectionsService,
    private readonly tokens: BankTokensService,
    private readonly aspsps: AspspRegistry,
    private readonly pace: StatusPace,
    private readonly metrics: BankMetrics,
    private readonly reconciliation: PaymentReconciliationService,
    @Inject(pisConfig.KEY) private readonly config: ConfigOf<typeof pisConfig>,
  ) {}

  /**
   * The user's payment as last polled; `refresh` asks the bank now (status and SCA status) unless
   * the bank was asked about it less than a second ago (then the stored status is that answer).
   * A bank that asks us to slow down (429) is answered with the stored status too.
   */
  get(userId: string, id: string, refresh = false): Promise<PaymentWithHistory> {
    // A burst of the same request by one user is answered together (one bank call, one read).
    return this.views.run(
      `${userId}|${id}|${refresh}`,
      () => this.read(userId, id, refresh),
      () => this.metrics.requestCoalesced('payment'),
    );
  }

  private async read(userId: string, id: string, refresh: boolean): Promise<PaymentWithHistory> {
    let payment = await this.settled(await this.ownedBy(userId, id));
    if (refresh && payment.bankPaymentId && isTracked(payment)) {
      const current = payment;
      payment = await this.askBank(current, 'refresh').catch((error: unknown) => {
        if (error instanceof BankError && error.kind === 'rate_limited') return current;
        throw error;
      });
    }
    return { payment, history: await this.store.history(payment.id) };
  }

  async list(userId: string, options: { limit: number; beforeSeq?: string; connectionId?: string }): Promise<{ payments: Payment[]; more: boolean }> {
    return this.store.list(userId, options);
  }

  /**
   * Berlin Group cancellation (`DELETE`): 204 from the bank → CANC; 202 → the PSU must authorise
   * the cancellation in the bank app (the payment keeps being polled); 405 → 409 for the frontend.
   * Cancelling a CANC payment again is a no-op; settled or unconfirmed ones are never sent.
   */
  async cancel(userId: string, id: string, psuIpAddress?: string): Promise<CancelResult> {
    const payment = await this.settled(await this.ownedBy(userId, id));
    if (payment.status === 'CANC') return { cancelled: true };
    if (!payment.bankPaymentId || isBeyondCancellation(payment.status)) {
      throw new AppError('payment_not_cancellable', `The payment is ${payment.status} and cannot be cancelled`, { paymentStatus: payment.status });
    }
    const bankPaymentId = payment.bankPaymentId;
    const { adapter, connection } = await this.bankOf(payment);
    const outcome = await this.tokens.withAccessToken(connection, (token) => adapter.pis.cancel(token, bankPaymentId, psuIpAddress));
    switch (outcome.outcome) {
      case 'cancelled': {
        // The bank's cancellation also ends the SCA; learn how it ended, if the bank says.
        const scaStatus = await this.scaStatusQuietly(payment);
        await this.store.transition(payment, { status: 'CANC', scaStatus, source: 'cancel' });
        return { cancelled: true };
      }
      case 'authorisation_required': {
        const updated = await this.store.transition(payment, { status: outcome.transactionStatus, source: 'cancel' });
        return { cancelled: false, authorisationRequired: true, payment: updated ?? payment };
      }
      case 'not_cancellable': {
        // Usually the PSU approved meanwhile: record what the bank says now, so the 409 is accurate.
        const current = await this.askBank(payment, 'cancel').catch(() => payment);
        throw new AppError('payment_not_cancellable', `${payment.aspspId}: the payment is ${current.status} and can no longer be cancelled`, {
          aspspId: payment.aspspId,
          paymentStatus: current.status,
          ...(outcome.bankCode ? { bankCode: outcome.bankCode } : {}),
        });
      }
      default: {
        const unreachable: never = outcome;
        return unreachable;
      }
    }
  }

  /**
   * For the scheduler: asks the bank once about this payment and records any change (history and
   * `payment.status` outbox event in the same transaction). RJCT and CANC end polling. ACSC does
   * not: clearing can still reject a settled payment (a pac.002 after ACSC, Flowe guide 4.2), so
   * an accepted payment is watched until PIS_SETTLEMENT_WINDOW_SECONDS after its acceptance
   * (settled ones every PIS_SETTLED_POLL_SECONDS) and then let go with a reason the frontend sees.
   * `unknown` payments are reconciled (see `reconcile`); vanished rows are final. A `pending` row
   * still waiting for its initiation answer is not final; one abandoned by a crashed process
   * becomes `unknown`. Bank failures are thrown as BankError (kind) or AppError.
   */
  async pollStatus(paymentId: string): Promise<{ final: boolean; status: string; nextPollAt?: Date }> {
    const found = await this.store.findById(paymentId);
    if (!found) {
      await this.store.stopPolling(paymentId);
      return { final: true, status: 'not_found' };
    }
    const payment = await this.settled(found);
    if (payment.status === 'pending') return { final: false, status: 'pending' };
    if (payment.status === 'unknown' && payment.trackingEndedAt === null) return this.reconcile(payment);
    if (isTracked(payment) && !payment.bankPaymentId && payment.reconciliationMethod === 'statement') {
      return this.followUp(payment, await this.reconciliation.followStatement(payment));
    }
    if (!isTracked(payment) || !payment.bankPaymentId) {
      await this.store.stopPolling(payment.id);
      return { final: true, status: payment.status };
    }
    return this.followUp(await this.askBank(payment, 'poll'));
  }

  /**
   * An `unknown` payment: asked about at the bank when its id is known (a late answer may have
   * brought it), otherwise looked for on the debtor account's statement.
   */
  private async reconcile(payment: Payment): Promise<{ final: boolean; status: string; nextPollAt?: Date }> {
    if (!payment.bankPaymentId) return this.reconciliation.reconcile(payment);
    const updated = await this.askBank(payment, 'reconciliation', {
      reconciliation: { method: 'bank_status', outcome: 'found' },
      onlyIf: (p) => p.status === 'unknown' && p.trackingEndedAt === null,
    });
    return this.followUp(updated);
  }

  /** After a poll: done, due again on the policy's schedule, or on the slow settled schedule; ends the window. */
  private async followUp(current: Payment, statementLook?: { nextPollAt?: Date }): Promise<{ final: boolean; status: string; nextPollAt?: Date }> {
    const payment = statementLook ? ((await this.store.findById(current.id)) ?? current) : current;
    if (!isTracked(payment)) return { final: true, status: payment.status };
    if (payment.acceptedAt) {
      const closesAt = payment.acceptedAt.getTime() + this.config.settlementWindowMs;
      if (Date.now() >= closesAt) {
        await this.store.endTracking(payment.id, 'settlement_window_closed');
        this.logger.log({ paymentId: payment.id, aspspId: payment.aspspId, status: payment.status }, 'payment no longer watched: its settlement window closed');
        return { final: true, status: payment.status };
      }
      if (paymentPhase(payment.status) === 'settled') {
        return { final: false, status: payment.status, nextPollAt: new Date(Math.min(Date.now() + this.config.settledPollMs, closesAt)) };
      }
    }
    return { final: false, status: payment.status, ...(statementLook?.nextPollAt ? { nextPollAt: statementLook.nextPollAt } : {}) };
  }

  /**
   * Transaction status, and the SCA status while the authorisation is still open. Concurrent asks
   * about one payment (users' refreshes, the scheduler's poll) share one bank call; and at most one
   * per second reaches the bank across replicas (StatusPace), the others get the stored status.
   */
  private askBank(payment: Payment, source: string, options: Pick<Transition, 'reconciliation' | 'onlyIf'> = {}): Promise<Payment> {
    const key = options.reconciliation ? `${payment.id}|reconciliation` : payment.id;
    return this.flights.run(
      key,
      () => this.askBankOnce(payment, source, options),
      () => this.metrics.callCoalesced(payment.aspspId, 'payment-status'),
    );
  }

  private async askBankOnce(payment: Payment, source: string, options: Pick<Transition, 'reconciliation' | 'onlyIf'>): Promise<Payment> {
    const bankPaymentId = payment.bankPaymentId!;
    const { adapter, connection } = await this.bankOf(payment);
    // Claimed once the token is ready, right before the request leaves; a retry after a refreshed
    // token is the same ask.
    let mayAsk: boolean | undefined;
    const answer = await this.tokens.withAccessToken(connection, async (token) => {
      mayAsk ??= await this.pace.mayAsk(payment.aspspId, 'payment', bankPaymentId);
      if (!mayAsk) return undefined;
      const status = await adapter.pis.status(token, bankPaymentId);
      const scaStatus =
        payment.authorisationId && !(payment.scaStatus && isFinalScaStatus(payment.scaStatus))
          ? await adapter.pis.scaStatus(token, bankPaymentId, payment.authorisationId)
          : undefined;
      return { status, scaStatus };
    });
    if (!answer) return (await this.store.findById(payment.id)) ?? payment;
    const { status, scaStatus } = answer;
    const updated = await this.store.transition(payment, {
      status,
      scaStatus,
      source,
      ...(options.reconciliation ? { reconciliation: options.reconciliation } : {}),
      // A status read before a cancellation (or a rejection) committed must not overwrite it.
      onlyIf: (p) => (options.onlyIf ? options.onlyIf(p) : isTracked(p)) && p.bankPaymentId === bankPaymentId,
    });
    return updated ?? payment;
  }

  private async scaStatusQuietly(payment: Payment): Promise<ScaStatus | undefined> {
    if (!payment.authorisationId || !payment.bankPaymentId || (payment.scaStatus && isFinalScaStatus(payment.scaStatus))) return undefined;
    const { adapter, connection } = await this.bankOf(payment);
    try {
      if (!(await this.pace.mayAsk(payment.aspspId, 'payment', payment.bankPaymentId))) return undefined;
      return await this.tokens.withAccessToken(connection, (token) => adapter.pis.scaStatus(token, payment.bankPaymentId!, payment.authorisationId!));
    } catch (error) {
      this.logger.warn({ paymentId: payment.id, kind: error instanceof BankError ? error.kind : 'error' }, 'SCA status after cancellation unavailable');
      return undefined;
    }
  }

  private async ownedBy(userId: string, id: string): Promise<Payment> {
    const payment = await this.store.findForUser(userId, id);
    if (!payment) throw AppError.notFound('Payment');
    return payment;
  }

  /** Settles a row abandoned mid-initiation (see PaymentInitiationService.settleIfAbandoned). */
  private async settled(payment: Payment): Promise<Payment> {
    if (payment.status !== 'pending') return payment;
    return (await this.initiation.settleIfAbandoned(payment.id, this.aspsps.get(payment.aspspId))) ?? payment;
  }

  private async bankOf(payment: Payment) {
    const connection = await this.connections.findById(payment.connectionId);
    if (!connection) throw AppError.notFound('Connection');
    return { adapter: this.aspsps.get(payment.aspspId), connection };
  }
}

/** Still worth asking the bank about: not ended, not unknown, and not let go at the end of its window. */
function isTracked(payment: Payment): boolean {
  return !hasEnded(payment.status) && payment.status !== 'unknown' && payment.trackingEndedAt === null;
}
