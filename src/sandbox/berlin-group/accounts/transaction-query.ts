import { addDays, isIsoDate } from '../../clock/sandbox-clock.js';
import { BgError, formatError } from '../bg-error.js';

export type BookingStatus = 'booked' | 'pending' | 'both';

export interface TransactionQuery {
  readonly bookingStatus: BookingStatus;
  readonly dateFrom: string;
  readonly dateTo: string;
}

/** Days read when dateFrom is absent (Berlin Group makes it conditional; the banks' documents are silent). */
export const DEFAULT_HISTORY_DAYS = 90;

/** `?dateFrom&dateTo&bookingStatus` of GET /accounts/{id}/transactions. */
export function parseTransactionQuery(query: Record<string, unknown>, today: string): TransactionQuery {
  for (const unsupported of ['deltaList', 'entryReferenceFrom']) {
    if (query[unsupported] !== undefined) throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', `${unsupported} is not supported`, unsupported);
  }
  const bookingStatus = query.bookingStatus;
  if (bookingStatus === undefined) throw formatError('bookingStatus (booked, pending or both) is required', 'bookingStatus');
  if (bookingStatus === 'information' || bookingStatus === 'all')
    throw new BgError(400, 'PARAMETER_NOT_SUPPORTED', `bookingStatus ${bookingStatus} is not supported`, 'bookingStatus');
  if (bookingStatus !== 'booked' && bookingStatus !== 'pending' && bookingStatus !== 'both')
    throw formatError('bookingStatus must be booked, pending or both', 'bookingStatus');
  const dateTo = query.dateTo === undefined ? today : query.dateTo;
  if (!isIsoDate(dateTo)) throw formatError('dateTo must be YYYY-MM-DD', 'dateTo');
  const dateFrom = query.dateFrom === undefined ? addDays(dateTo, -DEFAULT_HISTORY_DAYS) : query.dateFrom;
  if (!isIsoDate(dateFrom)) throw formatError('dateFrom must be YYYY-MM-DD', 'dateFrom');
  if (dateFrom > dateTo) throw new BgError(400, 'PERIOD_INVALID', 'dateFrom is after dateTo', 'dateFrom');
  return { bookingStatus, dateFrom, dateTo };
}

export function parsePageIndex(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'string' || !/^\d{1,6}$/.test(value)) throw formatError('pageIndex must be a non-negative integer', 'pageIndex');
  return Number(value);
}
