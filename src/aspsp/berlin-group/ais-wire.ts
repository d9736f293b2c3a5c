import { electronicFormatIBAN } from 'ibantools';
import { BankError } from '../bank-error.js';
import { isIsoDate } from './dates.js';

/**
 * Berlin Group AIS bodies → our domain types, at the edge. Everything a bank sends is bounded and
 * checked here (amounts against an anchored pattern, dates as real dates), so nothing malformed or
 * unbounded reaches the database or the frontend.
 */

export const CONSENT_STATUSES = ['received', 'rejected', 'valid', 'revokedByPsu', 'expired', 'terminatedByTpp'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];

export interface BankAccount {
  /** The bank's id of the account under this consent (may change with a new consent). */
  resourceId: string;
  iban?: string;
  bban?: string;
  maskedPan?: string;
  currency: string;
  name?: string;
  product?: string;
  cashAccountType?: string;
  ownerName?: string;
  bic?: string;
  /** Present when the list was read `withBalance=true` and the bank honoured it (Berlin Group lets it ignore the parameter). */
  balances?: BankBalance[];
}

export interface BankBalance {
  balanceType: string;
  amount: string;
  currency: string;
  referenceDate?: string;
  lastChangeDateTime?: string;
}

export interface BankTransaction {
  transactionId?: string;
  entryReference?: string;
  /** The payment's end-to-end id (Berlin Group `endToEndId`, ≤ 35): how a payment is found on a statement. */
  endToEndId?: string;
  bookingStatus: 'booked' | 'pending';
  bookingDate?: string;
  valueDate?: string;
  amount: string;
  currency: string;
  creditorName?: string;
  creditorIban?: string;
  debtorName?: string;
  debtorIban?: string;
  remittanceInformationUnstructured?: string;
}

/** Berlin Group's amount pattern is unanchored; ours is not, so nothing but the amount can follow it. */
export const AMOUNT_PATTERN = /^-?[0-9]{1,14}(\.[0-9]{1,3})?$/;
const CURRENCY_PATTERN = /^[A-Z]{3}$/;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function text(v: unknown, max: number): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.slice(0, max) : undefined;
}

function isoDate(v: unknown): string | undefined {
  return isIsoDate(v) ? v : undefined;
}

function isoDateTime(v: unknown): string | undefined {
  if (typeof v !== 'string' || v.length > 40) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

function iban(v: unknown): string | undefined {
  return typeof v === 'string' && v.length <= 64 ? (electronicFormatIBAN(v) ?? undefined) : undefined;
}

function malformed(aspspId: string, what: string): BankError {
  return new BankError(aspspId, 'unexpected', `the bank sent a malformed ${what}`);
}

function amountOf(aspspId: string, raw: unknown, what: string): { amount: string; currency: string } {
  if (
    !isObject(raw) ||
    typeof raw.amount !== 'string' ||
    !AMOUNT_PATTERN.test(raw.amount) ||
    typeof raw.currency !== 'string' ||
    !CURRENCY_PATTERN.test(raw.currency)
  ) {
    throw malformed(aspspId, what);
  }
  return { amount: raw.amount, currency: raw.currency };
}

/**
 * The bank's consent status. `partiallyAuthorised` (multi-level SCA) still waits for a PSU, so
 * it reads as `received`; anything we do not know is an error, never a guess.
 */
export function toConsentStatus(aspspId: string, raw: unknown): ConsentStatus {
  switch (raw) {
    case 'received':
    case 'partiallyAuthorised':
      return 'received';
    case 'rejected':
    case 'valid':
    case 'revokedByPsu':
    case 'expired':
    case 'terminatedByTpp':
      return raw;
    default:
      throw new BankError(aspspId, 'unexpected', 'the bank sent an unknown consent status');
  }
}

/**
 * The consent the bank created. Its id is what matters: without one the answer cannot be used at
 * all. A status we cannot read is left out (`status` undefined) rather than losing the id, so the
 * consent can still be asked for by id (the Flowe guide's answer, 200 with one `/v1/…` link, and
 * Berlin Group's 201 both carry `consentId` and `consentStatus`; nothing else is relied on).
 */
export function parseConsentCreated(aspspId: string, body: unknown): { consentId: string; status?: ConsentStatus } {
  if (!isObject(body) || typeof body.consentId !== 'string' || !/^[\w.:-]{1,128}$/.test(body.consentId)) throw malformed(aspspId, 'consent creation answer');
  let status: ConsentStatus | undefined;
  try {
    status = toConsentStatus(aspspId, body.consentStatus);
  } catch {
    status = undefined;
  }
  return { consentId: body.consentId, status };
}

export function parseConsentStatus(aspspId: string, body: unknown): ConsentStatus {
  if (!isObject(body)) throw malformed(aspspId, 'consent status');
  return toConsentStatus(aspspId, body.consentStatus);
}

export function parseAccounts(aspspId: string, body: unknown): BankAccount[] {
  if (!isObject(body) || !Array.isArray(body.accounts) || body.accounts.length > 500) throw malformed(aspspId, 'account list');
  return body.accounts.map((raw: unknown) => {
    if (!isObject(raw) || typeof raw.resourceId !== 'string' || !/^[\w.:-]{1,128}$/.test(raw.resourceId)) throw malformed(aspspId, 'account');
    if (typeof raw.currency !== 'string' || !CURRENCY_PATTERN.test(raw.currency)) throw malformed(aspspId, 'account currency');
    return {
      resourceId: raw.resourceId,
      iban: iban(raw.iban),
      bban: text(raw.bban, 64),
      maskedPan: text(raw.maskedPan, 64),
      currency: raw.currency,
      name: text(raw.name, 140),
      product: text(raw.product, 140),
      cashAccountType: text(raw.cashAccountType, 10),
      ownerName: text(raw.ownerName, 140),
      bic: text(raw.bic, 11),
      ...(raw.balances === undefined ? {} : { balances: balanceList(aspspId, raw.balances) }),
    };
  });
}

export function parseBalances(aspspId: string, body: unknown): BankBalance[] {
  if (!isObject(body)) throw malformed(aspspId, 'balance list');
  return balanceList(aspspId, body.balances);
}

function balanceList(aspspId: string, list: unknown): BankBalance[] {
  if (!Array.isArray(list) || list.length > 50) throw malformed(aspspId, 'balance list');
  return list.map((raw: unknown) => {
    if (!isObject(raw) || typeof raw.balanceType !== 'string' || !/^[A-Za-z]{1,40}$/.test(raw.balanceType)) throw malformed(aspspId, 'balance');
    return {
      balanceType: raw.balanceType,
      ...amountOf(aspspId, raw.balanceAmount, 'balance amount'),
      referenceDate: isoDate(raw.referenceDate),
      lastChangeDateTime: isoDateTime(raw.lastChangeDateTime),
    };
  });
}

export function parseTransactionsPage(aspspId: string, body: unknown): { transactions: BankTransaction[]; next?: string } {
  if (!isObject(body) || !isObject(body.transactions)) throw malformed(aspspId, 'transaction list');
  const report = body.transactions;
  const list = (key: 'booked' | 'pending'): BankTransaction[] => {
    const raw = report[key];
    if (raw === undefined) return [];
    if (!Array.isArray(raw) || raw.length > 5000) throw malformed(aspspId, `${key} transaction list`);
    return raw.map((t: unknown) => transaction(aspspId, t, key));
  };
  const links = isObject(report._links) ? report._links : {};
  const next = isObject(links.next) && typeof links.next.href === 'string' && links.next.href.length <= 4096 ? links.next.href : undefined;
  return { transactions: [...list('booked'), ...list('pending')], next };
}

function transaction(aspspId: string, raw: unknown, bookingStatus: 'booked' | 'pending'): BankTransaction {
  if (!isObject(raw)) throw malformed(aspspId, 'transaction');
  const account = (v: unknown) => (isObject(v) ? iban(v.iban) : undefined);
  return {
    transactionId: text(raw.transactionId, 140),
    entryReference: text(raw.entryReference, 35),
    endToEndId: text(raw.endToEndId, 35),
    bookingStatus,
    bookingDate: isoDate(raw.bookingDate),
    valueDate: isoDate(raw.valueDate),
    ...amountOf(aspspId, raw.transactionAmount, 'transaction amount'),
    creditorName: text(raw.creditorName, 140),
    creditorIban: account(raw.creditorAccount),
    debtorName: text(raw.debtorName, 140),
    debtorIban: account(raw.debtorAccount),
    remittanceInformationUnstructured: text(raw.remittanceInformationUnstructured, 500),
  };
}
