import { BadRequestException, Injectable } from '@nestjs/common';
import { ConsentService, type Consent } from '../berlin-group/consents/consent.service.js';
import { PaymentService, type Payment } from '../berlin-group/payments/payment.service.js';
import type { Profile } from '../config.js';
import { SandboxDirectory } from '../data/sandbox-directory.js';

export interface PendingConsentView {
  readonly id: string;
  readonly profile: Profile;
  readonly username: string;
  readonly customer: string;
  readonly access: Consent['request']['access'];
  readonly validUntil: string;
  readonly frequencyPerDay: number;
  readonly recurringIndicator: boolean;
  readonly createdAt: string;
}

export interface PendingPaymentView {
  readonly id: string;
  readonly profile: Profile;
  readonly username: string;
  readonly customer: string;
  readonly amount: { currency: string; amount: string };
  readonly creditorName: string;
  readonly creditorIban: string;
  readonly debtorIban: string;
  readonly remittanceInformationUnstructured?: string;
  readonly createdAt: string;
}

export interface Decision {
  readonly kind: 'consent' | 'payment';
  readonly id: string;
  readonly decision: 'approve' | 'reject';
}

export interface DecisionResult {
  readonly kind: 'consent' | 'payment';
  readonly id: string;
  readonly profile: Profile;
  /** consentStatus or transactionStatus after the decision. */
  readonly status: string;
  readonly scaStatus: string;
}

/** The PSU's bank app: what waits for approval, and the decoupled SCA decision itself. */
@Injectable()
export class PsuService {
  constructor(
    private readonly consents: ConsentService,
    private readonly payments: PaymentService,
    private readonly directory: SandboxDirectory,
  ) {}

  pending(username?: string): { consents: PendingConsentView[]; payments: PendingPaymentView[] } {
    return {
      consents: this.consents.pending(username).map((c) => ({
        id: c.id,
        profile: c.profile,
        username: c.username,
        customer: this.directory.customer(c.customerId)?.name ?? c.customerId,
        access: c.request.access,
        validUntil: c.request.validUntil,
        frequencyPerDay: c.request.frequencyPerDay,
        recurringIndicator: c.request.recurringIndicator,
        createdAt: new Date(c.createdAtMs).toISOString(),
      })),
      payments: this.payments.pending(username).map((p) => viewPayment(p, this.directory.customer(p.customerId)?.name ?? p.customerId)),
    };
  }

  decide(input: unknown): DecisionResult {
    const decision = parseDecision(input);
    const approve = decision.decision === 'approve';
    if (decision.kind === 'consent') {
      const consent = this.consents.decide(decision.id, approve);
      return { kind: 'consent', id: consent.id, profile: consent.profile, status: this.consents.statusOf(consent), scaStatus: consent.scaStatus };
    }
    const payment = this.payments.decide(decision.id, approve);
    return {
      kind: 'payment',
      id: payment.id,
      profile: payment.profile,
      status: this.payments.statusOf(payment),
      scaStatus: this.payments.scaStatusOf(payment),
    };
  }
}

function viewPayment(p: Payment, customer: string): PendingPaymentView {
  return {
    id: p.id,
    profile: p.profile,
    username: p.username,
    customer,
    amount: p.request.instructedAmount,
    creditorName: p.request.creditorName,
    creditorIban: p.request.creditorAccount.iban,
    debtorIban: p.request.debtorAccount.iban,
    ...(p.request.remittanceInformationUnstructured === undefined ? {} : { remittanceInformationUnstructured: p.request.remittanceInformationUnstructured }),
    createdAt: new Date(p.createdAtMs).toISOString(),
  };
}

function parseDecision(input: unknown): Decision {
  const b = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (b.kind !== 'consent' && b.kind !== 'payment') throw new BadRequestException('kind must be "consent" or "payment"');
  if (typeof b.id !== 'string' || b.id === '' || b.id.length > 100) throw new BadRequestException('id (the bank-side consentId or paymentId) is required');
  if (b.decision !== 'approve' && b.decision !== 'reject') throw new BadRequestException('decision must be "approve" or "reject"');
  return { kind: b.kind, id: b.id, decision: b.decision };
}
