import type { Profile } from '../../config.js';
import type { SandboxAccount } from '../../data/personas.js';
import type { StaticTransaction } from '../../data/transactions.js';
import type { PaymentMovement } from '../payments/payment.service.js';
import type { AccountDetails, Balance, Links, TransactionDetails } from '../wire.js';

/** Integer cents → Berlin Group amount string ("-12.30"). */
export function formatCents(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** Decimal string with at most 2 decimals → integer cents (never through a float). */
export function toCents(amount: string): number {
  const [units, decimals = ''] = amount.split('.');
  return Number(units) * 100 + Number(decimals.padEnd(2, '0').slice(0, 2));
}

export function accountDetails(account: SandboxAccount, links?: Links, balances?: readonly Balance[]): AccountDetails {
  return {
    resourceId: account.resourceId,
    iban: account.iban,
    bic: account.bic,
    currency: account.currency,
    name: account.name,
    product: account.product,
    cashAccountType: account.cashAccountType,
    status: 'enabled',
    usage: account.usage,
    ownerName: account.ownerName,
    ...(balances === undefined ? {} : { balances }),
    ...(links === undefined ? {} : { _links: links }),
  };
}

/** A sandbox payment as an account movement: a debit of the debtor account, or its return after a clearing reject. */
export function paymentMovement(movement: PaymentMovement): StaticTransaction {
  const request = movement.payment.request;
  const amount = toCents(request.instructedAmount.amount);
  const remittance = request.remittanceInformationUnstructured ?? '';
  return {
    transactionId: movement.reversal === true ? `${movement.payment.id}-R` : movement.payment.id,
    status: movement.status,
    ...(movement.bookingDate === undefined ? {} : { bookingDate: movement.bookingDate }),
    valueDate: movement.valueDate,
    amountCents: movement.reversal === true ? amount : -amount,
    counterpartyName: request.creditorName,
    counterpartyIban: request.creditorAccount.iban,
    remittance: movement.reversal === true ? `Returned by clearing: ${remittance}`.slice(0, 140) : remittance,
    // SEPA carries the end-to-end id to the statement, the return's included: how a TPP finds a
    // payment whose initiation answer it never received.
    ...(request.endToEndIdentification === undefined ? {} : { endToEndId: request.endToEndIdentification }),
  };
}

/**
 * closingBooked plus one "available" figure: ConnectPay reports `expected`, Flowe `interimAvailable`
 * (both Berlin Group balance types; different shapes keep the client honest).
 */
export function balancesOf(profile: Profile, account: SandboxAccount, movements: readonly StaticTransaction[], today: string, nowIso: string): Balance[] {
  const booked = account.closingBookedCents + movements.filter((m) => m.status === 'booked').reduce((sum, m) => sum + m.amountCents, 0);
  const pending = [...account.transactions, ...movements].filter((t) => t.status === 'pending').reduce((sum, t) => sum + t.amountCents, 0);
  const amount = (cents: number) => ({ currency: account.currency, amount: formatCents(cents) });
  return [
    { balanceAmount: amount(booked), balanceType: 'closingBooked', referenceDate: today },
    profile === 'connectpay'
      ? { balanceAmount: amount(booked + pending), balanceType: 'expected', lastChangeDateTime: nowIso }
      : { balanceAmount: amount(booked + pending), balanceType: 'interimAvailable', lastChangeDateTime: nowIso },
  ];
}

export function transactionDetails(account: SandboxAccount, t: StaticTransaction): TransactionDetails {
  const own = { name: account.ownerName, account: { iban: account.iban } };
  const other = { name: t.counterpartyName, account: { iban: t.counterpartyIban } };
  const [creditor, debtor] = t.amountCents < 0 ? [other, own] : [own, other];
  return {
    transactionId: t.transactionId,
    entryReference: t.transactionId.slice(-35),
    ...(t.endToEndId === undefined ? {} : { endToEndId: t.endToEndId }),
    ...(t.bookingDate === undefined ? {} : { bookingDate: t.bookingDate }),
    valueDate: t.valueDate,
    transactionAmount: { currency: account.currency, amount: formatCents(t.amountCents) },
    creditorName: creditor.name,
    creditorAccount: creditor.account,
    debtorName: debtor.name,
    debtorAccount: debtor.account,
    remittanceInformationUnstructured: t.remittance,
  };
}
