// @ts-check
/* Amounts, dates and times as a person reads them. The page's words are English, so are its dates. */

/** @import { Amount } from './api-types' */

const LOCALE = 'en-GB';
const dateFormat = new Intl.DateTimeFormat(LOCALE, { day: 'numeric', month: 'short', year: 'numeric' });
const timeFormat = new Intl.DateTimeFormat(LOCALE, { hour: '2-digit', minute: '2-digit' });
const dayTimeFormat = new Intl.DateTimeFormat(LOCALE, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });

/**
 * `12.50 EUR`: the API's decimal string as it is (never through a float).
 * @param {Amount} amount
 */
export function money(amount) {
  return `${amount.amount} ${amount.currency}`;
}

/** @param {Amount} amount */
export function isDebit(amount) {
  return amount.amount.startsWith('-');
}

/**
 * `12 Mar 2026` from an ISO date or date-time.
 * @param {string} iso
 */
export function day(iso) {
  // A bare date is a calendar day, not midnight UTC: read it as local noon so no time zone moves it.
  const date = /^\d{4}-\d{2}-\d{2}$/.test(iso) ? new Date(`${iso}T12:00:00`) : new Date(iso);
  return dateFormat.format(date);
}

/**
 * `10:42` today, `12 Mar, 10:42` on another day: when data was read.
 * @param {string} iso
 * @param {Date} [now]
 */
export function moment(iso, now = new Date()) {
  const date = new Date(iso);
  return date.toDateString() === now.toDateString() ? timeFormat.format(date) : dayTimeFormat.format(date);
}
