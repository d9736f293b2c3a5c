import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AspspAdapter } from '../../aspsp/aspsp-adapter.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankError } from '../../aspsp/bank-error.js';
import { AppError } from '../../common/errors/app-error.js';
import { SecurityEvents } from '../../common/metrics/security-events.js';
import { appConfig } from '../../config/app.config.js';
import type { Service } from '../../config/banks.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import type { Connection, ConnectionStatus } from '../connections/connection.entity.js';
import { ConnectionsService } from '../connections/connections.service.js';
import type { AuthenticatedUser } from '../identity/index.js';
import type { BankAuthOptions, CallbackResult } from './bank-oauth.strategy.js';
import { BankPassport } from './bank-passport.js';
import { confirmPage } from './confirm-page.js';
import { grantedServices } from './granted-services.js';
import { loginCookies, type LoginCookies } from './login-cookies.js';
import { LoginFlowStore, STATE_TTL_MS, TICKET_TTL_MS } from './login-flow.store.js';
import { assertSameOrigin, confirmationFormOf, loginTicketOf } from './login-request.js';
import { outcomeUrl, type LoginError } from './outcome.js';
import { randomNonce, randomSecret } from './secrets.js';

/**
 * Connections a bank login may complete: a new one (`pending`), and one logging in again
 * (`reauth_required`, or `active` near its end), which only `beginReauthorization` issues tickets
 * for. Failures only ever move a `pending` connection (`ConnectionsService.fail`): a denied or
 * broken re-login leaves the connection as it was.
 */
const AWAITING_LOGIN: readonly ConnectionStatus[] = ['pending', 'reauth_required', 'active'];

/** A ticket that was just redeemed: the connection it names, and whether it had run out. */
interface Redeemed {
  connectionId: string;
  expired: boolean;
}

/**
 * The bank login, from the frontend's `POST /connections` to the bank's redirect back:
 * - `begin`: a pending connection and a single-use ticket (`authorizationUrl` carries it), bound
 *   to the browser that asked (start cookie) and labelled with its user; `beginReauthorization`
 *   the same for an existing connection whose login has ended or is about to;
 * - `start`: the ticket is redeemed by that browser, which gets its callback cookie and is sent to
 *   the bank with a fresh state (and nonce where the bank uses one); any other browser is asked
 *   first, on a page naming the user the bank will be attached to (`confirm` takes its answer);
 * - `finish`: the callback's state is consumed and checked against the bank and the browser, the
 *   code is exchanged server-to-server, and the connection is activated (or failed with a reason).
 * Failures after `start` never show a stack or a bank message: they redirect to the frontend with
 * a machine-readable reason. Why it is built this way: docs/design.md, "Bank login".
 */
@Injectable()
export class BankLoginService {
  private readonly logger = new Logger(BankLoginService.name);
  private readonly cookies: LoginCookies;

  constructor(
    private readonly aspsps: AspspRegistry,
    private readonly connections: ConnectionsService,
    private readonly store: LoginFlowStore,
    private readonly passport: BankPassport,
    private readonly security: SecurityEvents,
    @Inject(appConfig.KEY) private readonly app: ConfigOf<typeof appConfig>,
  ) {
    this.cookies = loginCookies(app.secureCookies, { startMs: TICKET_TTL_MS, callbackMs: STATE_TTL_MS });
  }

  /**
   * A new pending connection and the URL the browser navigates to (top level) to log in at the
   * bank. The ticket is bound to this browser's start cookie (set here, or kept when it already
   * has one), so a same-site web app goes straight to the bank with it.
   */
  async begin(
    user: AuthenticatedUser,
    input: { aspspId: string; services?: Service[]; returnUrl: string; externalReference?: string },
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<{ connection: Connection; authorizationUrl: string }> {
    const connection = await this.connections.create(user.id, input);
    const browser = this.cookies.start.read(req) ?? randomSecret();
    const ticket = await this.store.issueTicket(connection.id, { browserBinding: browser, userLabel: user.label });
    this.cookies.start.set(res, browser);
    return { connection, authorizationUrl: `/auth/${connection.aspspId}/login?ticket=${ticket}` };
  }

  /**
   * The same for an existing connection whose bank login has ended (`reauth_required`) or is about
   * to (`active` near `reauthBy`): a new ticket for the same connection, bound to this browser and
   * labelled with its user exactly as `begin` does, so the login CSRF defence (start cookie or the
   * confirmation page) and the state checks are the same. A login that succeeds makes the
   * connection `active` again, keeping its id, consents and stored data; a denial, an error or a
   * refused callback leaves it as it was.
   */
  async beginReauthorization(
    user: AuthenticatedUser,
    connectionId: string,
    input: { returnUrl?: string },
    req: FastifyRequest,
    res: FastifyReply,
  ): Promise<{ connection: Connection; authorizationUrl: string }> {
    const connection = await this.connections.forReauthorization(user.id, connectionId, input.returnUrl);
    const browser = this.cookies.start.read(req) ?? randomSecret();
    const ticket = await this.store.issueTicket(connection.id, { browserBinding: browser, userLabel: user.label });
    this.cookies.start.set(res, browser);
    return { connection, authorizationUrl: `/auth/${connection.aspspId}/login?ticket=${ticket}` };
  }

  /**
   * `GET /auth/{aspspId}/login`: the browser that created the connection goes straight to the
   * bank; any other browser gets the confirmation page and the ticket stays unused until it answers.
   */
  async start(aspspId: string, query: Record<string, unknown>, req: FastifyRequest, res: FastifyReply): Promise<void> {
    const adapter = this.aspsps.get(aspspId);
    const ticket = loginTicketOf(query);
    const browser = this.cookies.start.read(req);
    const bound = browser ? await this.store.redeemBoundTicket(ticket, browser) : undefined;
    if (bound) return this.leaveForBank(adapter, await this.loginConnection(adapter, bound.connectionId), bound, req, res);

    const presented = await this.store.findTicket(ticket);
    const connection = presented ? await this.loginConnection(adapter, presented.connectionId) : undefined;
    if (!presented || !connection) throw unknownLink();
    if (presented.expired) {
      await this.store.dropTicket(ticket);
      return void res.redirect(this.failure('expired_ticket', connection), 302);
    }
    // Not the browser that created the connection: a native app's system browser, a second
    // device, or someone the link was sent to (login CSRF). Only a click on this page, naming the
    // user the bank will be attached to, lets it go on.
    const binding = browser ?? randomSecret();
    this.cookies.start.set(res, binding);
    const confirmation = await this.store.issueConfirmation(ticket, binding);
    if (!confirmation) throw new AppError('rate_limited', 'This login link was opened too many times; start connecting the bank again');
    void res
      .code(200)
      .type('text/html; charset=utf-8')
      .send(confirmPage({ aspspId: adapter.id, bankName: adapter.bank.name, userLabel: presented.userLabel || 'this app account', confirmation }));
  }

  /** `POST /auth/{aspspId}/login`: the confirmation page's answer, from the browser it was shown in. */
  async confirm(aspspId: string, req: FastifyRequest, res: FastifyReply): Promise<void> {
    const adapter = this.aspsps.get(aspspId);
    const form = confirmationFormOf(req);
    assertSameOrigin(req, this.app.publicUrl);
    const redeemed = await this.store.redeemConfirmedTicket(form.confirmation, this.cookies.start.read(req));
    if (!redeemed) {
      this.security.record('login_confirmation_refused', adapter.id, {}, 'login confirmation refused: unknown, used, or posted from another browser');
      throw new AppError('forbidden', 'This confirmation is unknown, was already used, or was not shown in this browser: open the login link again');
    }
    const connection = await this.loginConnection(adapter, redeemed.connectionId);
    if (form.decision === 'cancel') {
      await this.connections.fail(connection.id, 'cancelled');
      return void res.redirect(this.failure('cancelled', connection), 303);
    }
    return this.leaveForBank(adapter, connection, redeemed, req, res);
  }

  /** `/auth/{aspspId}/callback`: where the browser goes next, with the outcome in the query. */
  async finish(aspspId: string, req: FastifyRequest, res: FastifyReply): Promise<string> {
    const adapter = this.aspsps.get(aspspId);
    const params = adapter.parseCallback(req.query as Record<string, unknown>);
    const binding = this.cookies.callback.read(req);
    this.cookies.callback.clear(res);

    const consumed = await this.store.consumeState(params.state, adapter.id, binding);
    if ('failure' in consumed) {
      this.logger.warn({ aspspId, failure: consumed.failure }, 'login callback refused');
      const known = consumed.failure === 'expired_state' && consumed.connectionId ? await this.connections.findById(consumed.connectionId) : undefined;
      if (known) await this.connections.fail(known.id, consumed.failure);
      return this.failure(consumed.failure, known);
    }
    const connection = await this.connections.findById(consumed.connectionId);
    if (!connection || !AWAITING_LOGIN.includes(connection.status)) return this.failure('invalid_state');

    if (params.error || !params.code) {
      // ConnectPay: a PSU who denies every scope comes back with state, flowid and error, no code.
      const reason: LoginError = params.error ? (params.error === 'access_denied' ? 'access_denied' : 'bank_error') : 'missing_code';
      await this.connections.fail(connection.id, reason);
      return this.failure(reason, connection);
    }

    let result: CallbackResult;
    try {
      result = await this.passport.run<CallbackResult>(
        adapter.id,
        { session: false, callback: { connectionId: connection.id, services: connection.services } },
        req,
        res,
      );
    } catch (error) {
      // passport wraps the token client's error in an InternalOAuthError (`oauthError`).
      const cause = error instanceof BankError ? error : (error as { oauthError?: unknown }).oauthError;
      const bank = cause instanceof BankError ? cause : undefined;
      this.logger.warn(
        { aspspId, connectionId: connection.id, kind: bank?.kind, status: bank?.details.status, oauthError: bank?.details.oauthError },
        'code exchange failed',
      );
      await this.connections.fail(connection.id, 'exchange_failed');
      return this.failure('exchange_failed', connection);
    }
    // What the bank granted, not what was asked: ConnectPay issues a code for any non-empty subset.
    const grant = grantedServices(adapter.bank, connection.services, result.tokens.scope);
    if ('unrequested' in grant) {
      this.security.record(
        'login_scope_mismatch',
        adapter.id,
        { connectionId: connection.id, unrequested: grant.unrequested.join(',') },
        'login refused: the bank granted services this login did not ask for, so the code was issued for another login',
      );
      await this.connections.fail(connection.id, 'scope_mismatch');
      return this.failure('scope_mismatch', connection);
    }
    if (grant.services.length === 0) {
      await this.connections.fail(connection.id, 'access_denied');
      return this.failure('access_denied', connection);
    }
    if (!(await this.connections.activate(connection, result.tokens, adapter, grant.services))) return this.failure('invalid_state', connection);
    return outcomeUrl(connection.returnUrl, { connectionId: connection.id, result: 'success' });
  }

  /** Housekeeping: expired tickets and states are useless. */
  purgeExpired(): Promise<void> {
    return this.store.purgeExpired();
  }

  /** The ticket's connection, while a login at this bank can still complete it (see AWAITING_LOGIN). */
  private async loginConnection(adapter: AspspAdapter, connectionId: string): Promise<Connection> {
    const connection = await this.connections.findById(connectionId);
    if (!connection || connection.aspspId !== adapter.id || !AWAITING_LOGIN.includes(connection.status)) throw unknownLink();
    return connection;
  }

  /** Sets the callback cookie and lets passport-oauth2 redirect the browser to the bank with a fresh state. */
  private async leaveForBank(adapter: AspspAdapter, connection: Connection, redeemed: Redeemed, req: FastifyRequest, res: FastifyReply): Promise<void> {
    if (redeemed.expired) return void res.redirect(this.failure('expired_ticket', connection), 302);
    const binding = randomSecret();
    this.cookies.callback.set(res, binding);
    const options: BankAuthOptions = {
      session: false,
      login: {
        connectionId: connection.id,
        services: connection.services,
        binding,
        state: randomSecret(),
        nonce: adapter.usesNonce ? randomNonce() : undefined,
      },
    };
    await this.passport.run(adapter.id, options, req, res);
  }

  private failure(error: LoginError, connection?: Connection): string {
    return outcomeUrl(connection?.returnUrl ?? this.app.frontendReturnUrls[0], {
      ...(connection ? { connectionId: connection.id } : {}),
      result: 'error',
      error,
    });
  }
}

function unknownLink(): AppError {
  return new AppError('not_found', 'This login link is unknown or was already used');
}
