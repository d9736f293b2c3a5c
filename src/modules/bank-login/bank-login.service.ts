import { Inject, Injectable, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import { AppError } from '../../common/errors/app-error.js';
import { appConfig } from '../../config/app.config.js';
import type { Service } from '../../config/banks.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import type { Connection } from '../connections/connection.entity.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { BankAuthOptions, CallbackResult } from './bank-oauth.strategy.js';
import { BankPassport } from './bank-passport.js';
import { bindingCookie } from './binding-cookie.js';
import { LoginFlowStore, STATE_TTL_MS } from './login-flow.store.js';
import { outcomeUrl, type LoginError } from './outcome.js';
import { randomNonce, randomSecret } from './secrets.js';

/**
 * The bank login, from the frontend's `POST /connections` to the bank's redirect back:
 * - `begin`: a pending connection and a single-use ticket (`authorizationUrl` carries it);
 * - `start`: the ticket is redeemed, the browser gets its binding cookie and passport-oauth2
 *   redirects it to the bank with a fresh state (and nonce where the bank uses one);
 * - `finish`: the callback's state is consumed and checked against the bank and the browser, the
 *   code is exchanged server-to-server, and the connection is activated (or failed with a reason).
 * Failures after `start` never show a stack or a bank message: they redirect to the frontend with
 * a machine-readable reason. Why it is built this way: docs/design.md, "Bank login".
 */
@Injectable()
export class BankLoginService {
  private readonly logger = new Logger(BankLoginService.name);

  constructor(
    private readonly aspsps: AspspRegistry,
    private readonly connections: ConnectionsService,
    private readonly store: LoginFlowStore,
    private readonly passport: BankPassport,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {}

  /** A new pending connection and the URL the browser navigates to (top level) to log in at the bank. */
  async begin(userId: string, input: { aspspId: string; services?: Service[]; returnUrl: string }): Promise<{ connection: Connection; authorizationUrl: string }> {
    const connection = await this.connections.create(userId, input);
    const ticket = await this.store.issueTicket(connection.id);
    return { connection, authorizationUrl: `/auth/${connection.aspspId}/login?ticket=${ticket}` };
  }

  /** `/auth/{aspspId}/login`: redeems the ticket and answers with the redirect to the bank (or to the frontend when it expired). */
  async start(aspspId: string, ticket: unknown, req: Request, res: Response): Promise<void> {
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
    const cookie = bindingCookie(this.app.secureCookies);
    res.cookie(cookie.name, binding, { ...cookie.options, maxAge: STATE_TTL_MS });
    const options: BankAuthOptions = {
      session: false,
      login: { connectionId: connection.id, services: connection.services, binding, state: randomSecret(), nonce: adapter.usesNonce ? randomNonce() : undefined },
    };
    await this.passport.run(adapter.id, options, req, res);
  }

  /** `/auth/{aspspId}/callback`: where the browser goes next, with the outcome in the query. */
  async finish(aspspId: string, req: Request, res: Response): Promise<string> {
    const adapter = this.aspsps.get(aspspId);
    const params = adapter.parseCallback(req.query as Record<string, unknown>);
    const cookie = bindingCookie(this.app.secureCookies);
    const binding = (req.cookies as Record<string, string | undefined>)[cookie.name];
    res.clearCookie(cookie.name, cookie.options);

    const consumed = await this.store.consumeState(params.state, adapter.id, binding);
    if ('failure' in consumed) {
      this.logger.warn({ aspspId, failure: consumed.failure }, 'login callback refused');
      const known = consumed.failure === 'expired_state' && consumed.connectionId ? await this.connections.findById(consumed.connectionId) : undefined;
      if (known) await this.connections.fail(known.id, consumed.failure);
      return this.failure(consumed.failure, known?.returnUrl, known?.id);
    }
    const connection = await this.connections.findById(consumed.connectionId);
    if (!connection || connection.status !== 'pending') return this.failure('invalid_state');

    if (params.error || !params.code) {
      // ConnectPay: a PSU who denies every scope comes back with state, flowid and error, no code.
      const reason: LoginError = params.error ? (params.error === 'access_denied' ? 'access_denied' : 'bank_error') : 'missing_code';
      await this.connections.fail(connection.id, reason);
      return this.failure(reason, connection.returnUrl, connection.id);
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
      return this.failure('exchange_failed', connection.returnUrl, connection.id);
    }
    await this.connections.activate(result.connectionId, result.tokens, adapter);
    return outcomeUrl(connection.returnUrl, { connectionId: connection.id, result: 'success' });
  }

  /** Housekeeping: expired tickets and states are useless. */
  purgeExpired(): Promise<void> {
    return this.store.purgeExpired();
  }

  private failure(error: LoginError, returnUrl?: string, connectionId?: string): string {
    return outcomeUrl(returnUrl ?? this.app.frontendReturnUrls[0], { ...(connectionId ? { connectionId } : {}), result: 'error', error });
  }
}
