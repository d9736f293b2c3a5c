import { addDays } from '../clock/sandbox-clock.js';
import type { Prng } from './prng.js';

/** A generated account movement; `amountCents` is negative for debits. Money is integer cents, never a float. */
export interface StaticTransaction {
  readonly transactionId: string;
  readonly status: 'booked' | 'pending';
  /** Absent for pending transactions. */
  readonly bookingDate?: string;
  readonly valueDate: string;
  readonly amountCents: number;
  readonly counterpartyName: string;
  readonly counterpartyIban: string;
  readonly remittance: string;
  /** Sandbox payments: the end-to-end id the TPP sent, shown on the statement. */
  readonly endToEndId?: string;
}

export interface Counterparty {
  readonly name: string;
  readonly iban: string;
}

export interface TransactionPlan {
  readonly idPrefix: string;
  /** The sandbox clock's date when the data was generated. */
  readonly today: string;
  readonly booked: number;
  readonly pending: number;
  /** Monthly income (salary or client invoices). */
  readonly income: { readonly from: Counterparty; readonly cents: number; readonly text: string };
  /** Monthly fixed cost (rent, office). */
  readonly fixedCost: { readonly to: Counterparty; readonly cents: number; readonly text: string };
  readonly merchants: readonly Counterparty[];
}

const SPENDING = ['Card payment', 'Groceries', 'Online order', 'Subscription', 'Utilities', 'Transport', 'Restaurant'];

/**
 * A year of plausible movements, newest first: monthly income and fixed cost, card spending in between,
 * and a few pending card authorisations (no booking date) from the last two days.
 */
export function generateTransactions(plan: TransactionPlan, prng: Prng): StaticTransaction[] {
  const months = 12;
  const random = Math.max(0, plan.booked - 2 * months);
  const booked: Omit<StaticTransaction, 'transactionId'>[] = [];
  for (let m = 0; m < months; m++) {
    const day = 1 + m * 30 + prng.int(0, 3);
    booked.push(bookedEntry(plan.today, day, plan.income.cents, plan.income.from, `${plan.income.text} ${monthLabel(plan.today, day)}`));
    booked.push(bookedEntry(plan.today, day + 2, -plan.fixedCost.cents, plan.fixedCost.to, `${plan.fixedCost.text} ${monthLabel(plan.today, day + 2)}`));
  }
  for (let i = 0; i < random; i++) {
    const merchant = prng.pick(plan.merchants);
    const cents = -prng.int(150, 12_000);
    const day = prng.int(1, 365);
    booked.push(bookedEntry(plan.today, day, cents, merchant, `${prng.pick(SPENDING)} ${merchant.name}`));
  }
  // Chronological order gives stable ids; the list is served newest first.
  booked.sort((a, b) => (a.bookingDate! < b.bookingDate! ? -1 : a.bookingDate! > b.bookingDate! ? 1 : 0));
  const withIds: StaticTransaction[] = booked.map((t, i) => ({ ...t, transactionId: `${plan.idPrefix}-B${String(i + 1).padStart(4, '0')}` }));
  for (let i = 0; i < plan.pending; i++) {
    const merchant = prng.pick(plan.merchants);
    withIds.push({
      transactionId: `${plan.idPrefix}-P${String(i + 1).padStart(4, '0')}`,
      status: 'pending',
      valueDate: addDays(plan.today, -prng.int(0, 1)),
      amountCents: -prng.int(300, 9_000),
      counterpartyName: merchant.name,
      counterpartyIban: merchant.iban,
      remittance: `Card authorisation ${merchant.name}`,
    });
  }
  return withIds.reverse();
}

function bookedEntry(
  today: string,
  daysAgo: number,
  amountCents: number,
  counterparty: Counterparty,
  remittance: string,
): Omit<StaticTransaction, 'transactionId'> {
  const bookingDate = addDays(today, -daysAgo);
  return {
    status: 'booked',
    bookingDate,
    valueDate: bookingDate,
    amountCents,
    counterpartyName: counterparty.name,
    counterpartyIban: counterparty.iban,
    remittance: remittance.slice(0, 140),
  };
}

function monthLabel(today: string, daysAgo: number): string {
  return addDays(today, -daysAgo).slice(0, 7);
}
