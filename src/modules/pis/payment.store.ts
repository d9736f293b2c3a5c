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

/** A payment row as the store returns it, with its version (`xmin`) for the next compare-and-set. */
const COLUMNS = `id::text AS id, seq::text AS seq, user_id AS "userId", connection_id::text AS "connectionId", aspsp_id AS "aspspId",
  idempotency_key AS "idempotencyKey", request_hash AS "requestHash", product, debtor_iban AS "debtorIban", creditor_iban AS "creditorIban",
  creditor_name AS "creditorName", amount, currency, remittance_information_unstructured AS "remittanceInformationUnstructured",
  end_to_end_identification AS "endToEndIdentification", charge_bearer AS "chargeBearer", status, sca_status AS "scaStatus",
  bank_payment_id AS "bankPaymentId", authorisation_id AS "authorisationId", failure_code AS "failureCode", response_status AS "responseStatus",
  response_body AS "responseBody", status_changed_at AS "statusChangedAt", accepted_at AS "acceptedAt", tracking_ended_at AS "trackingEndedAt",
  tracking_end_reason AS "trackingEndReason", reconciliation_started_at AS "reconciliationStartedAt",
  reconciliation_checked_at AS "reconciliationCheckedAt", reconciliation_method AS "reconciliationMethod",
  reconciliation_outcome AS "reconciliationOutcome", reconciled_at AS "reconciledAt", created_at AS "createdAt", updated_at AS "updatedAt",
  xmin::text AS version`;

/** The columns a transition may change (besides updated_at): unchanged ones spare the write. */
const WRITTEN = [
  'status',
  'scaStatus',
  'bankPaymentId',
  'authorisationId',
  'failureCode',
  'responseStatus',
  'statusChangedAt',
  'acceptedAt',
  'trackingEndedAt',
  'trackingEndReason',
  'reconciliationStartedAt',
  'reconciliationCheckedAt',
  'reconciliationMethod',
  'reconciliationOutcome',
  'reconciledAt',
] as const satisfies readonly (keyof Payment)[];

/** Concurrent changes to one payment are rare and few (a poll, a refresh, a cancellation): a bound, not a budget. */
const MAX_WRITE_ATTEMPTS = 10;

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
   * Records a new payment under (user, Idempotency-Key) before the bank is called: the row and its
   * poll item in one statement, committed on its own; or, when the key is already taken, the
   * existing row (`reserved: false`) in the same round trip. Undefined when the key was taken by a
   * request that committed while this statement waited on it (its row is not in this statement's
   * snapshot: read it again). The poll item fires at `staleAt`: if this process dies before the
   * bank's answer is written, the scheduler finds the row and settles it as `unknown`.
   */
  async reserve(input: Reservation): Promise<{ payment: Payment; reserved: boolean } | undefined> {
    const id = randomUUID();
    const [row] = (await this.dataSource.query(
      `WITH reserved AS (
         INSERT INTO payments (id, user_id, connection_id, aspsp_id, idempotency_key, request_hash, product, debtor_iban, creditor_iban,
           creditor_name, amount, currency, remittance_information_unstructured, end_to_end_identification, charge_bearer, status, status_changed_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'sepa-credit-transfers', $7, $8, $9, $10, $11, $12, $13, $14, 'pending', now())
         ON CONFLICT DO NOTHING
         RETURNING ${COLUMNS}, true AS reserved
       ), polled AS (
         ${PollQueue.scheduleFrom(`SELECT 'payment', id::uuid, "aspspId", $15::timestamptz, NULL::timestamptz FROM reserved`)}
       )
       SELECT * FROM reserved
       UNION ALL
       SELECT ${COLUMNS}, false FROM payments WHERE user_id = $2 AND idempotency_key = $5 AND NOT EXISTS (SELECT FROM reserved)`,
      [
        id,
        input.userId,
        input.connectionId,
        input.aspspId,
        input.idempotencyKey,
        input.requestHash,
        input.order.debtorIban,
        input.order.creditorIban,
        input.order.creditorName,
        input.order.amount,
        input.order.currency,
        input.order.remittanceInformationUnstructured ?? null,
        // Always send an end-to-end id: it travels to the creditor and onto statements, so even
        // a payment whose initiation outcome is unknown can be found by a person or by AIS.
        input.order.endToEndIdentification ?? id.replace(/-/g, ''),
        input.chargeBearer,
        input.staleAt,
      ],
    )) as (Payment & { reserved: boolean })[];
    if (!row) return undefined;
    const { reserved, ...payment } = row;
    return { payment, reserved };
  }

  /** Forgets a reservation whose request never reached the bank, so the key can be used again. */
  async release(paymentId: string): Promise<void> {
    await this.dataSource.query(
      `WITH released AS (DELETE FROM payments WHERE id = $1 AND status = 'pending')
       ${PollQueue.removeWhere("'payment'", '$1')}`,
      [paymentId],
    );
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

  /**
   * Applies a change to the payment as `current` shows it, in one statement: the row, its history
   * entry and `payment.status` event, and its poll item. The statement only writes if the row is
   * still the version `current` was read at (PostgreSQL's `xmin`, compare-and-set): when another
   * change came first, the row is read again and the change decided afresh on it (`onlyIf`
   * included), as a lock would have had it, without holding a transaction open across round trips.
   * `history` is the payment's history as of `current` when the caller knows it (a row just
   * reserved has none); it is read when `respond` needs it otherwise. Undefined when the row is gone.
   */
  async transition(current: Payment, change: Transition, history?: PaymentStatusChange[]): Promise<Payment | undefined> {
    let known: Payment | null = current.version === undefined ? await this.findById(current.id) : current;
    for (let attempt = 1; known; attempt++) {
      if (change.onlyIf && !change.onlyIf(known)) return known;
      const written = await this.write(known, change, history);
      if (written !== 'changed concurrently') return written;
      if (attempt === MAX_WRITE_ATTEMPTS) throw new Error(`payment ${known.id} kept changing under a transition`);
      known = await this.findById(known.id);
      history = undefined;
    }
    return undefined;
  }

  /** One attempt of `transition`: the row as it is after the change, or 'changed concurrently'. */
  private async write(current: Payment, change: Transition, history: PaymentStatusChange[] | undefined): Promise<Payment | 'changed concurrently'> {
    const now = new Date();
    const status = change.status ?? current.status;
    const scaStatus = change.scaStatus ?? current.scaStatus;
    const changed = status !== current.status || scaStatus !== current.scaStatus;
    const ends = hasEnded(status) && current.trackingEndedAt === null;
    const next: Payment = {
      ...current,
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
      updatedAt: now,
    };
    const entry = changed ? { status, scaStatus, source: change.source, changedAt: now } : undefined;
    if (change.respond && current.responseStatus === null) {
      const before = history ?? (await this.history(current.id));
      const response = change.respond(next, entry ? [...before, entry as PaymentStatusChange] : before);
      next.responseStatus = response.status;
      next.responseBody = response.body;
    }
    // Settled (ACSC) payments stay polled: clearing may still reject them; unknown ones are
    // reconciled. Only RJCT, CANC and failed end it.
    const poll = hasEnded(status) ? 'remove' : current.status === 'pending' && status !== 'pending' ? 'schedule' : 'keep';
    if (!entry && poll === 'keep' && WRITTEN.every((column) => next[column] === current[column])) return current;
    const [updated] = (await this.dataSource.query(
      `WITH updated AS (
         UPDATE payments SET status = $3, sca_status = $4, bank_payment_id = $5, authorisation_id = $6, failure_code = $7,
           response_status = $8, response_body = $9::jsonb, status_changed_at = $10, accepted_at = $11, tracking_ended_at = $12,
           tracking_end_reason = $13, reconciliation_started_at = $14, reconciliation_checked_at = $15, reconciliation_method = $16,
           reconciliation_outcome = $17, reconciled_at = $18, updated_at = $19
         WHERE id = $1 AND xmin = $2::xid
         RETURNING ${COLUMNS}
       ), changed AS (
         SELECT * FROM updated WHERE $20::boolean
       ), history AS (
         INSERT INTO payment_status_changes (payment_id, status, sca_status, source, changed_at) SELECT id::uuid, status, "scaStatus", $21, $19 FROM changed
       ), ${OutboxStore.eventCtes('payment.status', 'changed', '$22', '$23')}, unpolled AS (
         ${PollQueue.removeWhere("'payment'", '$1', "$24 = 'remove' AND EXISTS (SELECT FROM updated)")}
       ), polled AS (
         ${PollQueue.scheduleFrom(`SELECT 'payment', id::uuid, "aspspId", $19::timestamptz, NULL::timestamptz FROM updated WHERE $24 = 'schedule'`)}
       )
       SELECT * FROM updated`,
      [
        current.id,
        current.version,
        next.status,
        next.scaStatus,
        next.bankPaymentId,
        next.authorisationId,
        next.failureCode,
        next.responseStatus,
        next.responseBody === null ? null : JSON.stringify(next.responseBody),
        next.statusChangedAt,
        next.acceptedAt,
        next.trackingEndedAt,
        next.trackingEndReason,
        next.reconciliationStartedAt,
        next.reconciliationCheckedAt,
        next.reconciliationMethod,
        next.reconciliationOutcome,
        next.reconciledAt,
        now,
        changed,
        change.source,
        JSON.stringify({
          paymentId: current.id,
          connectionId: current.connectionId,
          status,
          scaStatus,
          ...(change.reconciliation ? { reconciliationOutcome: change.reconciliation.outcome } : {}),
        }),
        this.outbox.endpointsOf('payment.status'),
        poll,
      ],
    )) as Payment[];
    return updated ?? 'changed concurrently';
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

  async findById(id: string): Promise<Payment | null> {
    const [payment] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM payments WHERE id = $1`, [id])) as Payment[];
    return payment ?? null;
  }

  async findForUser(userId: string, id: string): Promise<Payment | null> {
    const [payment] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM payments WHERE id = $1 AND user_id = $2`, [id, userId])) as Payment[];
    return payment ?? null;
  }

  async findByKey(userId: string, idempotencyKey: string): Promise<Payment | null> {
    const [payment] = (await this.dataSource.query(`SELECT ${COLUMNS} FROM payments WHERE user_id = $1 AND idempotency_key = $2`, [
      userId,
      idempotencyKey,
    ])) as Payment[];
    return payment ?? null;
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
