import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { AccountsService } from '../berlin-group/accounts/accounts.service.js';
import { ConsentService } from '../berlin-group/consents/consent.service.js';
import { PaymentService } from '../berlin-group/payments/payment.service.js';
import { SandboxClock } from '../clock/sandbox-clock.js';
import { SandboxDirectory } from '../data/sandbox-directory.js';
import { FaultsService, type FaultRule } from '../faults/faults.service.js';
import { QuirksService } from '../faults/quirks.service.js';
import { RequestLogService, type RequestLogEntry } from '../gateway/request-log.service.js';
import { OAuthStore } from '../oauth/oauth-store.js';
import { TokenService } from '../oauth/token.service.js';
import { parseClockAdvance, parseFaultRule, parseLinkStyle, parseProfileBody, parseTokenQuirks } from './admin-input.js';

/** Test and demo controls (JSON). Never part of a bank's real surface. */
@Controller('admin')
export class AdminController {
  constructor(
    private readonly clock: SandboxClock,
    private readonly faults: FaultsService,
    private readonly quirks: QuirksService,
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

  @Get('faults')
  listFaults(): { faults: FaultRule[] } {
    return { faults: this.faults.list() };
  }

  @Post('faults')
  @HttpCode(200)
  addFault(@Body() body: unknown): { faults: FaultRule[] } {
    this.faults.set(parseFaultRule(body));
    return this.listFaults();
  }

  @Delete('faults')
  @HttpCode(204)
  clearFaults(): void {
    this.faults.clear();
  }

  @Post('token-quirks')
  @HttpCode(200)
  tokenQuirks(@Body() body: unknown) {
    const { profile, quirks } = parseTokenQuirks(body);
    this.quirks.setTokenQuirks(profile, quirks);
    return { profile, tokenQuirks: quirks };
  }

  @Post('link-quirks')
  @HttpCode(200)
  linkQuirks(@Body() body: unknown) {
    const { profile, style } = parseLinkStyle(body);
    this.quirks.setLinkStyle(profile, style);
    return { profile, linkStyle: style };
  }

  @Post('consents/:consentId/revoke')
  @HttpCode(200)
  revokeConsent(@Param('consentId') id: string) {
    const consent = this.consents.revokeByPsu(id);
    return { consentId: consent.id, consentStatus: this.consents.statusOf(consent) };
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
            accounts: accounts.filter((a) => a.customerId === c.id).map((a) => ({ resourceId: a.resourceId, iban: a.iban, name: a.name, currency: a.currency, transactions: a.transactions.length })),
          })),
      })),
    };
  }

  /** Clears log, stats, faults and quirks; `?state=true` also consents, payments, tokens and the clock offset. */
  @Post('reset')
  @HttpCode(200)
  reset(@Query('state') state: unknown): { reset: string[] } {
    this.requestLog.reset();
    this.faults.clear();
    this.quirks.reset();
    const reset = ['requests', 'stats', 'faults', 'quirks'];
    if (state === 'true') {
      this.consents.reset();
      this.payments.reset();
      this.accounts.reset();
      this.oauth.reset();
      this.clock.reset();
      reset.push('consents', 'payments', 'budgets', 'tokens', 'clock');
    }
    return { reset };
  }
}
