import type { PaymentStatus } from './payment.entity.js';

/**
 * Where a payment is in its life, as far as the BFF acts on it:
 * - `initiating`: our row exists, the bank call is in flight (`pending`);
 * - `unknown`: the initiation's outcome is unknown (reconciliation finds it out);
 * - `open`: the bank has it and waits (for the PSU, a check, a further authorisation);
 * - `accepted`: the bank accepted it for execution (ACSP and kin): settlement follows, at a cut-off;
 * - `settled`: ACSC or ACCC. Not the end: clearing can still reject it (a pac.002 after ACSC, Flowe
 *   guide 4.2), so it is watched until the settlement window closes;
 * - `ended`: RJCT or CANC, which no bank takes back; and `failed`, our own: it never reached a bank.
 */
export type PaymentPhase = 'initiating' | 'unknown' | 'open' | 'accepted' | 'settled' | 'ended';

export function paymentPhase(status: PaymentStatus): PaymentPhase {
  switch (status) {
    case 'pending':
      return 'initiating';
    case 'unknown':
      return 'unknown';
    case 'RCVD':
    case 'PDNG':
    case 'ACTC':
    case 'ACFC':
    case 'PATC':
    case 'PART':
      return 'open';
    case 'ACCP':
    case 'ACSP':
    case 'ACWC':
    case 'ACWP':
      return 'accepted';
    case 'ACSC':
    case 'ACCC':
      return 'settled';
    case 'RJCT':
    case 'CANC':
    case 'failed':
      return 'ended';
    default: {
      const unreachable: never = status;
      return unreachable;
    }
  }
}

/** The bank has accepted the payment: the settlement window runs from the first time we see this. */
export function isAccepted(status: PaymentStatus): boolean {
  const phase = paymentPhase(status);
  return phase === 'accepted' || phase === 'settled';
}

/** Nothing will change any more: no poll, no bank call. */
export function hasEnded(status: PaymentStatus): boolean {
  return paymentPhase(status) === 'ended';
}

/** The PSU can no longer take it back: settled, ended, or never confirmed by the bank. */
export function isBeyondCancellation(status: PaymentStatus): boolean {
  const phase = paymentPhase(status);
  return phase === 'settled' || phase === 'ended' || phase === 'unknown';
}

/** Why the BFF stopped asking the bank about a payment (`statusTracking.endReason`). */
export type TrackingEndReason = 'final_status' | 'settlement_window_closed' | 'not_reconcilable';
