import { ArrayNotEmpty, IsBoolean, IsIn, IsInt, IsNumber, IsString, IsUrl, Matches, Max, MaxLength, Min, type ValidationOptions } from 'class-validator';
import { ToBool, ToInt, ToList, ToNumber } from './transforms.js';

/**
 * Validation rules for environment variables, each with one message that says what is expected.
 * class-validator's defaults describe the first constraint that failed, which misleads (`PORT=abc`
 * read "must not be greater than 65535"); here every constraint of a rule carries the same sentence.
 * Messages start with the property name (the variable, or its suffix for per-bank variables, to
 * which validateEnv adds the prefix) and never include the value.
 */
const says = (expected: string, each = false): ValidationOptions => ({ each, message: ({ property }) => `${property} ${expected}` });

function all(...decorators: PropertyDecorator[]): PropertyDecorator {
  return (target, key) => decorators.forEach((decorate) => decorate(target, key));
}

const HTTP_URL = { require_tld: false, protocols: ['http', 'https'], require_protocol: true };

export const Integer = (min: number, max: number) => {
  const message = says(`must be an integer between ${min} and ${max}`);
  return all(ToInt(), IsInt(message), Min(min, message), Max(max, message));
};

export const Decimal = (min: number, max: number) => {
  const message = says(`must be a number between ${min} and ${max}`);
  return all(ToNumber(), IsNumber({}, message), Min(min, message), Max(max, message));
};

export const Flag = () => all(ToBool(), IsBoolean(says('must be true or false')));

export const OneOf = (values: readonly string[]) => IsIn(values, says(`must be one of: ${values.join(', ')}`));

export const HttpUrl = () => IsUrl(HTTP_URL, says('must be an absolute http(s) URL'));

export const HttpUrlList = () => all(ToList(), IsUrl(HTTP_URL, says('must be a comma-separated list of absolute http(s) URLs', true)));

/** A comma- or space-separated list with at least one entry, each from `values`. */
export const ListOf = (values: readonly string[]) => {
  const message = `must list one or more of: ${values.join(', ')}`;
  return all(ToList(), ArrayNotEmpty(says(message)), IsIn(values, says(message, true)));
};

/** A comma- or space-separated list with at least one entry of any text (`what` names the entries). */
export const NonEmptyList = (what: string) => all(ToList(), ArrayNotEmpty(says(`must list at least one ${what}`)));

export const Text = (maxLength: number) => {
  const message = says(`must be text of at most ${maxLength} characters`);
  return all(IsString(message), MaxLength(maxLength, message));
};

export const Pattern = (pattern: RegExp, expected: string, each = false) => Matches(pattern, says(expected, each));
