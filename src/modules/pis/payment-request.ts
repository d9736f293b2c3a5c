import { createHash } from 'node:crypto';
import type { PaymentOrder } from '../../aspsp/berlin-group/pis.js';
import { AppError, type FieldError } from '../../common/errors/app-error.js';
import { createValidationPipe } from '../../common/errors/validation.js';
import { CreatePaymentDto } from './dto/create-payment.dto.js';
import { IDEMPOTENCY_KEY } from './payment-rules.js';

export const IDEMPOTENCY_KEY_FIELD = 'header:Idempotency-Key';

export interface PaymentCommand {
  idempotencyKey: string;
  /** Validated and normalised; `endToEndIdentification` only when the frontend sent one. */
  order: PaymentOrder;
}

const pipe = createValidationPipe();

/**
 * Checks the body, the Idempotency-Key header and the bank's currencies together, so one 400
 * lists every bad field (the route takes the raw body for this reason; the same validation pipe
 * as every other route does the DTO part: unknown properties refused, nested fields named).
 */
export async function parsePaymentCommand(
  body: unknown,
  idempotencyKey: unknown,
  bank: { name: string; currencies: readonly string[] },
): Promise<PaymentCommand> {
  const errors: FieldError[] = [];
  if (typeof idempotencyKey !== 'string' || !IDEMPOTENCY_KEY.test(idempotencyKey)) {
    errors.push({ field: IDEMPOTENCY_KEY_FIELD, message: 'is required: 1–255 printable ASCII characters, unique per payment' });
  }
  let dto: CreatePaymentDto | undefined;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    errors.push({ field: 'body', message: 'must be a JSON object' });
  } else {
    try {
      dto = (await pipe.transform(body, { type: 'body', metatype: CreatePaymentDto })) as CreatePaymentDto;
    } catch (error) {
      if (!(error instanceof AppError) || error.code !== 'validation_failed') throw error;
      errors.push(...((error.extensions.errors as FieldError[] | undefined) ?? []));
    }
  }
  const currency = dto?.instructedAmount.currency ?? currencyOf(body);
  if (currency !== undefined && /^[A-Z]{3}$/.test(currency) && !bank.currencies.includes(currency)) {
    errors.push({ field: 'instructedAmount.currency', message: `${bank.name} accepts ${bank.currencies.join(', ')} only` });
  }
  if (errors.length > 0 || !dto) throw AppError.validation(errors);
  return {
    idempotencyKey: idempotencyKey as string,
    order: {
      debtorIban: dto.debtorAccount.iban,
      creditorIban: dto.creditorAccount.iban,
      creditorName: dto.creditorName,
      amount: dto.instructedAmount.amount,
      currency: dto.instructedAmount.currency,
      ...(dto.remittanceInformationUnstructured !== undefined ? { remittanceInformationUnstructured: dto.remittanceInformationUnstructured } : {}),
      ...(dto.endToEndIdentification !== undefined ? { endToEndIdentification: dto.endToEndIdentification } : {}),
    },
  };
}

function currencyOf(body: unknown): string | undefined {
  const amount = (body as { instructedAmount?: unknown } | null)?.instructedAmount;
  const currency = typeof amount === 'object' && amount !== null ? (amount as { currency?: unknown }).currency : undefined;
  return typeof currency === 'string' ? currency : undefined;
}

/**
 * The fingerprint a retry is compared with: the connection and the normalised order, in a fixed
 * order. Two requests that mean the same payment (IBAN spacing aside) hash the same.
 */
export function requestHash(connectionId: string, order: PaymentOrder): string {
  const canonical = JSON.stringify([
    connectionId,
    order.debtorIban,
    order.creditorIban,
    order.creditorName,
    order.amount,
    order.currency,
    order.remittanceInformationUnstructured ?? null,
    order.endToEndIdentification ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}
