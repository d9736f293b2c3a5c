import { AppError } from '../../common/errors/app-error.js';
import type { AisConsent } from './consent.entity.js';
import { reconsentRequired } from './consent-status.js';

/**
 * 409 naming the consent's status (`consentStatus`): `reconsent_required` when the bank or the PSU
 * ended it, `consent_not_valid` while it awaits approval or after the user ended it themselves.
 */
export function consentNotUsable(consent: AisConsent, extra: Record<string, unknown> = {}): AppError {
  const required = reconsentRequired(consent.status);
  // `consentStatus`, not `status`: problem+json's `status` is the HTTP status.
  return new AppError(
    required ? 'reconsent_required' : 'consent_not_valid',
    `The consent is ${consent.status}${required ? ': the user must consent again' : ''}`,
    {
      consentStatus: consent.status,
      reconsentRequired: required,
      aspspId: consent.aspspId,
      ...Object.fromEntries(Object.entries(extra).filter(([, v]) => v !== undefined)),
    },
  );
}
