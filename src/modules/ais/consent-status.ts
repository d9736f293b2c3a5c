import type { ConsentStatus } from '../../aspsp/berlin-group/ais.js';

/**
 * The bank's consent statuses plus three of our own:
 * - `pending`: the request is stored and the bank is being asked (the row is committed before the
 *   bank call, as a payment is, so a timeout or a crash can never lose it);
 * - `unknown`: the bank did not answer usably (timeout, 500, 502, 504, a reset, an unreadable
 *   answer, a crash mid-call). With the bank's consentId the scheduler asks the bank for its status;
 *   without one nothing can be asked, and the consent stays `unknown` for the user to see (and end);
 * - `invalid`: the bank refused the consent (CONSENT_INVALID, CONSENT_UNKNOWN) without a status of
 *   its own.
 */
export type LocalConsentStatus = 'pending' | 'unknown' | ConsentStatus | 'invalid';

export const LOCAL_CONSENT_STATUSES: readonly LocalConsentStatus[] = [
  'pending',
  'unknown',
  'received',
  'valid',
  'rejected',
  'revokedByPsu',
  'expired',
  'terminatedByTpp',
  'invalid',
];

/** No status follows these: the consent is over. */
export function isEnded(status: LocalConsentStatus): boolean {
  switch (status) {
    case 'pending':
    case 'unknown':
    case 'received':
    case 'valid':
      return false;
    case 'rejected':
    case 'revokedByPsu':
    case 'expired':
    case 'terminatedByTpp':
    case 'invalid':
      return true;
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

/**
 * The frontend's cue to ask the user for a new consent: the bank or the PSU ended it. Not after
 * `terminatedByTpp`, which the user asked for themselves, and not while the outcome is `unknown`
 * (the bank may still report the consent, and a second request could duplicate it).
 */
export function reconsentRequired(status: LocalConsentStatus): boolean {
  return isEnded(status) && status !== 'terminatedByTpp';
}

/** Moves the bank (or our journal) may make: a live consent moves on; an ended one never comes back; nothing returns to `pending`. */
export function canMove(from: LocalConsentStatus, to: LocalConsentStatus): boolean {
  if (from === to || isEnded(from) || to === 'pending') return false;
  if (to === 'unknown') return from === 'pending';
  return !(from === 'valid' && (to === 'received' || to === 'rejected'));
}
