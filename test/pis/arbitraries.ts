import fc from 'fast-check';
import { composeIBAN, countrySpecs, isQRIBAN, isSEPACountry } from 'ibantools';

/** Amounts a EUR payment accepts: no leading zeros, at most 2 decimals, greater than 0, as strings. */
export function validAmount(): fc.Arbitrary<string> {
  const integer = fc.oneof(fc.integer({ min: 0, max: 9_999 }).map(String), fc.bigInt({ min: 0n, max: 10n ** 14n - 1n }).map(String));
  const decimals = fc.option(fc.stringMatching(/^[0-9]{1,2}$/), { nil: undefined });
  return fc
    .tuple(integer, decimals)
    .map(([int, dec]) => (dec === undefined ? int : `${int}.${dec}`))
    .filter((amount) => /[1-9]/.test(amount));
}

/**
 * SEPA countries whose IBANs ibantools checks by format and mod-97 only (no national check
 * digits), so a random BBAN of the right shape makes a valid IBAN.
 */
const COUNTRIES = Object.entries(countrySpecs)
  .filter(([cc, spec]) => spec.chars && spec.bban_regexp && !spec.bban_validation_func && isSEPACountry(cc))
  .map(([cc, spec]) => ({ cc, bban: new RegExp(spec.bban_regexp!) }));

/** Valid SEPA IBANs of many countries, in electronic format, that can receive a SEPA credit transfer (no QR-IBANs). */
export function validIban(): fc.Arbitrary<string> {
  return fc
    .oneof(...COUNTRIES.map(({ cc, bban }) => fc.stringMatching(bban).map((b) => composeIBAN({ countryCode: cc, bban: b }))))
    .filter((iban): iban is string => typeof iban === 'string' && !isQRIBAN(iban));
}

/** How a person might type it: lower case and/or grouped by four with spaces. */
export function asTyped(iban: string, spaced: boolean, lower: boolean): string {
  const grouped = spaced ? iban.replace(/(.{4})/g, '$1 ').trim() : iban;
  return lower ? grouped.toLowerCase() : grouped;
}

/** Replaces one digit by another: mod-97 catches every such change. */
export function mutateOneDigit(iban: string, position: number, delta: number): string | undefined {
  const digits = [...iban].map((ch, i) => (/[0-9]/.test(ch) ? i : -1)).filter((i) => i >= 0);
  if (digits.length === 0) return undefined;
  const at = digits[position % digits.length];
  const next = String((Number(iban[at]) + 1 + (delta % 9)) % 10);
  return iban.slice(0, at) + next + iban.slice(at + 1);
}
