import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { AccountsService } from '../berlin-group/accounts/accounts.service.js';
import { ConsentService } from '../berlin-group/consents/consent.service.js';
import { PaymentService } from '../berlin-group/payments/payment.service.js';
import { SandboxClock } from '../clock/sandbox-clock.js';
import { SandboxDirectory } from '../data/sandbox-directory.js';
import { ConfigFaultsService } from '../faults/config-faults.service.js';
import { FaultsService } from '../faults/faults.service.js';
import { QuirksService } from '../faults/quirks.service.js';
import { RequestLogService, type RequestLogEntry } from '../gateway/request-log.service.js';
import { StatusPollLimiter } from '../gateway/status-poll-limiter.js';
import { BankModesService } from '../modes/bank-modes.service.js';
import { OAuthStore } from '../oauth/oauth-store.js';
import { TokenService } from '../oauth/token.service.js';
import { parseClockAdvance, parseProfileBody } from './admin-input.js';

/** Test and demo controls (JSON). Never part of a bank's real surface. */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly clock: SandboxClock,
    private readonly faults: FaultsService,
    private readonly configFaults: ConfigFaultsService,
    private readonly modes: BankModesService,
    private readonly quirks: QuirksService,
    private readonly pollLimiter: StatusPollLimiter,
    private readonly requestLog: RequestLogService,
    private readonly consents: ConsentService,
    private readonly payments: PaymentService,
    private readonly accounts: AccountsService,
    private readonly oauth: OAuthStore,
    private readonly tokens: TokenService,
    private readonly directory: SandboxDirectory,
  ) {}

  @Get('clock')
  getClock(): { now: string } {
    return { now: this.clock.now().toISOString() };
  }

  @Post('clock')
  @HttpCode(200)
  advanceClock(@Body() body: unknown): { now: string } {
    this.clock.advance(parseClockAdvance(body));
    return this.getClock();
  }

  @Post('consents/:consentId/revoke')
  @HttpCode(200)
  revokeConsent(@Param('consentId') id: string) {
    const consent = this.consents.revokeByPsu(id);
    return { consentId: consent.id, consentStatus: this.consents.statusOf(consent) };
  }

  /**
   * Every payment the banks hold (any status), oldest first: what a test compares the TPP's own
   * records with ("each payment exists exactly once at the bank"). No amounts of other data.
   */
  @Get('payments')
  listPayments() {
    return {
      payments: this.payments.all().map((p) => ({
        paymentId: p.id,
        profile: p.profile,
        username: p.username,
        transactionStatus: this.payments.statusOf(p),
        endToEndIdentification: p.request.endToEndIdentification ?? null,
        amount: p.request.instructedAmount,
        createdAt: new Date(p.createdAtMs).toISOString(),
      })),
    };
  }

  /** Clearing sends a pac.002 RJCT for an ACSP or ACSC payment (Flowe guide 4.2 step 5a). */
  @Post('payments/:paymentId/clearing-reject')
  @HttpCode(200)
  clearingReject(@Param('paymentId') id: string) {
    const payment = this.payments.rejectByClearing(id);
    return { paymentId: payment.id, transactionStatus: this.payments.statusOf(payment) };
  }

  @Post('tokens/expire')
  @HttpCode(200)
  expireTokens(@Body() body: unknown): { expired: number } {
    return { expired: this.tokens.expireAccessTokens(parseProfileBody(body)) };
  }

  @Get('requests')
  requests(@Query('profile') profile: unknown, @Query('route') route: unknown): { requests: RequestLogEntry[] } {
    const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
    return { requests: this.requestLog.list({ profile: str(profile), route: str(route) }) };
  }

  @Get('stats')
  stats() {
    return { stats: this.requestLog.counts() };
  }

  /** Demo data: persons, their customers and accounts (ids, IBANs) per bank. */
  @Get('users')
  users() {
    const { persons, customers, accounts } = this.directory.data;
    return {
      users: persons.map((p) => ({
        username: p.username,
        fullName: p.fullName,
        customers: customers
          .filter((c) => c.username === p.username)
          .map((c) => ({
            id: c.id,
            profile: c.profile,
            name: c.name,
            kind: c.kind,
            accounts: accounts
              .filter((a) => a.customerId === c.id)
              .map((a) => ({ resourceId: a.resourceId, iban: a.iban, name: a.name, currency: a.currency, transactions: a.transactions.length })),
          })),
      })),
    };
  }

  /**
   * Clears log, stats, faults, configuration faults and quirks and restores the start-up modes;
   * `?state=true` also consents, payments, budgets, poll windows, tokens and the clock offset.
   */
  @Post('reset')
  @HttpCode(200)
  reset(@Query('state') state: unknown): { reset: string[] } {
    this.requestLog.reset();
    this.faults.clear();
    this.configFaults.reset();
    this.modes.reset();
    this.quirks.reset();
    const reset = ['requests', 'stats', 'faults', 'config-faults', 'modes', 'quirks'];
    if (state === 'true') {
      this.consents.reset();
      this.payments.reset();
      this.accounts.reset();
      this.pollLimiter.reset();
      this.oauth.reset();
      this.clock.reset();
      reset.push('consents', 'payments', 'budgets', 'poll-windows', 'tokens', 'clock');
    }
    return { reset };
  }
}
