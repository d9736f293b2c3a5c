import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, LessThan, type EntityManager, type FindOptionsWhere } from 'typeorm';
import type { PaymentOrder, ScaStatus } from '../../aspsp/berlin-group/pis.js';
import { OutboxStore } from '../events/outbox.store.js';
import { PollQueue } from '../polling/poll-queue.store.js';
import { hasEnded, isAccepted, type TrackingEndReason } from './payment-lifecycle.js';
import type { ReconciliationMethod, ReconciliationOutcome } from './reconciliation.js';
import { Payment, PaymentStatusChange, type PaymentStatus, type StoredResponse } from './payment.entity.js';

export interface Reservation {
  userId: string;
  connectionId: string;
  aspspId: string;
  idempotencyKey: string;
  requestHash: string;
  order: PaymentOrder;
  chargeBearer: string | null;
  /** When a still-`pending` row is presumed abandoned (its process died mid-call). */
  staleAt: Date;
}

export interface Transition {
  status?: PaymentStatus;
  scaStatus?: ScaStatus;
  bankPaymentId?: string;
  authorisationId?: string;
  failureCode?: string;
  /** initiation, poll, refresh, cancel, recovery: kept in the history. */
  source: string;
  /** A reconciliation that settles the payment: recorded on the row and in the change's event. */
  reconciliation?: { method: ReconciliationMethod; outcome: ReconciliationOutcome };
  /** Checked on the locked row: the change is skipped (row returned as is) when false. */
  onlyIf?: (current: Payment) => boolean;
  /** The first answer for the Idempotency-Key, built from the updated row; ignored once one is stored. */
  respond?: (payment: Payment, history: PaymentStatusChange[]) => StoredResponse;
}

/**
 * Persistence of payments. Every status change goes through `transition`, which locks the row,
 * writes the change, its history entry and its outbox event, and adds or removes the poll item,
 * all in one transaction: a change is never announced without having happened, and a payment
 * is never left unpolled (or polled forever).
 */
@Injectable()
export class PaymentStore {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly outbox: OutboxStore,
    private readonly pollQueue: PollQueue,
  ) {}

  /**
   * Records a new payment under (user, Idempotency-Key) in its own committed transaction, before
   * the bank is called. Undefined when the key is already taken (the caller then compares with
   * the existing row). The poll item added here fires at `staleAt`: if this process dies before
   * the bank's answer is written, the scheduler finds the row and settles it as `unknown`.
   */
  async reserve(input: Reservation): Promise<Payment | undefined> {
    const id = randomUUID();
    return this.dataSource.transaction(async (manager) => {
      const inserted = await manager
        .createQueryBuilder()
        .insert()
        .into(Payment)
        .values({
          id,
          userId: input.userId,
          connectionId: input.connectionId,
          aspspId: input.aspspId,
          idempotencyKey: input.idempotencyKey,
          requestHash: input.requestHash,
          product: 'sepa-credit-transfers',
          debtorIban: input.order.debtorIban,
          creditorIban: input.order.creditorIban,
          creditorName: input.order.creditorName,
          amount: input.order.amount,
          currency: input.order.currency,
          remittanceInformationUnstructured: input.order.remittanceInformationUnstructured ?? null,
          // Always send an end-to-end id: it travels to the creditor and onto statements, so even
          // a payment whose initiation outcome is unknown can be found by a person or by AIS.
          endToEndIdentification: input.order.endToEndIdentification ?? id.replace(/-/g, ''),
          chargeBearer: input.chargeBearer,
          status: 'pending',
          statusChangedAt: new Date(),
        })
        .orIgnore()
        .returning(['id'])
        .execute();
      if ((inserted.raw as unknown[]).length === 0) return undefined; // the key is taken
      await this.pollQueue.schedule(manager, { kind: 'payment', resourceId: id, aspspId: input.aspspId, at: input.staleAt });
      return manager.getRepository(Payment).findOneByOrFail({ id });
    });
  }

  /** Forgets a reservation whose request never reached the bank, so the key can be used again. */
  async release(paymentId: string): Promise<void> {
    await this.dataSource.transaction(async (manager) => {
      await manager.getRepository(Payment).delete({ id: paymentId, status: 'pending' });
      await this.pollQueue.remove(manager, 'payment', paymentId);
    });
  }

  /**
   * Takes up a `failed` payment again for a retry with its Idempotency-Key (its request never
   * reached the bank): back to `pending` with its answer cleared, polled again from `staleAt` in
   * case this process dies mid-call, the change in its history. Undefined when the row is no
   * longer `failed` (another retry took it first).
   */
  async reopen(paymentId: string, staleAt: Date): Promise<Payment | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const payments = manager.getRepository(Payment);
      const current = await payments.findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
      if (!current || current.status !== 'failed') return undefined;
      const now = new Date();
      await manager.query(
        "UPDATE payments SET status = 'pending', failure_code = NULL, response_status = NULL, response_body = NULL, status_changed_at = $2 WHERE id = $1",
        [paymentId, now],
      );
      await this.recordChange(manager, current, 'pending', current.scaStatus, 'retry', now);
      await this.pollQueue.schedule(manager, { kind: 'payment', resourceId: paymentId, aspspId: current.aspspId, at: staleAt });
      return payments.findOneByOrFail({ id: paymentId });
    });
  }

  async transition(paymentId: string, change: Transition): Promise<Payment | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const payments = manager.getRepository(Payment);
      const current = await payments.findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
      if (!current) return undefined;
      if (change.onlyIf && !change.onlyIf(current)) return current;
      const status = change.status ?? current.status;
      const scaStatus = change.scaStatus ?? current.scaStatus;
      const changed = status !== current.status || scaStatus !== current.scaStatus;
      const now = new Date();
      const ends = hasEnded(status) && current.trackingEndedAt === null;
      await payments.update(paymentId, {
        status,
        scaStatus,
        ...(change.bankPaymentId !== undefined ? { bankPaymentId: change.bankPaymentId } : {}),
        ...(change.authorisationId !== undefined ? { authorisationId: change.authorisationId } : {}),
        ...(change.failureCode !== undefined ? { failureCode: change.failureCode } : {}),
        ...(changed ? { statusChangedAt: now } : {}),
        // The settlement window runs from the first time the bank accepted it.
        ...(isAccepted(status) && current.acceptedAt === null ? { acceptedAt: now } : {}),
        ...(ends ? { trackingEndedAt: now, trackingEndReason: 'final_status' satisfies TrackingEndReason } : {}),
        // An unknown outcome starts a reconciliation, polled like any open payment.
        ...(status === 'unknown' && current.reconciliationStartedAt === null ? { reconciliationStartedAt: now, reconciliationOutcome: 'searching' } : {}),
        ...(change.reconciliation
          ? {
              reconciliationMethod: change.reconciliation.method,
              reconciliationOutcome: change.reconciliation.outcome,
              reconciliationCheckedAt: now,
              reconciledAt: current.reconciledAt ?? now,
            }
          : {}),
      });
      if (changed) await this.recordChange(manager, current, status, scaStatus, change.source, now, change.reconciliation);
      // Settled (ACSC) payments stay polled: clearing may still reject them; unknown ones are
      // reconciled. Only RJCT, CANC and failed end it.
      if (hasEnded(status)) await this.pollQueue.remove(manager, 'payment', paymentId);
      else if (current.status === 'pending' && status !== 'pending') {
        await this.pollQueue.schedule(manager, { kind: 'payment', resourceId: paymentId, aspspId: current.aspspId });
      }
      const updated = await payments.findOneByOrFail({ id: paymentId });
      if (change.respond && updated.responseStatus === null) {
        const response = change.respond(updated, await this.historyOf(manager, paymentId));
        await manager.query('UPDATE payments SET response_status = $2, response_body = $3 WHERE id = $1', [
          paymentId,
          response.status,
          JSON.stringify(response.body),
        ]);
        return payments.findOneByOrFail({ id: paymentId });
      }
      return updated;
    });
  }

  /** Stops polling a payment there is nothing more to ask the bank about. */
  async stopPolling(paymentId: string): Promise<void> {
    await this.pollQueue.remove(this.dataSource.manager, 'payment', paymentId);
  }

  /**
   * The BFF stops asking the bank about a payment whose status may in principle still change
   * (the settlement window closed): recorded on the row, with its poll item removed and a
   * `payment.status` event saying why, so the frontend is told rather than left with silence.
   */
  async endTracking(paymentId: string, reason: TrackingEndReason): Promise<Payment | undefined> {
    return this.dataSource.transaction(async (manager) => {
      const payments = manager.getRepository(Payment);
      const current = await payments.findOne({ where: { id: paymentId }, lock: { mode: 'pessimistic_write' } });
      if (!current) return undefined;
      await this.pollQueue.remove(manager, 'payment', paymentId);
      if (current.trackingEndedAt !== null) return current;
      await payments.update(paymentId, { trackingEndedAt: new Date(), trackingEndReason: reason });
      await this.outbox.record(manager, {
        userId: current.userId,
        type: 'payment.status',
        data: { paymentId: current.id, connectionId: current.connectionId, status: current.status, scaStatus: current.scaStatus, trackingEndReason: reason },
      });
      return payments.findOneByOrFail({ id: paymentId });
    });
  }

  /** A reconciliation look that settled nothing: when it looked and what it found out. */
  async recordReconciliationCheck(paymentId: string, outcome: ReconciliationOutcome): Promise<void> {
    await this.dataSource.getRepository(Payment).update({ id: paymentId }, { reconciliationCheckedAt: new Date(), reconciliationOutcome: outcome });
  }

  /** Payments whose initiation outcome is still unknown, by reconciliation outcome. */
  async countUnreconciled(): Promise<{ outcome: string; count: number }[]> {
    return this.dataSource.query(
      "SELECT COALESCE(reconciliation_outcome, 'searching') AS outcome, count(*)::int AS count FROM payments WHERE status = 'unknown' GROUP BY 1",
    );
  }

  findById(id: string): Promise<Payment | null> {
    return this.dataSource.getRepository(Payment).findOneBy({ id });
  }

  findForUser(userId: string, id: string): Promise<Payment | null> {
    return this.dataSource.getRepository(Payment).findOneBy({ id, userId });
  }

  findByKey(userId: string, idempotencyKey: string): Promise<Payment | null> {
    return this.dataSource.getRepository(Payment).findOneBy({ userId, idempotencyKey });
  }

  history(paymentId: string): Promise<PaymentStatusChange[]> {
    return this.historyOf(this.dataSource.manager, paymentId);
  }

  /** The user's payments, newest first, after the `beforeSeq` cursor; one extra row tells whether more follow. */
  async list(userId: string, options: { limit: number; beforeSeq?: string; connectionId?: string }): Promise<{ payments: Payment[]; more: boolean }> {
    const where: FindOptionsWhere<Payment> = { userId };
    if (options.beforeSeq) where.seq = LessThan(options.beforeSeq);
    if (options.connectionId) where.connectionId = options.connectionId;
    const rows = await this.dataSource.getRepository(Payment).find({ where, order: { seq: 'DESC' }, take: options.limit + 1 });
    return { payments: rows.slice(0, options.limit), more: rows.length > options.limit };
  }

  private historyOf(manager: EntityManager, paymentId: string): Promise<PaymentStatusChange[]> {
    return manager.getRepository(PaymentStatusChange).find({ where: { paymentId }, order: { id: 'ASC' }, take: 100 });
  }

  private async recordChange(
    manager: EntityManager,
    payment: Payment,
    status: PaymentStatus,
    scaStatus: ScaStatus | null,
    source: string,
    at: Date,
    reconciliation?: Transition['reconciliation'],
  ): Promise<void> {
    await manager.getRepository(PaymentStatusChange).insert({ paymentId: payment.id, status, scaStatus, source, changedAt: at });
    await this.outbox.record(manager, {
      userId: payment.userId,
      type: 'payment.status',
      data: {
        paymentId: payment.id,
        connectionId: payment.connectionId,
        status,
        scaStatus,
        ...(reconciliation ? { reconciliationOutcome: reconciliation.outcome } : {}),
      },
    });
  }
}
