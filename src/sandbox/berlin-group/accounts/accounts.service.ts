import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { SandboxClock } from '../../clock/sandbox-clock.js';
import { SANDBOX_CONFIG, type SandboxConfig } from '../../config.js';
import type { SandboxAccount } from '../../data/personas.js';
import { SandboxDirectory } from '../../data/sandbox-directory.js';
import type { StaticTransaction } from '../../data/transactions.js';
import type { ApiContext } from '../../gateway/request-context.js';
import { BankModesService } from '../../modes/bank-modes.service.js';
import { randomToken } from '../../oauth/oauth-store.js';
import { BgError, formatError } from '../bg-error.js';
import type { Consent } from '../consents/consent.service.js';
import { LinkBuilder } from '../links.js';
import { PaymentService } from '../payments/payment.service.js';
import type { AccountDetails, Balance, Links, TransactionsResponse } from '../wire.js';
import { accountDetails, balancesOf, paymentMovement, transactionDetails } from './account-view.js';
import { allows, listWithBalances, type AccessKind } from './consent-access.js';
import { FrequencyBudget } from './frequency-budget.js';
import { parsePageIndex, parseTransactionQuery, type TransactionQuery } from './transaction-query.js';

/** A paged transaction read in progress: `next` links carry its token (under `per_resource`, later pages are not new uses). */
interface PageToken extends TransactionQuery {
  readonly consentId: string;
  readonly accountId: string;
  readonly expiresAtMs: number;
}

const PAGE_TOKEN_TTL_MS = 3600 * 1000;

/** Accounts, balances and transactions visible through a consent, with the unattended-access budget. */
@Injectable()
export class AccountsService {
  private readonly pageTokens = new Map<string, PageToken>();

  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly directory: SandboxDirectory,
    private readonly payments: PaymentService,
    private readonly budget: FrequencyBudget,
    private readonly clock: SandboxClock,
    private readonly links: LinkBuilder,
    private readonly modes: BankModesService,
  ) {}

  /**
   * `per_call`: every unattended request carrying a valid Consent-ID is one use, counted before
   * anything else about the request is checked (a bank counts at its front door) and whatever it asks
   * for — a `_links.next` page included. Called by the controller for each account-information request.
   */
  useConsent(api: ApiContext, consent: Consent): void {
    if (this.modes.of(api.profile).budgetCounting !== 'per_call') return;
    this.spend(api, consent, consent.id, 'the Consent-ID');
  }

  list(api: ApiContext, consent: Consent, req: Request, askedWithBalance: boolean): { accounts: AccountDetails[] } {
    const withBalance = askedWithBalance && this.honoursWithBalance(api);
    const visible = this.directory.accountsOf(api.grant.customerId).filter((a) => allows(consent.request.access, a, 'list'));
    this.useResource(api, consent, '/accounts');
    return {
      accounts: visible.map((a) =>
        accountDetails(
          a,
          this.accountLinks(req, api, consent, a),
          withBalance && listWithBalances(consent.request.access, a) ? this.balances(api, a) : undefined,
        ),
      ),
    };
  }

  details(api: ApiContext, consent: Consent, accountId: string, req: Request, askedWithBalance: boolean): { account: AccountDetails } {
    const withBalance = askedWithBalance && this.honoursWithBalance(api);
    const account = this.account(api, consent, accountId, 'accounts');
    this.useResource(api, consent, `/accounts/${accountId}`);
    const balances = withBalance && allows(consent.request.access, account, 'balances') ? this.balances(api, account) : undefined;
    return { account: accountDetails(account, this.accountLinks(req, api, consent, account), balances) };
  }

  readBalances(api: ApiContext, consent: Consent, accountId: string): { account: { iban: string; currency: string }; balances: Balance[] } {
    const account = this.account(api, consent, accountId, 'balances');
    this.useResource(api, consent, `/accounts/${accountId}/balances`);
    return { account: { iban: account.iban, currency: account.currency }, balances: this.balances(api, account) };
  }

  /**
   * One page (`transactionsPageSize`, default 50) of pending-then-booked transactions, newest first.
   * Its `_links.next.href` carries `pageIndex` and `pageToken`. Under `per_resource` only the read
   * without `pageToken` is a use; under `per_call` every page was one already (useConsent).
   */
  transactions(
    api: ApiContext,
    consent: Consent,
    accountId: string,
    query: Record<string, unknown>,
    req: Request,
  ): TransactionsResponse & { balances?: Balance[] } {
    const account = this.account(api, consent, accountId, 'transactions');
    const pageIndex = parsePageIndex(query.pageIndex);
    let token = typeof query.pageToken === 'string' ? query.pageToken : undefined;
    let read: TransactionQuery;
    if (token !== undefined) {
      const stored = this.pageTokens.get(token);
      if (stored === undefined || stored.consentId !== consent.id || stored.accountId !== accountId || stored.expiresAtMs <= this.clock.nowMs()) {
        throw formatError('pageToken is unknown or expired: start the read again without it', 'pageToken');
      }
      read = stored;
    } else {
      read = parseTransactionQuery(query, this.clock.today());
      this.useResource(api, consent, `/accounts/${accountId}/transactions`);
    }

    const all = this.movements(api, account).filter((t) => matches(t, read));
    const size = this.config.transactionsPageSize;
    const page = all.slice(pageIndex * size, (pageIndex + 1) * size);
    const links: Record<string, { href: string }> = { account: this.links.href(req, api.profile, 'ais', `/accounts/${account.resourceId}`) };
    const pageLink = (index: number) => {
      token ??= this.newPageToken(consent, accountId, read);
      const params = new URLSearchParams({
        bookingStatus: read.bookingStatus,
        dateFrom: read.dateFrom,
        dateTo: read.dateTo,
        pageIndex: String(index),
        pageToken: token,
      });
      return this.links.href(req, api.profile, 'ais', `/accounts/${account.resourceId}/transactions?${params.toString()}`);
    };
    if ((pageIndex + 1) * size < all.length) links.next = pageLink(pageIndex + 1);
    if (pageIndex > 0 && all.length > 0) links.previous = pageLink(Math.min(pageIndex - 1, Math.floor((all.length - 1) / size)));

    const details = (status: 'booked' | 'pending') => page.filter((t) => t.status === status).map((t) => transactionDetails(account, t));
    const withBalance = query.withBalance === 'true' && this.honoursWithBalance(api) && allows(consent.request.access, account, 'balances');
    return {
      account: { iban: account.iban, currency: account.currency },
      transactions: {
        ...(read.bookingStatus !== 'pending' ? { booked: details('booked') } : {}),
        ...(read.bookingStatus !== 'booked' ? { pending: details('pending') } : {}),
        _links: links,
      },
      ...(withBalance ? { balances: this.balances(api, account) } : {}),
    };
  }

  reset(): void {
    this.pageTokens.clear();
    this.budget.reset();
  }

  /** The account if it is the PSU's (else 404 RESOURCE_UNKNOWN) and the consent covers `kind` (else 401 CONSENT_INVALID). */
  private account(api: ApiContext, consent: Consent, accountId: string, kind: AccessKind): SandboxAccount {
    const account = this.directory.accountsOf(api.grant.customerId).find((a) => a.resourceId === accountId);
    if (account === undefined) throw new BgError(404, 'RESOURCE_UNKNOWN', 'Unknown account id');
    if (!allows(consent.request.access, account, kind)) throw new BgError(401, 'CONSENT_INVALID', `The consent does not cover ${kind} of this account`);
    return account;
  }

  /** The bank's `withBalance` mode: a bank may ignore the parameter (Berlin Group) and answer without balances. */
  private honoursWithBalance(api: ApiContext): boolean {
    return this.modes.of(api.profile).withBalance === 'honoured';
  }

  /** `per_resource`: an unattended read of `resource` spends that resource's frequencyPerDay budget. */
  private useResource(api: ApiContext, consent: Consent, resource: string): void {
    if (this.modes.of(api.profile).budgetCounting !== 'per_resource') return;
    this.spend(api, consent, `${consent.id}|${resource}`, resource);
  }

  /** Attended requests (the bank recognised the PSU's IP) are never counted nor limited. */
  private spend(api: ApiContext, consent: Consent, key: string, what: string): void {
    if (api.psuIp !== undefined) return;
    if (!this.budget.consume(key, consent.request.frequencyPerDay, this.clock.nowMs())) {
      throw new BgError(429, 'ACCESS_EXCEEDED', `Unattended use of ${what} exceeded frequencyPerDay (${consent.request.frequencyPerDay}) in the last 24 hours`);
    }
  }

  private accountLinks(req: Request, api: ApiContext, consent: Consent, account: SandboxAccount): Links {
    const links: Record<string, { href: string }> = {};
    const path = `/accounts/${account.resourceId}`;
    if (allows(consent.request.access, account, 'balances')) links.balances = this.links.href(req, api.profile, 'ais', `${path}/balances`);
    if (allows(consent.request.access, account, 'transactions')) links.transactions = this.links.href(req, api.profile, 'ais', `${path}/transactions`);
    return links;
  }

  private balances(api: ApiContext, account: SandboxAccount): Balance[] {
    return balancesOf(api.profile, account, this.paymentMovements(api, account), this.clock.today(), this.clock.now().toISOString());
  }

  private paymentMovements(api: ApiContext, account: SandboxAccount): StaticTransaction[] {
    return this.payments.movementsFrom(api.profile, account.iban).map(paymentMovement);
  }

  /** Sandbox payments first (newest), then the generated history; pending before booked. */
  private movements(api: ApiContext, account: SandboxAccount): StaticTransaction[] {
    const all = [...this.paymentMovements(api, account), ...account.transactions];
    return [...all.filter((t) => t.status === 'pending'), ...all.filter((t) => t.status === 'booked')];
  }

  private newPageToken(consent: Consent, accountId: string, read: TransactionQuery): string {
    const now = this.clock.nowMs();
    for (const [key, stored] of this.pageTokens) if (stored.expiresAtMs <= now) this.pageTokens.delete(key);
    const token = randomToken(12);
    this.pageTokens.set(token, { ...read, consentId: consent.id, accountId, expiresAtMs: now + PAGE_TOKEN_TTL_MS });
    return token;
  }
}

function matches(t: StaticTransaction, read: TransactionQuery): boolean {
  if (read.bookingStatus !== 'both' && t.status !== read.bookingStatus) return false;
  const date = t.bookingDate ?? t.valueDate;
  return date >= read.dateFrom && date <= read.dateTo;
}
