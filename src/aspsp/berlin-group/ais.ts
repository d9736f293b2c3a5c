import { BankError } from '../bank-error.js';
import type { BerlinGroupClient } from './berlin-group.client.js';
import {
  parseAccounts,
  parseBalances,
  parseConsentCreated,
  parseConsentStatus,
  parseTransactionsPage,
  type BankAccount,
  type BankBalance,
  type BankTransaction,
  type ConsentStatus,
} from './ais-wire.js';

export type { BankAccount, BankBalance, BankTransaction, ConsentStatus } from './ais-wire.js';
export { CONSENT_STATUSES } from './ais-wire.js';

/** What we ask a bank for: the terms the PSU approves in their bank app. */
export interface ConsentTerms {
  /** YYYY-MM-DD, the last day the consent may be used. */
  validUntil: string;
  /** Unattended uses allowed per 24 h; how the bank counts a use is its `aisBudgetCounting` (docs/banks.md). */
  frequencyPerDay: number;
  recurringIndicator: boolean;
}

/** The Berlin Group `POST /consents` body (schema `consents`). */
export interface ConsentRequestBody {
  access: Record<string, unknown>;
  recurringIndicator: boolean;
  validUntil: string;
  frequencyPerDay: number;
  combinedServiceIndicator: boolean;
}

export interface TransactionRange {
  dateFrom: string;
  dateTo: string;
  bookingStatus: 'booked' | 'pending' | 'both';
}

/**
 * Who reads: `psuIpAddress` present = an attended read (the PSU is in front of the app: it does not
 * spend the consent's `frequencyPerDay`); absent = unattended. Unattended reads are never retried
 * automatically: a bank may count a request that then failed, and a retry would spend a second
 * unit of a budget we promised not to overspend.
 */
export interface ReadContext {
  accessToken: string;
  consentId: string;
  psuIpAddress?: string;
  /**
   * Awaited before every request that carries the Consent-ID (each page too, and again when a call is
   * repeated after a token refresh), so an unattended read can be charged against the consent's
   * budget before it leaves; throwing stops the read before the request is sent.
   */
  beforeRequest?: (use: ConsentUse) => Promise<void>;
}

/** One request carrying the Consent-ID: which resource it reads, and which page of that read (1 = the read itself). */
export interface ConsentUse {
  /** `/accounts`, `/accounts/{resourceId}/balances` or `/accounts/{resourceId}/transactions`. */
  resource: string;
  page: number;
}

/** A bank that pages forever (or links back to itself) must not keep us reading forever. */
const MAX_TRANSACTION_PAGES = 200;

/**
 * Berlin Group NextGenPSD2 v1.3 AIS, as every bank of this family speaks it: consent creation,
 * status and deletion, accounts, balances and transactions (following `_links.next` to the end).
 * Bank differences (consent rules, body shape) live in the adapters; this is the shared wire.
 */
export class BerlinGroupAis {
  constructor(
    private readonly api: BerlinGroupClient,
    private readonly aspspId: string,
  ) {}

  /** Creates a consent; `psuIpAddress` is the PSU's IP (Berlin Group: mandatory on consent creation for some banks). */
  async createConsent(accessToken: string, body: ConsentRequestBody, psuIpAddress?: string): Promise<{ consentId: string; status?: ConsentStatus }> {
    const res = await this.api.call({ method: 'POST', operation: 'consent', service: 'ais', path: '/consents', accessToken, psuIpAddress, json: body });
    return parseConsentCreated(this.aspspId, res.body);
  }

  /**
   * One status request. Not retried here: the bank allows one status request per consent per
   * second, and the scheduler (or the user) asks again later anyway.
   */
  async consentStatus(accessToken: string, consentId: string): Promise<ConsentStatus> {
    const path = `/consents/${encodeURIComponent(consentId)}/status`;
    const res = await this.api.call({ method: 'GET', operation: 'consent-status', service: 'ais', path, accessToken, retry: false });
    return parseConsentStatus(this.aspspId, res.body);
  }

  async deleteConsent(accessToken: string, consentId: string): Promise<void> {
    await this.api.call({
      method: 'DELETE',
      operation: 'consent-delete',
      service: 'ais',
      path: `/consents/${encodeURIComponent(consentId)}`,
      accessToken,
      retry: true,
    });
  }

  /** The accounts; `withBalance` asks for their balances in the same call (a bank may ignore it: check each account's `balances`). */
  async accounts(ctx: ReadContext, options: { withBalance?: boolean } = {}): Promise<BankAccount[]> {
    await ctx.beforeRequest?.({ resource: '/accounts', page: 1 });
    const res = await this.api.call({
      method: 'GET',
      operation: 'accounts',
      service: 'ais',
      path: options.withBalance ? '/accounts?withBalance=true' : '/accounts',
      ...this.headers(ctx),
    });
    return parseAccounts(this.aspspId, res.body);
  }

  async balances(ctx: ReadContext, resourceId: string): Promise<BankBalance[]> {
    const path = `/accounts/${encodeURIComponent(resourceId)}/balances`;
    await ctx.beforeRequest?.({ resource: path, page: 1 });
    const res = await this.api.call({ method: 'GET', operation: 'balances', service: 'ais', path, ...this.headers(ctx) });
    return parseBalances(this.aspspId, res.body);
  }

  /**
   * Every transaction in the range: the first page, then each `_links.next` until there is none.
   * Every page carries the same attended/unattended headers; whether a page is a new use of the
   * consent depends on the bank (`ConsentUse.page` tells the budget which page it is).
   */
  async transactions(ctx: ReadContext, resourceId: string, range: TransactionRange): Promise<BankTransaction[]> {
    const query = new URLSearchParams({ bookingStatus: range.bookingStatus, dateFrom: range.dateFrom, dateTo: range.dateTo });
    const resource = `/accounts/${encodeURIComponent(resourceId)}/transactions`;
    let path: string | undefined = `${resource}?${query.toString()}`;
    const seen = new Set<string>();
    const all: BankTransaction[] = [];
    while (path !== undefined) {
      const url = this.api.resolve('ais', path);
      if (seen.has(url)) throw new BankError(this.aspspId, 'unexpected', 'the bank linked a transactions page to itself');
      if (seen.size >= MAX_TRANSACTION_PAGES)
        throw new BankError(this.aspspId, 'unexpected', `the bank sent more than ${MAX_TRANSACTION_PAGES} transaction pages`);
      seen.add(url);
      await ctx.beforeRequest?.({ resource, page: seen.size });
      const res = await this.api.call({ method: 'GET', operation: 'transactions', service: 'ais', path, ...this.headers(ctx) });
      const page = parseTransactionsPage(this.aspspId, res.body);
      all.push(...page.transactions);
      path = page.next;
    }
    return all;
  }

  private headers(ctx: ReadContext): { accessToken: string; consentId: string; psuIpAddress?: string; retry: boolean } {
    return { accessToken: ctx.accessToken, consentId: ctx.consentId, psuIpAddress: ctx.psuIpAddress, retry: ctx.psuIpAddress !== undefined };
  }
}
