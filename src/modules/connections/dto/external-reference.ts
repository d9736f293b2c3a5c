import { applyDecorators } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';

export const EXTERNAL_REFERENCE_MAX = 128;

/**
 * No control, format or unassigned characters (Unicode category C): the value travels in JSON to
 * webhook receivers and into their logs, where a newline or a bidi override could forge a line.
 */
const PRINTABLE = /^[^\p{C}]+$/u;

export const EXTERNAL_REFERENCE_DESCRIPTION =
  'Your own id for this connection (e.g. a customer or ledger account number), 1-128 printable characters. ' +
  'Returned on the connection and in the `externalReference` of its webhook events; never shown to the bank.';

/** The rules of `externalReference`, wherever it is written. */
export function ExternalReference(): PropertyDecorator {
  return applyDecorators(
    IsString(),
    Length(1, EXTERNAL_REFERENCE_MAX, { message: `externalReference must be 1 to ${EXTERNAL_REFERENCE_MAX} characters long` }),
    Matches(PRINTABLE, { message: 'externalReference must contain only printable characters (no control characters)' }),
  );
}
