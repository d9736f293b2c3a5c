import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { SCA_STATUSES, TRANSACTION_STATUSES } from '../../aspsp/berlin-group/pis.js';
import type { Payment, PaymentStatusChange } from './payment.entity.js';

export const PAYMENT_STATUSES = [...TRANSACTION_STATUSES, 'pending', 'unknown', 'failed'];
export const TRACKING_END_REASONS = ['final_status', 'settlement_window_closed', 'not_reconcilable'];
export const RECONCILIATION_OUTCOMES = ['searching', 'found', 'not_found_at_bank', 'no_account_access', 'inconclusive'];

class IbanView {
  @ApiProperty() iban!: string;
}

class AmountView {
  @ApiProperty({ pattern: '^-?[0-9]{1,14}(\\.[0-9]{1,3})?$', example: '12.50' }) amount!: string;
  @ApiProperty({ pattern: '^[A-Z]{3}$', example: 'EUR' }) currency!: string;
}

export class PaymentStatusChangeView {
  @ApiProperty({ enum: PAYMENT_STATUSES }) status!: string;
  @ApiPropertyOptional({ enum: SCA_STATUSES }) scaStatus?: string;
  @ApiProperty({ format: 'date-time', description: 'When the BFF learned of this status' }) at!: string;
}

export class StatusTrackingView {
  @ApiProperty({ description: 'Whether the BFF still asks the bank about this payment (status changes then arrive as payment.status events)' })
  active!: boolean;
  @ApiPropertyOptional({
    format: 'date-time',
    description: 'Accepted payments: until when they are watched (acceptance + PIS_SETTLEMENT_WINDOW_SECONDS); a late RJCT after ACSC within it still arrives',
  })
  until?: string;
  @ApiPropertyOptional({ format: 'date-time' }) endedAt?: string;
  @ApiPropertyOptional({
    enum: TRACKING_END_REASONS,
    description:
      '`final_status`: RJCT or CANC, which the bank does not take back. `settlement_window_closed`: the window after acceptance ended; the status shown is the last the bank gave (ACSC: settled with no later rejection; ACSP: the bank never confirmed settlement in time)',
  })
  endReason?: string;
}

export class ReconciliationView {
  @ApiProperty({ format: 'date-time', description: 'When the initiation outcome became unknown and reconciliation began' }) startedAt!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When it last looked' }) checkedAt?: string;
  @ApiPropertyOptional({
    enum: ['bank_status', 'statement'],
    description: 'How it settled the payment: the bank status by its id, or the debtor account statement by endToEndIdentification',
  })
  method?: string;
  @ApiProperty({
    enum: RECONCILIATION_OUTCOMES,
    description:
      '`searching`: not found yet; `found`: the bank has it (status as the bank or the statement tells); `not_found_at_bank`: a statement read after the window does not show it (status `failed`); `no_account_access`: no account information consent reaches the debtor account; `inconclusive`: no statement was read long after the window',
  })
  outcome!: string;
  @ApiPropertyOptional({ format: 'date-time', description: 'When reconciliation settled it' }) reconciledAt?: string;
}

/** What the frontend sees of a payment: the order, its statuses, never a token or raw bank text. */
export class PaymentView {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) connectionId!: string;
  @ApiProperty({ example: 'flowe' }) aspspId!: string;
  @ApiProperty({ example: 'sepa-credit-transfers' }) product!: string;
  @ApiProperty({
    enum: PAYMENT_STATUSES,
    description:
      'ISO 20022 status as last polled (RCVD → ACSP → ACSC, or RJCT / CANC; RJCT can still follow ACSC while `statusTracking` is active). `pending`: the bank call is in flight. `unknown`: the bank did not answer in time; the payment may exist at the bank and is never re-sent: check the bank app or statement (endToEndIdentification) before paying again. `failed`: it does not exist at the bank (`failureCode` says why); when the request never reached the bank, the same request with the same Idempotency-Key sends it again.',
  })
  status!: string;
  @ApiPropertyOptional({ enum: SCA_STATUSES, description: 'SCA status of the PSU authorisation in the bank app' }) scaStatus?: string;
  @ApiPropertyOptional({ description: "The bank's paymentId (the PSU sees it in the bank app)" }) bankPaymentId?: string;
  @ApiProperty({ type: IbanView }) debtorAccount!: IbanView;
  @ApiProperty({ type: IbanView }) creditorAccount!: IbanView;
  @ApiProperty() creditorName!: string;
  @ApiProperty({ type: AmountView }) instructedAmount!: AmountView;
  @ApiPropertyOptional() remittanceInformationUnstructured?: string;
  @ApiProperty({ description: 'Sent to the bank; the frontend’s, or generated from the payment id' }) endToEndIdentification!: string;
  @ApiPropertyOptional({ example: 'DEBT' }) chargeBearer?: string;
  @ApiPropertyOptional({
    description: "Why it failed or is unknown: the bank's code (e.g. RESOURCE_UNKNOWN) or bank_timeout / bank_error / interrupted / not_found_at_bank",
  })
  failureCode?: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ format: 'date-time' }) statusChangedAt!: string;
  @ApiProperty({ type: StatusTrackingView }) statusTracking!: StatusTrackingView;
  @ApiPropertyOptional({ type: ReconciliationView, description: 'Payments whose initiation outcome was unknown: how that was cleared up' })
  reconciliation?: ReconciliationView;
  @ApiPropertyOptional({ type: [PaymentStatusChangeView], description: 'Every status change, oldest first (single-payment reads only)' })
  statusHistory?: PaymentStatusChangeView[];
}

export class PaymentListView {
  @ApiProperty({ type: [PaymentView] }) payments!: PaymentView[];
  @ApiPropertyOptional({ description: 'Pass as `cursor` for the next (older) page; absent on the last page' }) nextCursor?: string;
}

export function toPaymentView(p: Payment, settlementWindowMs: number, history?: PaymentStatusChange[]): PaymentView {
  return {
    id: p.id,
    connectionId: p.connectionId,
    aspspId: p.aspspId,
    product: p.product,
    status: p.status,
    ...(p.scaStatus ? { scaStatus: p.scaStatus } : {}),
    ...(p.bankPaymentId ? { bankPaymentId: p.bankPaymentId } : {}),
    debtorAccount: { iban: p.debtorIban },
    creditorAccount: { iban: p.creditorIban },
    creditorName: p.creditorName,
    instructedAmount: { amount: p.amount, currency: p.currency },
    ...(p.remittanceInformationUnstructured !== null ? { remittanceInformationUnstructured: p.remittanceInformationUnstructured } : {}),
    endToEndIdentification: p.endToEndIdentification,
    ...(p.chargeBearer ? { chargeBearer: p.chargeBearer } : {}),
    ...(p.failureCode ? { failureCode: p.failureCode } : {}),
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    statusChangedAt: p.statusChangedAt.toISOString(),
    statusTracking: statusTracking(p, settlementWindowMs),
    ...(p.reconciliationStartedAt
      ? {
          reconciliation: {
            startedAt: p.reconciliationStartedAt.toISOString(),
            ...(p.reconciliationCheckedAt ? { checkedAt: p.reconciliationCheckedAt.toISOString() } : {}),
            ...(p.reconciliationMethod ? { method: p.reconciliationMethod } : {}),
            outcome: p.reconciliationOutcome ?? 'searching',
            ...(p.reconciledAt ? { reconciledAt: p.reconciledAt.toISOString() } : {}),
          },
        }
      : {}),
    ...(history
      ? { statusHistory: history.map((h) => ({ status: h.status, ...(h.scaStatus ? { scaStatus: h.scaStatus } : {}), at: h.changedAt.toISOString() })) }
      : {}),
  };
}

function statusTracking(p: Payment, settlementWindowMs: number): StatusTrackingView {
  if (p.trackingEndedAt) return { active: false, endedAt: p.trackingEndedAt.toISOString(), ...(p.trackingEndReason ? { endReason: p.trackingEndReason } : {}) };
  return { active: true, ...(p.acceptedAt ? { until: new Date(p.acceptedAt.getTime() + settlementWindowMs).toISOString() } : {}) };
}
