import { electronicFormatIBAN, isQRIBAN, isSEPACountry, isValidIBAN, validateIBAN, ValidationErrorsIBAN } from 'ibantools';

/**
 * The checks a payment passes before any bank sees it. Pure functions, so property tests can run
 * them thousands of times. Messages start with `$property`, which class-validator replaces with
 * the field name (the validation filter then drops it again from the listed message).
 */

/** Berlin Group's `amountValue` pattern (`-?[0-9]{1,14}(\.[0-9]{1,3})?`), anchored: the specification's pattern is not, so `1.5abc` would match it (docs/design.md, "Payments and idempotency"). */
export const BERLIN_GROUP_AMOUNT = /^-?[0-9]{1,14}(\.[0-9]{1,3})?$/;

/**
 * IBANs as a person types them are accepted: spaces (and the dashes ibantools also strips) are
 * removed and letters upper-cased. Anything else — newlines, tabs, full-width digits — is left in
 * place and so fails validation rather than being silently repaired.
 */
export function normaliseIban(value: unknown): unknown {
  return typeof value === 'string' ? electronicFormatIBAN(value) : value;
}

/** Why an (already normalised) IBAN is refused, or undefined when it is a valid SEPA IBAN. */
export function ibanProblem(iban: unknown): string | undefined {
  if (typeof iban !== 'string' || iban === '') return '$property must be an IBAN';
  if (!isValidIBAN(iban)) {
    const [code] = validateIBAN(iban).errorCodes;
    switch (code) {
      case ValidationErrorsIBAN.NoIBANCountry:
        return '$property has an unknown IBAN country code';
      case ValidationErrorsIBAN.WrongBBANLength:
        return '$property has the wrong length for its country';
      case ValidationErrorsIBAN.WrongBBANFormat:
        return "$property does not match its country's IBAN format";
      case ValidationErrorsIBAN.ChecksumNotNumber:
      case ValidationErrorsIBAN.WrongIBANChecksum:
        return '$property has a wrong IBAN checksum';
      default:
        return '$property is not a valid IBAN';
    }
  }
  // A SEPA credit transfer moves money between SEPA countries only.
  if (!isSEPACountry(iban.slice(0, 2))) return '$property is not in a SEPA country';
  // A Swiss or Liechtenstein QR-IBAN (institution id 30000–31999) only takes QR-bill payments with
  // a QR reference: it cannot receive a SEPA credit transfer (SIX, QR-bill implementation guidelines).
  if (isQRIBAN(iban)) return '$property is a QR-IBAN, which only receives QR-bill payments, not SEPA credit transfers';
  return undefined;
}

/**
 * The Latin character set every SEPA bank must carry (EPC, SEPA Credit Transfer Scheme
 * Implementation Guidelines, "Character set"): letters a–z and A–Z, digits, space and
 * `/ - ? : ( ) . , ' +`. Banks may agree on more, but nothing else is sure to arrive as sent: an
 * accented letter may be changed on the way, and bidi overrides, zero-width or line-separator
 * characters could make a name or a reference read differently in the PSU's bank app than what the
 * user confirmed. Text outside the set is refused, never silently rewritten.
 */
const EPC_BASIC_LATIN = /^[A-Za-z0-9/\-?:().,'+ ]*$/;

/** Why a creditor name or remittance text is refused, or undefined when it is EPC basic Latin. */
export function sepaTextProblem(value: unknown): string | undefined {
  if (typeof value !== 'string' || EPC_BASIC_LATIN.test(value)) return undefined;
  // Name the characters by code point: echoing a bidi override or a newline would do what it does.
  const refused = [...new Set([...value].filter((ch) => !EPC_BASIC_LATIN.test(ch)))]
    .slice(0, 5)
    .map((ch) => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`);
  return `$property may contain only the SEPA (EPC) Latin characters: letters a-z A-Z, digits, space and / - ? : ( ) . , ' + (refused: ${refused.join(', ')})`;
}

/** Decimal places a currency allows (ISO 4217 minor units: EUR 2), capped at Berlin Group's 3. */
export function minorUnits(currency: string): number {
  let units = minorUnitsOf.get(currency);
  if (units === undefined) {
    try {
      units = Math.min(new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2, 3);
    } catch {
      units = 2;
    }
    // Bounded: only well-formed codes reach here, and ICU knows a few hundred of them; the rest are not kept.
    if (minorUnitsOf.size < 1_000) minorUnitsOf.set(currency, units);
  }
  return units;
}

/** Building an Intl.NumberFormat costs more than the rest of a payment's validation together. */
const minorUnitsOf = new Map<string, number>();

/**
 * Why an amount string is refused, or undefined. The amount must match Berlin Group's anchored
 * pattern (so no exponent, sign, hex, blanks, `.5` or `12.`), be greater than 0, have no leading
 * zeros (`00001` is refused: one amount, one spelling; `0.50` is fine) and at most as many decimals as
 * the currency has (EUR: 2). It stays a string from here to the bank: never a float.
 */
export function amountProblem(amount: unknown, currency: unknown): string | undefined {
  if (typeof amount !== 'string') return '$property must be a decimal string such as "12.50"';
  if (!BERLIN_GROUP_AMOUNT.test(amount)) return '$property must be a decimal string such as "12.50" (digits, a dot and decimals; no sign, exponent or spaces)';
  if (amount.startsWith('-') || !/[1-9]/.test(amount)) return '$property must be greater than 0';
  if (/^0[0-9]/.test(amount)) return '$property must not have leading zeros';
  const decimals = amount.split('.')[1]?.length ?? 0;
  const allowed = typeof currency === 'string' && /^[A-Z]{3}$/.test(currency) ? minorUnits(currency) : 2;
  if (decimals > allowed) return `$property has at most ${allowed} decimals${typeof currency === 'string' ? ` in ${currency}` : ''}`;
  return undefined;
}

/**
 * Idempotency-Key (IETF draft "The Idempotency-Key HTTP Header Field", Stripe): 1–255 printable
 * ASCII characters, chosen by the client, scoped to the user.
 */
export const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,255}$/;
