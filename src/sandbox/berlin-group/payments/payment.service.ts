import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { isoDate, SandboxClock } from '../../clock/sandbox-clock.js';
import { SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../../config.js';
import type { Grant } from '../../oauth/oauth-store.js';
import { BgError } from '../bg-error.js';
import { floweStyleId } from '../ids.js';
import type { PaymentInitiation, ScaStatus, TransactionStatus } from '../wire.js';

export interface Payment {
  readonly id: string;
  readonly authorisationId: string;
  readonly profile: Profile;
  readonly product: string;
  readonly clientId: string;
  readonly username: string;
  readonly customerId: string;
  readonly request: PaymentInitiation;
  readonly createdAtMs: number;
  /** pending = waiting for the PSU; cancelled = deleted by the TPP before the PSU decided. */
  decision: 'pending' | 'approved' | 'rejected' | 'cancelled';
  decidedAtMs?: number;
}

/** A payment as it shows on the debtor account: pending while ACSP, booked once ACSC. */
export interface PaymentMovement {
  readonly payment: Payment;
  readonly status: 'pending' | 'booked';
  readonly bookingDate?: string;
  readonly valueDate: string;
}

/**
 * Single SEPA credit transfers with decoupled SCA. Status is derived from the sandbox clock on every read
 * (no timers): RCVD → (PSU approves) ACSP → settlementSeconds later ACSC, or RJCT when the creditor is the
 * configured clearing-reject IBAN; PSU refusal or TPP cancellation → CANC (Flowe guide 4.2, step 5).
 */
@Injectable()
export class PaymentService {
  private readonly payments = new Map<string, Payment>();

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly clock: SandboxClock,
  ) {}

  create(grant: Grant, product: string, request: PaymentInitiation): Payment {
    const id = grant.profile === 'flowe' ? floweStyleId('PI', 16) : randomUUID();
    const payment: Payment = {
      id,
      // Flowe's sample: /v1/payments/sepa-credit-transfers/PI20213149S1068Z/authorisations/PI20213149S1068Z-AUTH-1
      authorisationId: grant.profile === 'flowe' ? `${id}-AUTH-1` : randomUUID(),
      profile: grant.profile,
      product,
      clientId: grant.clientId,
      username: grant.username,
      customerId: grant.customerId,
      request,
      createdAtMs: this.clock.nowMs(),
      decision: 'pending',
    };
    this.payments.set(id, payment);
    return payment;
  }

  /** A payment addressed in the path: unknown, another PSU's or another product's → 403 RESOURCE_UNKNOWN. */
  forPath(grant: Grant, product: string, id: string): Payment {
    const p = this.payments.get(id);
    const owned = p !== undefined && p.profile === grant.profile && p.clientId === grant.clientId && p.username === grant.username && p.customerId === grant.customerId;
    if (!owned || p.product !== product) throw new BgError(403, 'RESOURCE_UNKNOWN', 'The payment id is not known for this PSU and TPP');
    return p;
  }

  statusOf(payment: Payment): TransactionStatus {
    switch (payment.decision) {
      case 'pending':
        return 'RCVD';
      case 'rejected':
      case 'cancelled':
        return 'CANC';
      case 'approved':
        if (this.clock.nowMs() < this.settlesAtMs(payment)) return 'ACSP';
        return payment.request.creditorAccount.iban === this.config.rejectCreditorIban ? 'RJCT' : 'ACSC';
    }
  }

  scaStatusOf(payment: Payment): ScaStatus {
    return payment.decision === 'pending' ? 'received' : payment.decision === 'approved' ? 'finalised' : 'failed';
  }

  /** DELETE: only while the PSU has not decided ("The same happens if the TPP cancels ... before the PSU sends its input"). */
  cancel(payment: Payment): void {
    if (payment.decision !== 'pending') {
      throw new BgError(405, 'CANCELLATION_INVALID', `The payment is ${this.statusOf(payment)} and can no longer be cancelled`);
    }
    payment.decision = 'cancelled';
    payment.decidedAtMs = this.clock.nowMs();
  }

  decide(id: string, approve: boolean): Payment {
    const payment = this.payments.get(id);
    if (payment === undefined) throw new NotFoundException(`unknown payment ${id}`);
    if (payment.decision !== 'pending') throw new ConflictException(`payment ${id} is ${this.statusOf(payment)}: nothing to decide`);
    payment.decision = approve ? 'approved' : 'rejected';
    payment.decidedAtMs = this.clock.nowMs();
    return payment;
  }

  pending(username?: string): Payment[] {
    return [...this.payments.values()].filter((p) => p.decision === 'pending' && (username === undefined || p.username === username));
  }

  /** Approved payments out of `iban`, as account movements (RJCT ones never reach the account). */
  movementsFrom(profile: Profile, iban: string): PaymentMovement[] {
    const out: PaymentMovement[] = [];
    for (const payment of this.payments.values()) {
      if (payment.profile !== profile || payment.request.debtorAccount.iban !== iban || payment.decision !== 'approved') continue;
      const status = this.statusOf(payment);
      const approvedOn = isoDate(payment.decidedAtMs!);
      if (status === 'ACSP') out.push({ payment, status: 'pending', valueDate: approvedOn });
      if (status === 'ACSC') {
        const settledOn = isoDate(this.settlesAtMs(payment));
        out.push({ payment, status: 'booked', bookingDate: settledOn, valueDate: settledOn });
      }
    }
    return out.sort((a, b) => b.payment.createdAtMs - a.payment.createdAtMs);
  }

  reset(): void {
    this.payments.clear();
  }

  private settlesAtMs(payment: Payment): number {
    return payment.decidedAtMs! + this.config.settlementSeconds * 1000;
  }
}
