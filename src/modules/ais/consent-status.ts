import type { ConsentStatus } from '../../aspsp/berlin-group/ais.js';

/**
 * The bank's consent statuses plus `invalid`: the bank refused the consent (CONSENT_INVALID,
 * CONSENT_UNKNOWN) without telling us a status of its own.
 */
export type LocalConsentStatus = ConsentStatus | 'invalid';

export const LOCAL_CONSENT_STATUSES: readonly LocalConsentStatus[] = ['received', 'valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp', 'invalid'];

/** No status follows these: the consent is over. */
export function isEnded(status: LocalConsentStatus): boolean {
  switch (status) {
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
 * `terminatedByTpp`, which the user asked for themselves.
 */
export function reconsentRequired(status: LocalConsentStatus): boolean {
  return isEnded(status) && status !== 'terminatedByTpp';
}

/** Moves the bank may report: a live consent moves on; an ended one never comes back. */
export function canMove(from: LocalConsentStatus, to: LocalConsentStatus): boolean {
  if (from === to || isEnded(from)) return false;
  return !(from === 'valid' && (to === 'received' || to === 'rejected'));
}
