import { Injectable } from '@nestjs/common';
import { BankError } from '../../aspsp/bank-error.js';
import type { TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { addDays, utcDate } from '../../aspsp/berlin-group/dates.js';
import { SingleFlight } from '../../common/concurrency/single-flight.js';
import { AppError } from '../../common/errors/app-error.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import {
  toAccountView,
  toBalanceView,
  toTransactionView,
  type AccountsView,
  type BalancesView,
  type DataWarning,
  type TransactionsView,
} from './account.view.js';
import type { BudgetView } from './budget.view.js';
import { AisReader } from './ais-reader.js';
import { AccountStore, type LinkedAccount, type StoredAccountsRead } from './account.store.js';
import { ConsentBudgets, type RefreshInfo } from './consent-budgets.service.js';
import { consentNotUsable } from './consent-errors.js';
import type { AisConsent } from './consent.entity.js';
import { isDueToExpire } from './consent.store.js';
import { ConsentsService } from './consents.service.js';

/** Days of history shown when the frontend gives no dateFrom (our choice: neither bank document names a default). */
const DEFAULT_HISTORY_DAYS = 90;
const DEFAULT_PAGE = 500;

export interface ReadRequest {
  /** Read the bank now instead of serving the stored copy. */
  refresh: boolean;
  /** The PSU's IP: every read from the frontend is attended (never a read without it, which would spend the budget). */
  psuIpAddress: string;
}

export interface TransactionsRequest extends ReadRequest {
  dateFrom?: string;
  dateTo?: string;
  bookingStatus?: TransactionRange['bookingStatus'];
  limit?: number;
  offset?: number;
}

type Source = 'bank' | 'storage';

type Envelope = { fetchedAt: string; source: Source; warning?: DataWarning; nextRefreshAt?: string; budget: BudgetView };

/**
 * Accounts, balances and transactions for the frontend. Served from storage by default (no bank
 * call, no budget spent); read from the bank when the user asks (`refresh`) or when nothing is
 * stored yet. Both are attended reads: the user is in front of the app and their IP goes to the
 * bank. When the bank's unattended budget is spent, stored answers carry a `warning`.
 */
@Injectable()
export class AccountDataService {
  private readonly flights = new SingleFlight();
  private readonly views = new SingleFlight();

  constructor(
    private readonly consentsService: ConsentsService,
    private readonly reader: AisReader,
    private readonly store: AccountStore,
    private readonly budgets: ConsentBudgets,
    private readonly metrics: BankMetrics,
  ) {}

  /*
   * Identical requests of one user in flight at once (a burst of the same `?refresh=true`) are
   * answered together: one read of the bank and of the store, one view for all. Different users
   * never share: the key starts with the user.
   */

  listAccounts(userId: string, consentId: string, req: ReadRequest): Promise<AccountsView> {
    return this.views.run(
      viewKey(userId, 'accounts', consentId, req.refresh),
      () => this.readAccounts(userId, consentId, req),
      () => this.metrics.requestCoalesced('accounts'),
    );
  }

  balances(userId: string, consentId: string, accountId: string, req: ReadRequest): Promise<BalancesView> {
    return this.views.run(
      viewKey(userId, 'balances', consentId, accountId, req.refresh),
      () => this.readBalances(userId, consentId, accountId, req),
      () => this.metrics.requestCoalesced('balances'),
    );
  }

  transactions(userId: string, consentId: string, accountId: string, req: TransactionsRequest): Promise<TransactionsView> {
    const { psuIpAddress: _ip, ...query } = req;
    return this.views.run(
      viewKey(userId, 'transactions', consentId, accountId, JSON.stringify(query)),
      () => this.readTransactions(userId, consentId, accountId, req),
      () => this.metrics.requestCoalesced('transactions'),
    );
  }

  private async readAccounts(userId: string, consentId: string, req: ReadRequest): Promise<AccountsView> {
    if (!req.refresh) {
      const stored = await this.storedAccounts(userId, consentId);
      if (stored) return stored;
    }
    // One statement: the consent (the user's), its connection for the bank call, and what is stored.
    const before = await this.store.storedAccounts(userId, consentId, { withConnection: true });
    if (!before) throw AppError.notFound('Consent');
    const consent = await this.consentsService.requireUsable(before.consent);
    const outcome = await this.attended(
      req.refresh || consent.accountsFetchedAt === null,
      consent.accountsFetchedAt !== null,
      this.shared(consent, 'accounts', () => this.reader.accounts(consent, { psuIpAddress: req.psuIpAddress, connection: before.connection, stored: before })),
    );
    // The bank's answer as its write returned it; without one (a 429 served from storage), what is stored now.
    const after = outcome.result ?? (await this.store.storedAccounts(userId, consent.id));
    if (!after) throw AppError.notFound('Consent');
    return this.accountsView(consent, after, outcome.source, outcome.rateLimited);
  }

  /**
   * The stored answer, from one statement: what most reads are. Undefined when the consent needs
   * more than a read first (its validUntil has just passed and it is to be expired, or its
   * accounts were never read from the bank): the full path then handles it.
   */
  private async storedAccounts(userId: string, consentId: string): Promise<AccountsView | undefined> {
    const read = await this.store.storedAccounts(userId, consentId);
    if (!read) throw AppError.notFound('Consent');
    const { consent } = read;
    // Expiring it is a write (with its event): left to the full path.
    if (isDueToExpire(consent)) return undefined;
    if (consent.status !== 'valid') throw consentNotUsable(consent);
    if (consent.accountsFetchedAt === null) return undefined;
    return this.accountsView(consent, read, 'storage', false);
  }

  /** `consent` as it was when the read began (its budget limits); `stored` as it is now. */
  private accountsView(consent: AisConsent, stored: StoredAccountsRead, source: Source, rateLimited: boolean): AccountsView {
    const refresh = this.budgets.describeRead(consent, stored.now, stored.windows, stored.nextRefreshAt);
    return {
      consentId: consent.id,
      accounts: stored.links.map((link) => toAccountView(link.account)),
      ...this.envelopeOf(consent, source, stored.consent.accountsFetchedAt, rateLimited, refresh),
    };
  }

  private async readBalances(userId: string, consentId: string, accountId: string, req: ReadRequest): Promise<BalancesView> {
    const { consent, link } = await this.linked(userId, consentId, accountId, req.psuIpAddress);
    const read = req.refresh || link.account.balancesFetchedAt === null;
    const source = await this.attended(
      read,
      link.account.balancesFetchedAt !== null,
      this.shared(consent, `balances|${accountId}`, () => this.reader.balances(consent, link, { psuIpAddress: req.psuIpAddress })),
    );
    const balances = await this.store.balances(accountId);
    const account = await this.store.account(accountId);
    return {
      accountId,
      balances: balances.map(toBalanceView),
      ...(await this.envelope(consent, source.source, account?.balancesFetchedAt ?? null, source.rateLimited)),
    };
  }

  /**
   * Transactions of a range. The bank is read (attended) when asked, when nothing is stored yet, or
   * when the range starts before what is stored; such reads always run from dateFrom to today with
   * both booking statuses, so the stored copy stays one complete window.
   */
  private async readTransactions(userId: string, consentId: string, accountId: string, req: TransactionsRequest): Promise<TransactionsView> {
    const today = utcDate();
    const dateTo = req.dateTo ?? today;
    const dateFrom = req.dateFrom ?? addDays(dateTo, -DEFAULT_HISTORY_DAYS);
    if (dateFrom > dateTo) throw AppError.validation([{ field: 'dateFrom', message: `must not be after dateTo (${dateTo})` }]);
    const { consent, link } = await this.linked(userId, consentId, accountId, req.psuIpAddress);
    const stored = link.account.transactionsFetchedAt !== null && link.account.transactionsFrom !== null;
    const covered = stored && link.account.transactionsFrom! <= dateFrom;
    const read = req.refresh || !covered;
    const bankRange: TransactionRange = { dateFrom: dateFrom < today ? dateFrom : today, dateTo: today, bookingStatus: 'both' };
    const readBank = () => this.reader.transactions(consent, link, bankRange, { psuIpAddress: req.psuIpAddress });
    const source = await this.attended(read, stored, this.shared(consent, `transactions|${accountId}|${bankRange.dateFrom}`, readBank));
    const range = { dateFrom, dateTo, bookingStatus: req.bookingStatus ?? 'both' } as const;
    const page = { limit: req.limit ?? DEFAULT_PAGE, offset: req.offset ?? 0 };
    const { total, items } = await this.store.transactions(accountId, range, page);
    const account = await this.store.account(accountId);
    const views = items.map(toTransactionView);
    return {
      accountId,
      ...range,
      total,
      ...page,
      transactions: { booked: views.filter((t) => t.bookingStatus === 'booked'), pending: views.filter((t) => t.bookingStatus === 'pending') },
      ...(await this.envelope(consent, source.source, account?.transactionsFetchedAt ?? null, source.rateLimited)),
    };
  }

  private async linked(userId: string, consentId: string, accountId: string, psuIpAddress: string): Promise<{ consent: AisConsent; link: LinkedAccount }> {
    const consent = await this.consentsService.requireValid(userId, consentId);
    // A new consent (e.g. after re-consenting) learns its accounts' resourceIds first.
    if (consent.accountsFetchedAt === null)
      await this.attended(
        true,
        false,
        this.shared(consent, 'accounts', () => this.reader.accounts(consent, { psuIpAddress })),
      );
    const link = await this.store.linkedAccount(consent.id, accountId);
    if (!link) throw AppError.notFound('Account');
    return { consent, link };
  }

  /**
   * Identical attended reads in flight at once (the same consent and resource, e.g. a burst of
   * `?refresh=true`) make one bank call whose outcome every caller shares; each then answers from
   * what was stored (the account list: as its write returned it).
   */
  private shared<T>(consent: AisConsent, resource: string, readBank: () => Promise<T>): () => Promise<T> {
    return () => this.flights.run(`${consent.id}|${resource}`, readBank, () => this.metrics.callCoalesced(consent.aspspId, resource.split('|')[0]!));
  }

  /**
   * Runs an attended read when `read`, with its result. A bank 429 on it (which an attended read
   * should never get) falls back to the stored copy when there is one; other bank failures are 5xx
   * naming the bank.
   */
  private async attended<T>(read: boolean, hasStored: boolean, readBank: () => Promise<T>): Promise<{ source: Source; rateLimited: boolean; result?: T }> {
    if (!read) return { source: 'storage', rateLimited: false };
    try {
      return { source: 'bank', rateLimited: false, result: await readBank() };
    } catch (error) {
      if (!(error instanceof BankError)) throw error;
      // The AIS API's 429 (its budget); the login server throttling us is a bank failure like any other.
      if (error.kind === 'rate_limited' && error.failureCause !== 'token_endpoint_rate_limited' && hasStored) return { source: 'storage', rateLimited: true };
      throw error;
    }
  }

  private async envelope(consent: AisConsent, source: Source, fetchedAt: Date | null, rateLimited: boolean): Promise<Envelope> {
    return this.envelopeOf(consent, source, fetchedAt, rateLimited, await this.budgets.describeOne(consent));
  }

  private envelopeOf(consent: AisConsent, source: Source, fetchedAt: Date | null, rateLimited: boolean, refresh: RefreshInfo): Envelope {
    const base = { fetchedAt: (fetchedAt ?? new Date()).toISOString(), source, ...refresh };
    if (source === 'bank') return base;
    const blocked = refresh.budget.remaining === 0 && refresh.budget.used < refresh.budget.limit;
    if (!rateLimited && refresh.budget.remaining > 0) return base;
    const warning: DataWarning = {
      code: rateLimited || blocked ? 'rate_limited' : 'budget_spent',
      detail: `${consent.aspspId} allows ${consent.frequencyPerDay} background reads a day and they are used up: this is the stored copy from ${base.fetchedAt}; refresh=true reads the bank now`,
      ...(refresh.budget.nextUnitAt ? { nextRefreshAt: refresh.budget.nextUnitAt } : {}),
    };
    return { ...base, warning };
  }
}

function viewKey(...parts: (string | boolean)[]): string {
  return parts.join('|');
}
