import { randomUUID } from 'node:crypto';
import { ConflictException, Inject, Injectable, NotFoundException } from '@nestjs/common';
import { isoDate, SandboxClock } from '../../clock/sandbox-clock.js';
import { SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../../config.js';
import { nextCutoffMs } from '../../modes/bank-modes.js';
import { BankModesService } from '../../modes/bank-modes.service.js';
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
  /** When an approved payment becomes ACSC: fixed at approval from the bank's settlement rule. */
  settlesAtMs?: number;
  /** When clearing rejected it (pac.002): `POST /admin/payments/{id}/clearing-reject`. */
  clearingRejectedAtMs?: number;
}

/**
 * A payment as it shows on the debtor account: pending while ACSP, booked once ACSC; a payment
 * rejected by clearing after ACSC keeps its booked debit and gets a booked credit (`reversal`).
 */
export interface PaymentMovement {
  readonly payment: Payment;
  readonly status: 'pending' | 'booked';
  readonly bookingDate?: string;
  readonly valueDate: string;
  readonly reversal?: boolean;
}

/**
 * Single SEPA credit transfers with decoupled SCA. Status is derived from the sandbox clock on every read
 * (no timers), following Flowe guide 4.2 step 5: RCVD → (PSU approves) ACSP → ACSC at settlement
 * (`settlementSeconds` after approval, or the next cut-off time when the bank has `cutoffTimes`), or RJCT
 * instead when the creditor is the clearing-reject IBAN; RJCT after ACSC when clearing sends a pac.002
 * later (the late-reject IBAN, or `POST /admin/payments/{id}/clearing-reject`); PSU refusal or TPP
 * cancellation → CANC.
 */
@Injectable()
export class PaymentService {
  private readonly payments = new Map<string, Payment>();

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly clock: SandboxClock,
    private readonly modes: BankModesService,
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
    const owned =
      p !== undefined && p.profile === grant.profile && p.clientId === grant.clientId && p.username === grant.username && p.customerId === grant.customerId;
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
      case 'approved': {
        const now = this.clock.nowMs();
        const rejectedAt = this.rejectedAtMs(payment);
        if (rejectedAt !== undefined && now >= rejectedAt) return 'RJCT';
        return now < payment.settlesAtMs! ? 'ACSP' : 'ACSC';
      }
    }
  }

  /**
   * `POST /admin/payments/{id}/clearing-reject`: clearing answers a pac.002 RJCT now — after ACSC
   * (the debit is reversed on the account) or while ACSP. Anything else is a 409.
   */
  rejectByClearing(id: string): Payment {
    const payment = this.payments.get(id);
    if (payment === undefined) throw new NotFoundException(`unknown payment ${id}`);
    const status = this.statusOf(payment);
    if (status !== 'ACSP' && status !== 'ACSC')
      throw new ConflictException(`payment ${id} is ${status}: only an ACSP or ACSC payment can be rejected by clearing`);
    payment.clearingRejectedAtMs = this.clock.nowMs();
    return payment;
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
    if (approve) payment.settlesAtMs = this.settlementTime(payment);
    return payment;
  }

  /** Every payment, oldest first (the admin listing). */
  all(): Payment[] {
    return [...this.payments.values()].sort((a, b) => a.createdAtMs - b.createdAtMs);
  }

  pending(username?: string): Payment[] {
    return [...this.payments.values()].filter((p) => p.decision === 'pending' && (username === undefined || p.username === username));
  }

  /** Approved payments out of `iban`, as account movements (a payment rejected before settlement never reaches the account). */
  movementsFrom(profile: Profile, iban: string): PaymentMovement[] {
    const out: PaymentMovement[] = [];
    for (const payment of this.payments.values()) {
      if (payment.profile !== profile || payment.request.debtorAccount.iban !== iban || payment.decision !== 'approved') continue;
      const status = this.statusOf(payment);
      const settledOn = isoDate(payment.settlesAtMs!);
      const rejectedAt = this.rejectedAtMs(payment);
      // Rejected after settlement: the debit was booked, the return is booked on the day of the reject.
      if (status === 'ACSP') out.push({ payment, status: 'pending', valueDate: isoDate(payment.decidedAtMs!) });
      if (status === 'ACSC' || (status === 'RJCT' && rejectedAt! > payment.settlesAtMs!)) {
        out.push({ payment, status: 'booked', bookingDate: settledOn, valueDate: settledOn });
      }
      if (status === 'RJCT' && rejectedAt! > payment.settlesAtMs!) {
        const returnedOn = isoDate(rejectedAt!);
        out.push({ payment, status: 'booked', bookingDate: returnedOn, valueDate: returnedOn, reversal: true });
      }
    }
    return out.sort((a, b) => b.payment.createdAtMs - a.payment.createdAtMs || Number(b.reversal ?? false) - Number(a.reversal ?? false));
  }

  reset(): void {
    this.payments.clear();
  }

  /** ACSC time: settlementSeconds after approval, moved to the next cut-off when the bank has cut-off times. */
  private settlementTime(payment: Payment): number {
    const earliest = payment.decidedAtMs! + this.config.settlementSeconds * 1000;
    const cutoffs = this.modes.of(payment.profile).cutoffTimes;
    return cutoffs.length === 0 ? earliest : nextCutoffMs(cutoffs, earliest);
  }

  /** When RJCT takes effect: the reject IBAN at settlement, the late-reject IBAN after it, or the admin call. */
  private rejectedAtMs(payment: Payment): number | undefined {
    const creditor = payment.request.creditorAccount.iban;
    if (payment.clearingRejectedAtMs !== undefined) return payment.clearingRejectedAtMs;
    if (creditor === this.config.rejectCreditorIban) return payment.settlesAtMs;
    if (creditor === this.config.lateRejectCreditorIban) return payment.settlesAtMs! + this.config.lateRejectSeconds * 1000;
    return undefined;
  }
}
