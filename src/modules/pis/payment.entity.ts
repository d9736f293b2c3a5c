import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { ScaStatus, TransactionStatus } from '../../aspsp/berlin-group/pis.js';

/**
 * Our own statuses next to the bank's ISO 20022 ones:
 * - `pending`: recorded, the bank call is in flight (or its process died: see PaymentStore.settleStale);
 * - `unknown`: the bank call's outcome is unknown (timeout, 5xx, reset). Never re-sent;
 * - `failed`: the payment does not exist at the bank (`failureCode` says how we know): the request
 *   never reached it (connection refused, DNS failure, TLS handshake refused: a retry with the same
 *   Idempotency-Key sends it again), or reconciliation found no trace of it.
 */
export type LocalPaymentStatus = 'pending' | 'unknown' | 'failed';
export type PaymentStatus = TransactionStatus | LocalPaymentStatus;

/** A stored first answer, replayed as is for a retry with the same Idempotency-Key. */
export interface StoredResponse {
  status: number;
  body: Record<string, unknown>;
}

/** One SEPA credit transfer of a user, keyed by (userId, idempotencyKey). Amounts are decimal strings. */
@Entity('payments')
export class Payment {
  @PrimaryGeneratedColumn('uuid') id!: string;
  /** Insertion order, for newest-first paging (timestamps can tie). */
  @Column({ type: 'bigint', insert: false, update: false }) seq!: string;
  @Column('text') userId!: string;
  @Column('uuid') connectionId!: string;
  @Column('text') aspspId!: string;
  @Column('text') idempotencyKey!: string;
  /** SHA-256 of the canonical request: a retry with another body under the same key is refused. */
  @Column('text') requestHash!: string;
  @Column('text') product!: string;
  @Column('text') debtorIban!: string;
  @Column('text') creditorIban!: string;
  @Column('text') creditorName!: string;
  @Column('text') amount!: string;
  @Column('text') currency!: string;
  @Column('text', { nullable: true }) remittanceInformationUnstructured!: string | null;
  @Column('text') endToEndIdentification!: string;
  @Column('text', { nullable: true }) chargeBearer!: string | null;
  @Column('text') status!: PaymentStatus;
  @Column('text', { nullable: true }) scaStatus!: ScaStatus | null;
  @Column('text', { nullable: true }) bankPaymentId!: string | null;
  @Column('text', { nullable: true }) authorisationId!: string | null;
  /** Why the payment failed or is unknown: the bank's code or our reason (`bank_timeout`, …). */
  @Column('text', { nullable: true }) failureCode!: string | null;
  @Column('integer', { nullable: true }) responseStatus!: number | null;
  @Column('jsonb', { nullable: true }) responseBody!: Record<string, unknown> | null;
  @Column('timestamptz') statusChangedAt!: Date;
  /** When the bank first accepted it (ACSP or later): the settlement window runs from here. */
  @Column('timestamptz', { nullable: true }) acceptedAt!: Date | null;
  /** When and why the BFF stopped asking the bank about it (see TrackingEndReason). */
  @Column('timestamptz', { nullable: true }) trackingEndedAt!: Date | null;
  @Column('text', { nullable: true }) trackingEndReason!: string | null;
  /** Reconciliation of an `unknown` payment (see reconciliation.ts): when it began, last looked, how and with what outcome it ended. */
  @Column('timestamptz', { nullable: true }) reconciliationStartedAt!: Date | null;
  @Column('timestamptz', { nullable: true }) reconciliationCheckedAt!: Date | null;
  @Column('text', { nullable: true }) reconciliationMethod!: string | null;
  @Column('text', { nullable: true }) reconciliationOutcome!: string | null;
  @Column('timestamptz', { nullable: true }) reconciledAt!: Date | null;
  @CreateDateColumn({ type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ type: 'timestamptz' }) updatedAt!: Date;
  /** Not a column: the row version (PostgreSQL's xmin) the store read, its next write's compare-and-set. */
  version?: string;
}

/** Every status a payment went through, and when we learned it. */
@Entity('payment_status_changes')
export class PaymentStatusChange {
  @PrimaryGeneratedColumn('increment', { type: 'bigint' }) id!: string;
  @Column('uuid') paymentId!: string;
  @Column('text') status!: PaymentStatus;
  @Column('text', { nullable: true }) scaStatus!: ScaStatus | null;
  /** Who learned it: initiation, poll, refresh, cancel or recovery. */
  @Column('text') source!: string;
  @Column('timestamptz') changedAt!: Date;
}
