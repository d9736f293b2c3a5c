import type { StatementSearch } from '../ais/statements.service.js';

/** How a payment with an unknown initiation outcome was settled. */
export type ReconciliationMethod = 'bank_status' | 'statement';

/**
 * Where reconciliation stands:
 * - `searching`: not on the statement yet, and the window is still open;
 * - `found`: the bank has it (its status from the bank, or from the statement);
 * - `not_found_at_bank`: a statement read after the window closed does not show it: it does not
 *   exist at the bank (the payment becomes `failed`);
 * - `no_account_access`: the user's statement for the debtor account is not available to us (no
 *   account information consent reaches it), so it cannot be looked for;
 * - `inconclusive`: the window has long passed and no statement was read after it.
 */
export type ReconciliationOutcome = 'searching' | 'found' | 'not_found_at_bank' | 'no_account_access' | 'inconclusive';

export type StatementVerdict =
  | { kind: 'found'; status: 'ACSP' | 'ACSC' | 'RJCT' }
  | { kind: 'not_found' }
  | { kind: 'wait'; outcome: 'searching' | 'no_account_access' }
  | { kind: 'give_up'; outcome: 'no_account_access' | 'inconclusive' };

export interface ReconcilingPayment {
  createdAt: Date;
  amount: string;
  currency: string;
  /** When its outcome became unknown (later than `createdAt` for a payment abandoned mid-call). */
  reconciliationStartedAt: Date | null;
}

/**
 * What the debtor account's statement says about a payment, found by its end-to-end id. Pure.
 *
 * A debit of the payment's amount pending → `ACSP`, booked → `ACSC`; a credit of the same amount
 * with the same end-to-end id after it (a return) → `RJCT`. Nothing there is conclusive only once
 * the window after the initiation has closed and a statement was read after that: until then the
 * PSU may still approve it in the bank app. Without access to the account there is nothing to read;
 * with access but no statement read past the window for another window's length (counted from when
 * the search began, which may be after the window for a payment abandoned mid-call), it gives up.
 * Either way it says so.
 */
export function readStatement(payment: ReconcilingPayment, search: StatementSearch, now: Date, windowMs: number): StatementVerdict {
  const matching = search.entries.filter((e) => e.currency === payment.currency && sameMagnitude(e.amount, payment.amount));
  const debits = matching.filter((e) => e.amount.startsWith('-'));
  if (debits.length > 0) {
    if (matching.some((e) => !e.amount.startsWith('-'))) return { kind: 'found', status: 'RJCT' };
    return { kind: 'found', status: debits.some((e) => e.bookingStatus === 'booked') ? 'ACSC' : 'ACSP' };
  }
  const windowEnd = payment.createdAt.getTime() + windowMs;
  const searchedFrom = Math.max(windowEnd, payment.reconciliationStartedAt?.getTime() ?? 0);
  if (!search.accountKnown)
    return now.getTime() >= searchedFrom ? { kind: 'give_up', outcome: 'no_account_access' } : { kind: 'wait', outcome: 'no_account_access' };
  if (now.getTime() >= windowEnd && search.transactionsFetchedAt !== null && search.transactionsFetchedAt.getTime() >= windowEnd) return { kind: 'not_found' };
  if (now.getTime() >= searchedFrom + windowMs) return { kind: 'give_up', outcome: 'inconclusive' };
  return { kind: 'wait', outcome: 'searching' };
}

/** Whether two decimal amounts (either may be signed) have the same magnitude: "-12.50" and "12.5". Never through a float. */
export function sameMagnitude(a: string, b: string): boolean {
  return minorUnits(a) === minorUnits(b);
}

function minorUnits(amount: string): bigint {
  const [units, decimals = ''] = amount.replace(/^-/, '').split('.');
  return BigInt(units) * 1000n + BigInt(decimals.padEnd(3, '0').slice(0, 3));
}
