import { BankError } from '../bank-error.js';

/**
 * Berlin Group PIS bodies → our domain types, at the edge. Statuses are checked against the
 * spec's code lists so an unknown value fails here, loudly, instead of being stored.
 */

/** ISO 20022 transaction statuses (Berlin Group `transactionStatus`). */
export const TRANSACTION_STATUSES = ['ACCC', 'ACCP', 'ACSC', 'ACSP', 'ACTC', 'ACWC', 'ACWP', 'RCVD', 'PDNG', 'RJCT', 'CANC', 'ACFC', 'PATC', 'PART'] as const;
export type TransactionStatus = (typeof TRANSACTION_STATUSES)[number];

/** Berlin Group `scaStatus` of an authorisation sub-resource. */
export const SCA_STATUSES = [
  'received',
  'psuIdentified',
  'psuAuthenticated',
  'scaMethodSelected',
  'started',
  'unconfirmed',
  'finalised',
  'failed',
  'exempted',
] as const;
export type ScaStatus = (typeof SCA_STATUSES)[number];

/**
 * Whether a transaction status can still change. Settled (ACSC, ACCC), rejected (RJCT) and
 * cancelled (CANC) payments are done; everything else may still move.
 */
export function isFinalTransactionStatus(status: TransactionStatus): boolean {
  switch (status) {
    case 'ACSC':
    case 'ACCC':
    case 'RJCT':
    case 'CANC':
      return true;
    case 'ACCP':
    case 'ACSP':
    case 'ACTC':
    case 'ACWC':
    case 'ACWP':
    case 'RCVD':
    case 'PDNG':
    case 'ACFC':
    case 'PATC':
    case 'PART':
      return false;
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

/** SCA is over once it is finalised, failed or exempted: no need to ask again. */
export function isFinalScaStatus(status: ScaStatus): boolean {
  return status === 'finalised' || status === 'failed' || status === 'exempted';
}

/** The `POST /payments/sepa-credit-transfers` body (schema `paymentInitiation_json`), IBAN-only accounts. */
export interface SepaCreditTransferBody {
  endToEndIdentification?: string;
  debtorAccount: { iban: string };
  instructedAmount: { currency: string; amount: string };
  creditorAccount: { iban: string };
  creditorName: string;
  chargeBearer?: string;
  remittanceInformationUnstructured?: string;
}

/** A SEPA credit transfer as our domain holds it: validated, IBANs in electronic format. */
export interface PaymentOrder {
  debtorIban: string;
  creditorIban: string;
  creditorName: string;
  /** Decimal string, never a float. */
  amount: string;
  currency: string;
  remittanceInformationUnstructured?: string;
  endToEndIdentification?: string;
}

/**
 * The Berlin Group body for an order. `chargeBearer` comes from the bank's configuration (Flowe's
 * guide sends `DEBT`); `NONE` leaves it out for a bank that does not want it.
 */
export function sepaCreditTransferBody(order: PaymentOrder, chargeBearer: string): SepaCreditTransferBody {
  return {
    ...(order.endToEndIdentification ? { endToEndIdentification: order.endToEndIdentification } : {}),
    debtorAccount: { iban: order.debtorIban },
    instructedAmount: { currency: order.currency, amount: order.amount },
    creditorAccount: { iban: order.creditorIban },
    creditorName: order.creditorName,
    ...(chargeBearer && chargeBearer !== 'NONE' ? { chargeBearer } : {}),
    ...(order.remittanceInformationUnstructured ? { remittanceInformationUnstructured: order.remittanceInformationUnstructured } : {}),
  };
}

export interface InitiatedPayment {
  paymentId: string;
  transactionStatus: TransactionStatus;
  /** The authorisation sub-resource id, from `_links.scaStatus.href` (implicit start of authorisation). */
  authorisationId?: string;
  scaStatus?: ScaStatus;
}

/** Cancellation outcome: 204 cancelled, 202 the PSU must authorise the cancellation, 405 too late. */
export type CancelOutcome =
  { outcome: 'cancelled' } | { outcome: 'authorisation_required'; transactionStatus?: TransactionStatus } | { outcome: 'not_cancellable'; bankCode?: string };

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Bank ids go back into URL paths: only plain id characters, never `.`/`..` segments or slashes,
 * so a hostile or broken answer cannot steer a later call elsewhere.
 */
const BANK_ID = /^(?!\.{1,2}$)[A-Za-z0-9._~-]{1,128}$/;

export function isBankId(value: unknown): value is string {
  return typeof value === 'string' && BANK_ID.test(value);
}

export function parseTransactionStatus(aspspId: string, value: unknown): TransactionStatus {
  if (typeof value === 'string' && (TRANSACTION_STATUSES as readonly string[]).includes(value)) return value as TransactionStatus;
  throw new BankError(aspspId, 'unexpected', 'the bank sent an unknown transactionStatus');
}

export function parseScaStatus(aspspId: string, value: unknown): ScaStatus {
  if (typeof value === 'string' && (SCA_STATUSES as readonly string[]).includes(value)) return value as ScaStatus;
  throw new BankError(aspspId, 'unexpected', 'the bank sent an unknown scaStatus');
}

/** The authorisation id is the last path segment after `/authorisations/` in `_links.scaStatus.href`. */
export function authorisationIdFromHref(href: unknown): string | undefined {
  if (typeof href !== 'string' || href.length > 2048) return undefined;
  let path: string;
  try {
    path = new URL(href, 'http://relative.invalid').pathname;
  } catch {
    return undefined;
  }
  const match = path.match(/\/authorisations\/([^/]+)\/?$/);
  if (!match) return undefined;
  const id = decodeURIComponent(match[1]);
  return isBankId(id) ? id : undefined;
}

export function parsePaymentInitiated(aspspId: string, body: unknown): InitiatedPayment {
  if (!isObject(body) || !isBankId(body.paymentId)) throw new BankError(aspspId, 'unexpected', 'the bank accepted the payment without a usable paymentId');
  const links = isObject(body._links) ? body._links : {};
  const scaLink = isObject(links.scaStatus) ? links.scaStatus.href : undefined;
  const authorisationId = authorisationIdFromHref(scaLink);
  return {
    paymentId: body.paymentId,
    transactionStatus: parseTransactionStatus(aspspId, body.transactionStatus),
    authorisationId,
    // With the implicit start of authorisation (Flowe guide 4) the authorisation exists from the
    // start; until the bank says otherwise its status is Berlin Group's initial `received`.
    scaStatus: body.scaStatus !== undefined ? parseScaStatus(aspspId, body.scaStatus) : authorisationId ? 'received' : undefined,
  };
}

export function parsePaymentStatus(aspspId: string, body: unknown): TransactionStatus {
  if (!isObject(body)) throw new BankError(aspspId, 'unexpected', 'the bank sent no payment status');
  return parseTransactionStatus(aspspId, body.transactionStatus);
}

export function parseScaStatusBody(aspspId: string, body: unknown): ScaStatus {
  if (!isObject(body)) throw new BankError(aspspId, 'unexpected', 'the bank sent no scaStatus');
  return parseScaStatus(aspspId, body.scaStatus);
}

/** 202 body of a cancellation that needs the PSU's authorisation: its transactionStatus, when valid. */
export function parseCancellationAccepted(aspspId: string, body: unknown): TransactionStatus | undefined {
  if (!isObject(body) || body.transactionStatus === undefined) return undefined;
  return parseTransactionStatus(aspspId, body.transactionStatus);
}
