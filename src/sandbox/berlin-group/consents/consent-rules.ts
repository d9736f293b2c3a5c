import { addDays, isIsoDate } from '../../clock/sandbox-clock.js';
import type { Profile } from '../../config.js';
import { BgError, formatError } from '../bg-error.js';
import type { AccountAccess, AccountReference, AllAccountsValue, ConsentRequest } from '../wire.js';

/** Longest consent: Flowe refuses more ("cannot be greater than <TODAY_UTC> + 90 days"); ConnectPay caps to it. */
export const MAX_CONSENT_DAYS = 90;
/** "frequencyPerDay: cannot be greater than 4" (Flowe); also Berlin Group's default for ConnectPay. */
export const MAX_FREQUENCY_PER_DAY = 4;

const ALL_ACCOUNTS_VALUES: readonly string[] = ['allAccounts', 'allAccountsWithOwnerName'];

/**
 * Validates a consent request body. Both banks: Berlin Group types and required fields, validUntil not in
 * the past (TIMESTAMP_INVALID), 1 ≤ frequencyPerDay ≤ 4, no combined service (SESSIONS_NOT_SUPPORTED).
 * Flowe (guide 4.1, "global consent" and policies a–c): access must be availableAccounts + allPsd2 =
 * allAccounts, recurringIndicator true, validUntil ≤ today(UTC) + 90 days (PERIOD_INVALID).
 * ConnectPay (document silent → Berlin Group): dedicated, availableAccounts or allPsd2 access; a one-off
 * consent has frequencyPerDay 1; validUntil beyond 90 days (e.g. 9999-12-31) is capped, as the spec allows.
 */
export function validateConsentRequest(profile: Profile, body: unknown, today: string, ownIbans: readonly string[]): ConsentRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw formatError('The request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.recurringIndicator !== 'boolean') throw formatError('recurringIndicator (boolean) is required', 'recurringIndicator');
  if (!isIsoDate(b.validUntil)) throw formatError('validUntil (YYYY-MM-DD) is required', 'validUntil');
  if (typeof b.frequencyPerDay !== 'number' || !Number.isInteger(b.frequencyPerDay))
    throw formatError('frequencyPerDay (integer) is required', 'frequencyPerDay');
  if (typeof b.combinedServiceIndicator !== 'boolean') throw formatError('combinedServiceIndicator (boolean) is required', 'combinedServiceIndicator');
  if (b.combinedServiceIndicator)
    throw new BgError(400, 'SESSIONS_NOT_SUPPORTED', 'combinedServiceIndicator must be false: sessions are not supported', 'combinedServiceIndicator');
  const access = validateAccess(profile, b.access, ownIbans);

  const frequency = b.frequencyPerDay;
  if (frequency < 1) throw formatError('frequencyPerDay must be at least 1', 'frequencyPerDay');
  if (frequency > MAX_FREQUENCY_PER_DAY) throw formatError(`frequencyPerDay cannot be greater than ${MAX_FREQUENCY_PER_DAY}`, 'frequencyPerDay');

  const maxDate = addDays(today, MAX_CONSENT_DAYS);
  let validUntil = b.validUntil;
  if (validUntil < today) throw new BgError(400, 'TIMESTAMP_INVALID', `validUntil must not be in the past (today is ${today} UTC)`, 'validUntil');
  if (validUntil > maxDate) {
    if (profile === 'flowe')
      throw new BgError(400, 'PERIOD_INVALID', `validUntil cannot be greater than today (UTC) + ${MAX_CONSENT_DAYS} days (${maxDate})`, 'validUntil');
    validUntil = maxDate;
  }

  if (profile === 'flowe' && !b.recurringIndicator) {
    throw formatError('recurringIndicator must be true (for a one-shot consent use frequencyPerDay 1 and validUntil today)', 'recurringIndicator');
  }
  if (profile === 'connectpay' && !b.recurringIndicator && frequency !== 1) {
    throw formatError('a one-off consent (recurringIndicator false) has frequencyPerDay 1', 'frequencyPerDay');
  }
  return { access, recurringIndicator: b.recurringIndicator, validUntil, frequencyPerDay: frequency, combinedServiceIndicator: false };
}

function validateAccess(profile: Profile, raw: unknown, ownIbans: readonly string[]): AccountAccess {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw formatError('access (object) is required', 'access');
  const a = raw as Record<string, unknown>;
  const known = [
    'accounts',
    'balances',
    'transactions',
    'availableAccounts',
    'availableAccountsWithBalance',
    'allPsd2',
    'additionalInformation',
    'restrictedTo',
  ];
  const unknown = Object.keys(a).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw formatError(`access contains unknown fields: ${unknown.join(', ')}`, 'access');
  for (const key of ['availableAccounts', 'availableAccountsWithBalance', 'allPsd2'] as const) {
    if (a[key] !== undefined && !ALL_ACCOUNTS_VALUES.includes(a[key] as string))
      throw formatError(`access.${key} must be allAccounts or allAccountsWithOwnerName`, `access.${key}`);
  }

  if (profile === 'flowe') {
    // "Flowe adopts the Global Consent approach ... The PSU can accept all or nothing."
    const global = a.availableAccounts === 'allAccounts' && a.allPsd2 === 'allAccounts' && Object.keys(a).length === 2;
    if (!global)
      throw formatError('Flowe supports only the global consent: access must be {"availableAccounts":"allAccounts","allPsd2":"allAccounts"}', 'access');
    return { availableAccounts: 'allAccounts', allPsd2: 'allAccounts' };
  }

  if (a.additionalInformation !== undefined || a.restrictedTo !== undefined)
    throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', 'access.additionalInformation and access.restrictedTo are not supported', 'access');
  const lists = (['accounts', 'balances', 'transactions'] as const).filter((k) => a[k] !== undefined);
  const bulk = (['availableAccounts', 'availableAccountsWithBalance', 'allPsd2'] as const).filter((k) => a[k] !== undefined);
  if (lists.length === 0 && bulk.length === 0) throw formatError('access must name accounts, availableAccounts or allPsd2', 'access');
  if (lists.length > 0 && bulk.length > 0) throw formatError('access cannot mix account lists with availableAccounts/allPsd2', 'access');
  // Several bulk values (Flowe's sample sends availableAccounts and allPsd2 together): the widest wins.
  if (a.allPsd2 !== undefined) return { allPsd2: a.allPsd2 as AllAccountsValue };
  if (a.availableAccountsWithBalance !== undefined) return { availableAccountsWithBalance: a.availableAccountsWithBalance as AllAccountsValue };
  if (a.availableAccounts !== undefined) return { availableAccounts: a.availableAccounts as AllAccountsValue };

  const out: Record<string, AccountReference[]> = {};
  for (const key of lists) {
    const refs = a[key];
    if (!Array.isArray(refs)) throw formatError(`access.${key} must be an array of account references`, `access.${key}`);
    out[key] = refs.map((ref: unknown, i) => {
      const iban = (ref as { iban?: unknown } | null)?.iban;
      if (typeof iban !== 'string') throw formatError('only IBAN account references are supported', `access.${key}[${i}].iban`);
      if (!ownIbans.includes(iban)) throw new BgError(400, 'RESOURCE_UNKNOWN', `account ${iban} is not an account of this PSU`, `access.${key}[${i}].iban`);
      return { iban };
    });
  }
  return out;
}
