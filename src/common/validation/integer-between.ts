import { Transform } from 'class-transformer';
import { ValidateBy, type ValidationOptions } from 'class-validator';

/** A query parameter that is a whole decimal number becomes that number; anything else stays as sent, to be refused. */
export const ToQueryInteger = () => Transform(({ value }) => (typeof value === 'string' && /^-?\d{1,9}$/.test(value) ? Number(value) : value));

/**
 * An integer in [min, max], with one message that says what is wrong: `limit=2.5` is "limit must
 * be an integer", `limit=0` is "limit must be between 1 and 100". (class-validator's IsInt, Min and
 * Max each add their own message, so `2.5` also read "must not be less than 1".)
 */
export function IsIntegerBetween(min: number, max: number, options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isIntegerBetween',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max,
        defaultMessage: (args) => (Number.isSafeInteger(args?.value) ? `$property must be between ${min} and ${max}` : '$property must be an integer'),
      },
    },
    options,
  );
}
