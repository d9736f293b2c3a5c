import { setTimeout as delay } from 'node:timers/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import type { InitiatedPayment, PaymentOrder } from '../../aspsp/berlin-group/pis.js';
import { AppError } from '../../common/errors/app-error.js';
import { toProblem } from '../../common/errors/problem.filter.js';
import type { ConfigOf } from '../../config/define-config.js';
import { pisConfig } from '../../config/pis.config.js';
import { connectionNotUsable, serviceNotGranted } from '../connections/connection-errors.js';
import type { Connection } from '../connections/connection.entity.js';
import { BankIdentityService } from '../connections/bank-identity.service.js';
import { BankTokensService } from '../connections/bank-tokens.service.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { Payment, PaymentStatusChange, StoredResponse } from './payment.entity.js';
import { parsePaymentCommand, requestHash } from './payment-request.js';
import { PaymentStore } from './payment.store.js';
import { toPaymentView } from './payment.view.js';

export interface InitiationInput {
  userId: string;
  connectionId: string;
  body: unknown;
  idempotencyKey: unknown;
  /** The PSU's IP (mandatory on initiation). */
  psuIpAddress: string;
}

/** Where a payment's bank call goes: the user's connection (its token), its bank, and the PSU's IP the bank must see. */
interface BankRoute {
  connection: Connection;
  adapter: AspspAdapter;
  psuIpAddress: string;
}

/** The answer for the frontend: the first one for this key, or its replay. */
export interface InitiationResult extends StoredResponse {
  replayed: boolean;
}

/**
 * A pending row older than this was abandoned by a process that died mid-call. Generous: a call
 * may refresh the token, be refused with a 401, refresh again and retry, each step bounded by the
 * bank's timeout.
 */
export function staleAfterMs(adapter: AspspAdapter): number {
  return 10 * adapter.bank.timeoutMs + 5_000;
}

/**
 * Initiates SEPA credit transfers exactly once per (user, Idempotency-Key), following the IETF
 * Idempotency-Key draft and Stripe: the key and a hash of the canonical request are committed with
 * the payment row before the bank is called; the bank is called once; the first answer (success,
 * refusal or unknown outcome) is stored and replayed for every retry with the same body; another
 * body under the key is a 422; a retry while the first is in flight waits for it, then 409.
 */
@Injectable()
export class PaymentInitiationService {
  private readonly logger = new Logger(PaymentInitiationService.name);
  /** Bank calls in flight in this process, so local retries wait on them instead of polling. */
  private readonly inflight = new Map<string, Promise<unknown>>();

  constructor(
    private readonly connections: ConnectionsService,
    private readonly tokens: BankTokensService,
    private readonly aspsps: AspspRegistry,
    private readonly store: PaymentStore,
    private readonly identities: BankIdentityService,
    @Inject(pisConfig.KEY) private readonly config: ConfigOf<typeof pisConfig>,
  ) {}

  async initiate(input: InitiationInput): Promise<InitiationResult> {
    const connection = await this.connections.get(input.userId, input.connectionId);
    const adapter = this.aspsps.get(connection.aspspId);
    const command = await parsePaymentCommand(input.body, input.idempotencyKey, { name: adapter.bank.name, currencies: adapter.paymentCurrencies() });
    const hash = requestHash(connection.id, command.order);
    const route: BankRoute = { connection, adapter, psuIpAddress: input.psuIpAddress };

    try {
      assertCanPay(connection);
      // A debtor account already shown under another user's connection: this connection holds their grant.
      await this.identities.refuseIfAnothers(connection, [command.order.debtorIban]);
    } catch (error) {
      // Refused now, but it may be the retry of a payment made before: that one gets its answer.
      const existing = await this.store.findByKey(input.userId, command.idempotencyKey);
      if (!existing) throw error;
      return this.answerRetry(existing, hash, route);
    }
    const reservation = await this.store.reserve({
      userId: input.userId,
      connectionId: connection.id,
      aspspId: adapter.id,
      idempotencyKey: command.idempotencyKey,
      requestHash: hash,
      order: command.order,
      chargeBearer: adapter.paymentBody(command.order).chargeBearer ?? null,
      staleAt: new Date(Date.now() + staleAfterMs(adapter)),
    });
    if (reservation?.reserved) {
      // A row just reserved has no history yet.
      return { ...(await this.run(reservation.payment, route, [])), replayed: false };
    }
    // The key was taken: by an earlier request, or by one that committed while ours waited on it.
    const existing = reservation?.payment ?? (await this.store.findByKey(input.userId, command.idempotencyKey));
    if (!existing) throw inFlight('The first request with this Idempotency-Key did not complete; retry');
    return this.answerRetry(existing, hash, route);
  }

  /** A request whose key is already taken: its first answer, a 422 for another body, or the resending of a `failed` one. */
  private answerRetry(existing: Payment, hash: string, route: BankRoute): Promise<InitiationResult> {
    if (existing.status === 'failed' && existing.requestHash === hash) return this.retryFailed(existing, route);
    return this.repeat(existing, hash, route.adapter);
  }

  /** The one bank call for a pending row, registered so local retries with the key wait on it. */
  private async run(reserved: Payment, route: BankRoute, history?: PaymentStatusChange[]): Promise<StoredResponse> {
    const flight = this.execute(reserved, route, history);
    this.inflight.set(reserved.id, flight);
    try {
      return await flight;
    } finally {
      this.inflight.delete(reserved.id);
    }
  }

  /**
   * A retry of a payment whose request never reached the bank (`failed`): the same row is sent
   * again, once, so the key still stands for exactly one payment at the bank. A concurrent retry
   * that loses the race waits for the winner's answer like any repeat.
   */
  private async retryFailed(failed: Payment, route: BankRoute): Promise<InitiationResult> {
    const { connection, adapter } = route;
    assertCanPay(connection);
    const reopened = await this.store.reopen(failed.id, new Date(Date.now() + staleAfterMs(adapter)));
    if (!reopened) {
      const current = await this.store.findById(failed.id);
      if (!current) throw inFlight('The first request with this Idempotency-Key did not complete; retry');
      return this.repeat(current, failed.requestHash, adapter);
    }
    this.logger.log({ paymentId: failed.id, aspspId: failed.aspspId }, 'retrying a payment whose first request never reached the bank');
    return { ...(await this.run(reopened, route)), replayed: false };
  }

  /** The one bank call for this key, and the recording of its outcome (`history`: the row's, when known). */
  private async execute(reserved: Payment, { connection, adapter, psuIpAddress }: BankRoute, history?: PaymentStatusChange[]): Promise<StoredResponse> {
    const order: PaymentOrder = {
      debtorIban: reserved.debtorIban,
      creditorIban: reserved.creditorIban,
      creditorName: reserved.creditorName,
      amount: reserved.amount,
      currency: reserved.currency,
      endToEndIdentification: reserved.endToEndIdentification,
      ...(reserved.remittanceInformationUnstructured !== null ? { remittanceInformationUnstructured: reserved.remittanceInformationUnstructured } : {}),
    };
    let initiated: InitiatedPayment;
    try {
      initiated = await this.tokens.withAccessToken(connection, (token) => adapter.pis.initiate(token, psuIpAddress, adapter.paymentBody(order)));
    } catch (error) {
      return this.recordFailure(reserved, error, history);
    }
    const updated = await this.store.transition(
      reserved,
      {
        status: initiated.transactionStatus,
        scaStatus: initiated.scaStatus,
        bankPaymentId: initiated.paymentId,
        authorisationId: initiated.authorisationId,
        source: 'initiation',
        // `unknown` too: a late answer after the row was presumed abandoned still tells the truth.
        onlyIf: (p) => p.status === 'pending' || p.status === 'unknown',
        respond: (p, history) => ({ status: 201, body: { ...toPaymentView(p, this.config.settlementWindowMs, history) } }),
      },
      history,
    );
    return storedResponseOf(updated);
  }

  /**
   * What a failed initiation means for the money:
   * - nothing was sent, or the bank refused it before processing (our token or connection, an
   *   open circuit, our own limits, a refusal of our credentials, 401, 429): the reservation is
   *   released and the key reusable;
   * - the request never reached the bank (connection refused, DNS failure, TLS handshake refused):
   *   `failed`, answered with a retryable 503; a retry with the same key sends the same row again;
   * - the bank refused the payment (4xx): `RJCT`, and that refusal is the key's answer;
   * - anything else (timeout, 5xx, reset, an unreadable 2xx): the payment may exist at the bank.
   *   It becomes `unknown` and is never sent again.
   */
  private async recordFailure(reserved: Payment, error: unknown, history?: PaymentStatusChange[]): Promise<StoredResponse> {
    if (error instanceof AppError || (error instanceof BankError && ['unavailable', 'rate_limited', 'token_invalid', 'misconfigured'].includes(error.kind))) {
      await this.store.release(reserved.id);
      throw error;
    }
    if (error instanceof BankError && error.kind === 'unreachable') {
      this.logger.warn(
        { paymentId: reserved.id, aspspId: reserved.aspspId, cause: error.failureCause },
        'payment initiation never reached the bank: failed, retryable with its key',
      );
      const updated = await this.store.transition(
        reserved,
        {
          status: 'failed',
          failureCode: 'bank_unreachable',
          source: 'initiation',
          onlyIf: (p) => p.status === 'pending',
          respond: () => storedProblem(error, { paymentId: reserved.id, paymentStatus: 'failed', retryable: true }),
        },
        history,
      );
      return storedResponseOf(updated);
    }
    const rejected = error instanceof BankError && (error.kind === 'rejected' || error.kind === 'consent_invalid');
    const status = rejected ? 'RJCT' : 'unknown';
    const failure = error instanceof BankError ? error : new AppError('internal_error', 'The payment could not be recorded');
    const failureCode = rejected
      ? ((error as BankError).details.bankCode ?? 'rejected')
      : error instanceof BankError && error.kind === 'timeout'
        ? 'bank_timeout'
        : 'bank_error';
    if (!rejected)
      this.logger.warn({ paymentId: reserved.id, aspspId: reserved.aspspId, failureCode }, 'payment initiation outcome unknown: it will not be re-sent');
    const updated = await this.store.transition(
      reserved,
      {
        status,
        failureCode,
        source: 'initiation',
        onlyIf: (p) => p.status === 'pending',
        // The answer the filter gives for this failure, kept for every retry with the key.
        respond: () => storedProblem(failure, { paymentId: reserved.id, paymentStatus: status }),
      },
      history,
    );
    return storedResponseOf(updated);
  }

  private async repeat(existing: Payment, hash: string, adapter: AspspAdapter): Promise<InitiationResult> {
    if (existing.requestHash !== hash) {
      throw new AppError('idempotency_key_reused', 'This Idempotency-Key was already used for a different payment request; use a new key for a new payment');
    }
    const settled = existing.responseStatus !== null ? existing : await this.waitForAnswer(existing, adapter);
    return { ...storedResponseOf(settled), replayed: true };
  }

  /** Waits (bounded) for the first request with this key to be answered; 409 + Retry-After after that. */
  private async waitForAnswer(payment: Payment, adapter: AspspAdapter): Promise<Payment> {
    const deadline = Date.now() + this.config.idempotencyWaitMs;
    let pause = 25;
    for (;;) {
      const current = await this.settleIfAbandoned(payment.id, adapter);
      if (!current) throw inFlight('The first request with this Idempotency-Key did not reach the bank; retry');
      if (current.responseStatus !== null) return current;
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw inFlight('A request with this Idempotency-Key is still being processed; retry shortly');
      // Same process: wake up when the first request ends. Another replica: look again shortly.
      const local = this.inflight.get(payment.id);
      const timer = new AbortController();
      const timeout = delay(local ? remaining : Math.min(pause, remaining), undefined, { signal: timer.signal, ref: false }).catch(() => undefined);
      await Promise.race(local ? [local.catch(() => undefined), timeout] : [timeout]);
      timer.abort();
      pause = Math.min(pause * 2, 250);
    }
  }

  /**
   * A row still `pending` long after any bank call could have ended belongs to a process that
   * died mid-call: the bank may or may not have the payment, so it becomes `unknown`.
   */
  async settleIfAbandoned(paymentId: string, adapter: AspspAdapter): Promise<Payment | null> {
    const payment = await this.store.findById(paymentId);
    // statusChangedAt: when it became pending (created, or taken up again after a `failed` attempt).
    if (!payment || payment.status !== 'pending' || Date.now() - payment.statusChangedAt.getTime() < staleAfterMs(adapter)) return payment;
    this.logger.warn({ paymentId, aspspId: payment.aspspId }, 'payment initiation abandoned mid-call: outcome unknown');
    const appError = new AppError('bank_error', `${payment.aspspId}: the outcome of this payment initiation is unknown`, { aspspId: payment.aspspId });
    return (
      (await this.store.transition(payment, {
        status: 'unknown',
        failureCode: 'interrupted',
        source: 'recovery',
        onlyIf: (p) => p.status === 'pending',
        respond: () => storedProblem(appError, { paymentId, paymentStatus: 'unknown' }),
      })) ?? null
    );
  }
}

function assertCanPay(connection: Connection): void {
  if (!connection.services.includes('pis')) throw serviceNotGranted(connection, 'pis');
  if (connection.status !== 'active') throw connectionNotUsable(connection);
}

function storedResponseOf(payment: Payment | undefined): StoredResponse {
  if (!payment || payment.responseStatus === null || payment.responseBody === null) throw new Error('payment answer was not recorded');
  return { status: payment.responseStatus, body: payment.responseBody };
}

function storedProblem(error: unknown, extensions: Record<string, unknown>): StoredResponse {
  const body = toProblem(error, undefined, extensions);
  return { status: body.status, body: { ...body } };
}

function inFlight(detail: string): AppError {
  return new AppError('idempotency_key_in_flight', detail, { retryAfterSeconds: 1 });
}
