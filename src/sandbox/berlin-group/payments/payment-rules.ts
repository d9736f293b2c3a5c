import { isValidIBAN } from 'ibantools';
import { isIsoDate } from '../../clock/sandbox-clock.js';
import { formatError } from '../bg-error.js';
import type { PaymentInitiation } from '../wire.js';

/** Berlin Group's amountValue pattern `-?[0-9]{1,14}(\.[0-9]{1,3})?`, anchored, without the sign (amounts are > 0). */
const AMOUNT = /^[0-9]{1,14}(\.[0-9]{1,3})?$/;
/** Electronic IBAN format: no spaces, upper case. */
const IBAN_SHAPE = /^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$/;
const CHARGE_BEARERS = ['DEBT', 'CRED', 'SHAR', 'SLEV'];
const ACCOUNT_REFERENCE_FIELDS = ['bban', 'pan', 'maskedPan', 'msisdn', 'other'];

/**
 * Validates a sepa-credit-transfers body. "Only IBAN is allowed as an account reference" (Flowe guide 4.2,
 * applied to both banks); IBAN checksums via ibantools; amounts as anchored decimal strings > 0 with at
 * most 2 decimals (EUR); SEPA credit transfers are in EUR; creditorName ≤ 70, remittance ≤ 140
 * (Berlin Group maxLength). Each failure is a 400 FORMAT_ERROR naming the field.
 */
export function validatePaymentRequest(body: unknown): PaymentInitiation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw formatError('The request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const debtorIban = ibanOf(b.debtorAccount, 'debtorAccount');
  const creditorIban = ibanOf(b.creditorAccount, 'creditorAccount');

  const amount = b.instructedAmount as Record<string, unknown> | undefined;
  if (typeof amount !== 'object' || amount === null) throw formatError('instructedAmount is required', 'instructedAmount');
  if (amount.currency !== 'EUR') throw formatError('instructedAmount.currency must be EUR (SEPA credit transfer)', 'instructedAmount.currency');
  if (typeof amount.amount !== 'string' || !AMOUNT.test(amount.amount)) {
    throw formatError('instructedAmount.amount must be a decimal string such as "12.50"', 'instructedAmount.amount');
  }
  const [, decimals = ''] = amount.amount.split('.');
  if (decimals.length > 2) throw formatError('instructedAmount.amount has at most 2 decimals in EUR', 'instructedAmount.amount');
  if (!/[1-9]/.test(amount.amount)) throw formatError('instructedAmount.amount must be greater than 0', 'instructedAmount.amount');

  const creditorName = b.creditorName;
  if (typeof creditorName !== 'string' || creditorName.trim() === '') throw formatError('creditorName is required', 'creditorName');
  if (creditorName.length > 70) throw formatError('creditorName has at most 70 characters', 'creditorName');
  const remittance = optionalString(b, 'remittanceInformationUnstructured', 140);
  const endToEnd = optionalString(b, 'endToEndIdentification', 35);
  if (b.chargeBearer !== undefined && !CHARGE_BEARERS.includes(b.chargeBearer as string))
    throw formatError('chargeBearer must be DEBT, CRED, SHAR or SLEV', 'chargeBearer');
  if (b.requestedExecutionDate !== undefined && !isIsoDate(b.requestedExecutionDate))
    throw formatError('requestedExecutionDate must be YYYY-MM-DD', 'requestedExecutionDate');

  return {
    debtorAccount: { iban: debtorIban },
    creditorAccount: { iban: creditorIban },
    creditorName,
    instructedAmount: { currency: 'EUR', amount: amount.amount },
    ...(remittance === undefined ? {} : { remittanceInformationUnstructured: remittance }),
    ...(endToEnd === undefined ? {} : { endToEndIdentification: endToEnd }),
    ...(b.chargeBearer === undefined ? {} : { chargeBearer: b.chargeBearer as PaymentInitiation['chargeBearer'] }),
    ...(b.requestedExecutionDate === undefined ? {} : { requestedExecutionDate: b.requestedExecutionDate as string }),
  };
}

function ibanOf(reference: unknown, field: string): string {
  if (typeof reference !== 'object' || reference === null) throw formatError(`${field} is required`, field);
  const ref = reference as Record<string, unknown>;
  const other = ACCOUNT_REFERENCE_FIELDS.filter((k) => ref[k] !== undefined);
  if (other.length > 0) throw formatError(`${field}: only IBAN is allowed as an account reference`, `${field}.${other[0]}`);
  if (ref.currency !== undefined && ref.currency !== 'EUR') throw formatError(`${field}.currency must be EUR`, `${field}.currency`);
  const iban = ref.iban;
  if (typeof iban !== 'string' || !IBAN_SHAPE.test(iban) || !isValidIBAN(iban))
    throw formatError(`${field}.iban is not a valid IBAN (electronic format, valid checksum)`, `${field}.iban`);
  return iban;
}

function optionalString(body: Record<string, unknown>, field: string, maxLength: number): string | undefined {
  const value = body[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw formatError(`${field} must be a string`, field);
  if (value.length > maxLength) throw formatError(`${field} has at most ${maxLength} characters`, field);
  return value;
}
