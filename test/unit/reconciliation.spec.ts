import { readStatement, sameMagnitude } from '../../src/modules/pis/reconciliation.js';

const DAY = 86_400_000;
const created = new Date('2026-03-02T10:00:00Z');
const payment = { createdAt: created, amount: '12.5', currency: 'EUR', reconciliationStartedAt: created };
const at = (days: number) => new Date(created.getTime() + days * DAY);
type Entry = { bookingStatus: 'booked' | 'pending'; amount: string; currency: string; date: string | null };
const entry = (bookingStatus: Entry['bookingStatus'], amount: string, currency = 'EUR'): Entry => ({ bookingStatus, amount, currency, date: '2026-03-02' });
const statement = (entries: Entry[], fetchedDays: number | null = 0.1, accountKnown = true) => ({
  accountKnown,
  transactionsFetchedAt: fetchedDays === null ? null : at(fetchedDays),
  entries,
});

describe('reading a statement for a payment with an unknown outcome', () => {
  it('takes a pending debit of the amount for ACSP, a booked one for ACSC, and a return after it for RJCT', () => {
    expect(readStatement(payment, statement([entry('pending', '-12.50')]), at(0.2), 3 * DAY)).toEqual({ kind: 'found', status: 'ACSP' });
    expect(readStatement(payment, statement([entry('booked', '-12.50')]), at(0.2), 3 * DAY)).toEqual({ kind: 'found', status: 'ACSC' });
    expect(readStatement(payment, statement([entry('booked', '-12.50'), entry('booked', '12.50')]), at(2), 3 * DAY)).toEqual({ kind: 'found', status: 'RJCT' });
  });

  it('ignores movements with the end-to-end id but another amount or currency', () => {
    expect(readStatement(payment, statement([entry('booked', '-12.51'), entry('booked', '-12.50', 'USD')]), at(0.2), 3 * DAY)).toEqual({
      kind: 'wait',
      outcome: 'searching',
    });
  });

  it('concludes "not at the bank" only after the window, from a statement read after it', () => {
    expect(readStatement(payment, statement([], 1), at(2.9), 3 * DAY)).toEqual({ kind: 'wait', outcome: 'searching' });
    expect(readStatement(payment, statement([], 2.9), at(3.1), 3 * DAY)).toEqual({ kind: 'wait', outcome: 'searching' });
    expect(readStatement(payment, statement([], 3), at(3.1), 3 * DAY)).toEqual({ kind: 'not_found' });
    expect(readStatement(payment, statement([], null), at(3.1), 3 * DAY)).toEqual({ kind: 'wait', outcome: 'searching' });
  });

  it('says when there is no statement to read, and gives up once nothing more can be learnt', () => {
    expect(readStatement(payment, statement([], null, false), at(1), 3 * DAY)).toEqual({ kind: 'wait', outcome: 'no_account_access' });
    expect(readStatement(payment, statement([], null, false), at(3), 3 * DAY)).toEqual({ kind: 'give_up', outcome: 'no_account_access' });
    expect(readStatement(payment, statement([], 2), at(6), 3 * DAY)).toEqual({ kind: 'give_up', outcome: 'inconclusive' });
  });

  it('counts the time to give up from when the search began, for a payment abandoned mid-call and found unknown late', () => {
    const late = { ...payment, reconciliationStartedAt: at(5) };
    expect(readStatement(late, statement([], 2), at(6), 3 * DAY)).toEqual({ kind: 'wait', outcome: 'searching' });
    expect(readStatement(late, statement([], 2), at(8), 3 * DAY)).toEqual({ kind: 'give_up', outcome: 'inconclusive' });
    expect(readStatement(late, statement([], 5.5), at(6), 3 * DAY)).toEqual({ kind: 'not_found' });
  });

  it('compares amounts as decimals, never as floats', () => {
    expect(sameMagnitude('-12.50', '12.5')).toBe(true);
    expect(sameMagnitude('0.10', '0.1')).toBe(true);
    expect(sameMagnitude('100', '100.000')).toBe(true);
    expect(sameMagnitude('12.5', '12.05')).toBe(false);
    expect(sameMagnitude('99999999999999.99', '99999999999999.98')).toBe(false);
  });
});
