import { Controller, Get, Inject, Logger, Param, Query, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import { AppError } from '../../common/errors/app-error.js';
import { appConfig } from '../../config/app.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { ConnectionsService } from '../connections/connections.service.js';
import { outcomeUrl } from '../connections/return-url.js';
import type { BankAuthOptions, CallbackResult } from './bank-oauth.strategy.js';
import { BankPassport } from './bank-passport.js';
import { LoginFlowStore, STATE_TTL_MS } from '../connections/login-flow.store.js';
import { randomNonce, randomSecret } from '../connections/secrets.js';

/** Machine-readable reasons the frontend receives as `?result=error&error=…`. */
type LoginError = 'access_denied' | 'invalid_state' | 'expired_state' | 'missing_code' | 'exchange_failed' | 'bank_error' | 'expired_ticket';

/**
 * The browser side of a bank login: `/auth/{aspspId}/login` (the `authorizationUrl` the frontend
 * navigates to, top level) and `/auth/{aspspId}/callback` (the redirect URI registered at the bank).
 * Failures never show a stack or a bank message: they redirect to the frontend with a reason.
 */
@ApiExcludeController()
@Controller('auth/:aspspId')
export class AuthController {
  private readonly logger = new Logger(AuthController.name);

  constructor(
    private readonly aspsps: AspspRegistry,
    private readonly store: LoginFlowStore,
    private readonly passport: BankPassport,
    private readonly connections: ConnectionsService,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  @Get('login')
  async login(@Param('aspspId') aspspId: string, @Query('ticket') ticket: unknown, @Req() req: Request, @Res() res: Response): Promise<void> {
    const adapter = this.aspsps.get(aspspId);
    if (typeof ticket !== 'string' || ticket.length < 20 || ticket.length > 200) {
      throw AppError.validation([{ field: 'ticket', message: 'is missing or malformed' }]);
    }
    const redeemed = await this.store.redeemTicket(ticket);
    const connection = redeemed ? await this.connections.findById(redeemed.connectionId) : undefined;
    if (!redeemed || !connection || connection.aspspId !== adapter.id || connection.status !== 'pending') {
      throw new AppError('not_found', 'This login link is unknown or was already used');
    }
    if (redeemed.expired) {
      return res.redirect(302, outcomeUrl(connection.returnUrl, { connectionId: connection.id, result: 'error', error: 'expired_ticket' }));
    }
    const binding = randomSecret();
    res.cookie(this.bindingCookie, binding, { httpOnly: true, secure: this.app.secureCookies, sameSite: 'lax', path: '/', maxAge: STATE_TTL_MS });
    const options: BankAuthOptions = {
      session: false,
      login: { connectionId: connection.id, services: connection.services, binding, state: randomSecret(), nonce: adapter.usesNonce ? randomNonce() : undefined },
    };
    await this.passport.run(adapter.id, options, req, res);
  }

  @Get('callback')
  async callback(@Param('aspspId') aspspId: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const adapter = this.aspsps.get(aspspId);
    const params = adapter.parseCallback(req.query as Record<string, unknown>);
    const binding = (req.cookies as Record<string, string | undefined>)[this.bindingCookie];
    res.clearCookie(this.bindingCookie, { httpOnly: true, secure: this.app.secureCookies, sameSite: 'lax', path: '/' });

    const consumed = await this.store.consumeState(params.state, adapter.id, binding);
    if ('failure' in consumed) {
      this.logger.warn({ aspspId, failure: consumed.failure }, 'login callback refused');
      const known = consumed.failure === 'expired_state' && consumed.connectionId ? await this.connections.findById(consumed.connectionId) : undefined;
      if (known) await this.connections.fail(known.id, consumed.failure);
      return this.fail(res, consumed.failure, known?.returnUrl, known?.id);
    }
    const connection = await this.connections.findById(consumed.connectionId);
    if (!connection || connection.status !== 'pending') return this.fail(res, 'invalid_state');

    if (params.error || !params.code) {
      // ConnectPay: a PSU who denies every scope comes back with state, flowid and error, no code.
      const reason: LoginError = params.error ? (params.error === 'access_denied' ? 'access_denied' : 'bank_error') : 'missing_code';
      await this.connections.fail(connection.id, reason);
      return this.fail(res, reason, connection.returnUrl, connection.id);
    }

    let result: CallbackResult;
    try {
      result = await this.passport.run<CallbackResult>(adapter.id, { session: false, callback: { connectionId: connection.id, services: connection.services } }, req, res);
    } catch (error) {
      // passport wraps the token client's error in an InternalOAuthError (`oauthError`).
      const cause = error instanceof BankError ? error : (error as { oauthError?: unknown }).oauthError;
      const bank = cause instanceof BankError ? cause : undefined;
      this.logger.warn({ aspspId, connectionId: connection.id, kind: bank?.kind, status: bank?.details.status, oauthError: bank?.details.oauthError }, 'code exchange failed');
      await this.connections.fail(connection.id, 'exchange_failed');
      return this.fail(res, 'exchange_failed', connection.returnUrl, connection.id);
    }
    await this.connections.activate(result.connectionId, result.tokens, adapter);
    res.redirect(302, outcomeUrl(connection.returnUrl, { connectionId: connection.id, result: 'success' }));
  }

  /** `__Host-` pins the cookie to this origin and path / whenever it can be Secure. */
  private get bindingCookie(): string {
    return this.app.secureCookies ? '__Host-tpp_login' : 'tpp_login';
  }

  private fail(res: Response, error: LoginError, returnUrl?: string, connectionId?: string): void {
    const target = returnUrl ?? this.app.frontendReturnUrls[0];
    res.redirect(302, outcomeUrl(target, { ...(connectionId ? { connectionId } : {}), result: 'error', error }));
  }
}
