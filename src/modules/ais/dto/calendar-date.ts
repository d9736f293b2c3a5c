import { ValidateBy, type ValidationOptions } from 'class-validator';
import { isIsoDate } from '../../../aspsp/berlin-group/dates.js';

/** A real calendar date written YYYY-MM-DD (so 2025-02-30, 2025-2-1 and timestamps are refused). */
export function IsCalendarDate(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    { name: 'isCalendarDate', validator: { validate: (value) => isIsoDate(value), defaultMessage: () => '$property must be a date written YYYY-MM-DD' } },
    options,
  );
}
