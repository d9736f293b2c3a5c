import { BankError } from '../bank-error.js';
import type { BerlinGroupClient } from './berlin-group.client.js';
import {
  isBankId,
  parseCancellationAccepted,
  parsePaymentInitiated,
  parsePaymentStatus,
  parseScaStatusBody,
  type CancelOutcome,
  type InitiatedPayment,
  type ScaStatus,
  type SepaCreditTransferBody,
  type TransactionStatus,
} from './pis-wire.js';

export type { CancelOutcome, InitiatedPayment, PaymentOrder, ScaStatus, SepaCreditTransferBody, TransactionStatus } from './pis-wire.js';
export { isFinalScaStatus, isFinalTransactionStatus, sepaCreditTransferBody, SCA_STATUSES, TRANSACTION_STATUSES } from './pis-wire.js';

/** The only payment product the seed banks offer (Flowe guide 4.2: "sepa-credit-transfer"). */
const PRODUCT = 'sepa-credit-transfers';

/**
 * Berlin Group NextGenPSD2 v1.3 PIS as every bank of this family speaks it: initiation, status,
 * SCA status of the (implicitly started) authorisation, cancellation. Bank differences (charge
 * bearer, currencies) live in the adapters; this is the shared wire.
 */
export class BerlinGroupPis {
  constructor(
    private readonly api: BerlinGroupClient,
    private readonly aspspId: string,
  ) {}

  /**
   * `POST /payments/sepa-credit-transfers`. Never retried, whatever fails: a request that timed
   * out may have created the payment, and a second POST could move the money twice.
   * `psuIpAddress` is mandatory for initiation (Berlin Group `PSU-IP-Address`).
   */
  async initiate(accessToken: string, psuIpAddress: string, body: SepaCreditTransferBody): Promise<InitiatedPayment> {
    const res = await this.api.call({
      method: 'POST',
      operation: 'payment',
      service: 'pis',
      path: `/payments/${PRODUCT}`,
      accessToken,
      psuIpAddress,
      json: body,
      retry: false,
    });
    return parsePaymentInitiated(this.aspspId, res.body);
  }

  /**
   * `GET …/{paymentId}/status`. Not retried here: the bank allows one status request per payment
   * per second (Flowe guide 4.2 step 3), and the scheduler (or the user) asks again later anyway.
   */
  async status(accessToken: string, paymentId: string): Promise<TransactionStatus> {
    const res = await this.api.call({
      method: 'GET',
      operation: 'payment-status',
      service: 'pis',
      path: `${this.paymentPath(paymentId)}/status`,
      accessToken,
      retry: false,
    });
    return parsePaymentStatus(this.aspspId, res.body);
  }

  /** `GET …/{paymentId}/authorisations/{authorisationId}` (Flowe guide 4.2, last step). */
  async scaStatus(accessToken: string, paymentId: string, authorisationId: string): Promise<ScaStatus> {
    if (!isBankId(authorisationId)) throw new BankError(this.aspspId, 'unexpected', 'unusable authorisation id');
    const path = `${this.paymentPath(paymentId)}/authorisations/${encodeURIComponent(authorisationId)}`;
    const res = await this.api.call({ method: 'GET', operation: 'payment-sca-status', service: 'pis', path, accessToken, retry: false });
    return parseScaStatusBody(this.aspspId, res.body);
  }

  /**
   * `DELETE …/{paymentId}`: 204 = cancelled, 202 = the PSU must authorise the cancellation,
   * 405 (CANCELLATION_INVALID) = the payment can no longer be cancelled. Not retried: a repeat
   * after a lost 204 would answer 405 and hide the cancellation.
   */
  async cancel(accessToken: string, paymentId: string, psuIpAddress?: string): Promise<CancelOutcome> {
    try {
      const res = await this.api.call({
        method: 'DELETE',
        operation: 'payment-cancel',
        service: 'pis',
        path: this.paymentPath(paymentId),
        accessToken,
        psuIpAddress,
        retry: false,
      });
      if (res.status === 202) return { outcome: 'authorisation_required', transactionStatus: parseCancellationAccepted(this.aspspId, res.body) };
      return { outcome: 'cancelled' };
    } catch (error) {
      if (error instanceof BankError && error.details.status === 405) return { outcome: 'not_cancellable', bankCode: error.details.bankCode };
      throw error;
    }
  }

  private paymentPath(paymentId: string): string {
    if (!isBankId(paymentId)) throw new BankError(this.aspspId, 'unexpected', 'unusable payment id');
    return `/payments/${PRODUCT}/${encodeURIComponent(paymentId)}`;
  }
}
