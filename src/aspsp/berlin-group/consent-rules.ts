import type { FieldError } from '../../common/errors/app-error.js';
import type { ConsentTerms } from './ais.js';
import { addDays } from './dates.js';

export interface ConsentLimits {
  maxFrequencyPerDay: number;
  /** Longest validity the bank accepts, in days after today (UTC). */
  maxValidDays: number;
  /**
   * Whose rule each limit is, quoted in its error so the user can tell (`Flowe rule`, `Berlin Group
   * rule`): only what a document says is called its rule.
   */
  source: { frequency: string; validity: string };
}

/** Berlin Group defaults: a recurring consent for the longest allowed period and the highest frequency. */
export function defaultConsentTerms(requested: Partial<ConsentTerms>, today: string, limits: ConsentLimits): ConsentTerms {
  const recurringIndicator = requested.recurringIndicator ?? true;
  return {
    recurringIndicator,
    // A one-off consent is used once (Berlin Group: frequencyPerDay 1).
    frequencyPerDay: requested.frequencyPerDay ?? (recurringIndicator ? limits.maxFrequencyPerDay : 1),
    validUntil: requested.validUntil ?? (recurringIndicator ? addDays(today, limits.maxValidDays) : today),
  };
}

/**
 * The rules every NextGenPSD2 bank shares, with the bank's own limits: validUntil not in the past
 * and not beyond the bank's maximum, 1 ≤ frequencyPerDay ≤ the bank's maximum, and a one-off
 * consent (recurringIndicator false) used once a day. Each error names the field and the rule.
 */
export function consentRuleErrors(terms: ConsentTerms, today: string, limits: ConsentLimits): FieldError[] {
  const errors: FieldError[] = [];
  const maxDate = addDays(today, limits.maxValidDays);
  if (terms.validUntil < today) errors.push({ field: 'validUntil', message: `must not be in the past (today is ${today} UTC)` });
  else if (terms.validUntil > maxDate) {
    errors.push({ field: 'validUntil', message: `${limits.source.validity}: cannot be later than today (UTC) + ${limits.maxValidDays} days (${maxDate})` });
  }
  if (terms.frequencyPerDay < 1) errors.push({ field: 'frequencyPerDay', message: 'must be at least 1' });
  else if (terms.frequencyPerDay > limits.maxFrequencyPerDay) {
    errors.push({ field: 'frequencyPerDay', message: `${limits.source.frequency}: cannot be greater than ${limits.maxFrequencyPerDay}` });
  }
  if (!terms.recurringIndicator && terms.frequencyPerDay !== 1) {
    errors.push({ field: 'frequencyPerDay', message: 'Berlin Group rule: a one-off consent (recurringIndicator false) has frequencyPerDay 1' });
  }
  return errors;
}
