import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SandboxClock } from '../../clock/sandbox-clock.js';
import { CONNECTPAY_PSD2_SCOPES, SANDBOX_CONFIG, type SandboxConfig } from '../../config.js';
import { SandboxDirectory } from '../../data/sandbox-directory.js';
import { requestOrigin } from '../../gateway/client-cert.js';
import { SandboxRoute } from '../../gateway/request-context.js';
import { noStore, pageHeaders } from '../form.js';
import { LoginRequestsService, withQuery } from '../login-requests.service.js';
import { AuthorizePageError } from '../oauth-error.js';
import { OAuthStore, type LoginRequest } from '../oauth-store.js';
import { TokenEndpointService } from '../token-endpoint.service.js';
import { TokenService, type TokenResponse } from '../token.service.js';
import { CONNECTPAY_FLOW_ID, validateConnectPayAuthorize } from './authorize-request.js';
import { renderConnectPayLogin } from './login-page.js';

const NONCE_MEMORY_MS = 48 * 3600 * 1000;

/** ConnectPay's "Get authCode API", its Auth Web App and an RFC 6749 token endpoint. */
@Controller('connectpay')
export class ConnectPayOAuthController {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly logins: LoginRequestsService,
    private readonly tokens: TokenService,
    private readonly tokenEndpoint: TokenEndpointService,
    private readonly directory: SandboxDirectory,
    private readonly store: OAuthStore,
    private readonly clock: SandboxClock,
  ) {}

  /** Valid request → 301 to the Auth Web App ("using http code 301 and redirect URL in location header"). */
  @Get('oauth/authorize')
  @SandboxRoute('authorize', 'authorize')
  authorize(@Req() req: Request, @Res() res: Response): void {
    const request = validateConnectPayAuthorize(req.query as Record<string, unknown>, this.config.connectpay);
    // The nonce is there "to mitigate replay attacks": a nonce seen before is refused.
    const nonceKey = `${request.clientId}:${request.nonce.toLowerCase()}`;
    const now = this.clock.nowMs();
    for (const [key, until] of this.store.usedNonces) if (until <= now) this.store.usedNonces.delete(key);
    if (this.store.usedNonces.has(nonceKey)) throw new AuthorizePageError(400, 'invalid_request', 'nonce has already been used.');
    this.store.usedNonces.set(nonceKey, now + NONCE_MEMORY_MS);
    const login = this.logins.create({
      profile: 'connectpay',
      clientId: request.clientId,
      redirectUri: request.redirectUrl,
      state: request.state,
      scopes: request.scopes,
    });
    pageHeaders(res);
    res.redirect(301, `${requestOrigin(req, this.config)}/connectpay/auth/login?request=${encodeURIComponent(login.id)}`);
  }

  /** The login form. Sandbox convenience: `?username=` preselects that person's customers. */
  @Get('auth/login')
  loginPage(@Req() req: Request, @Res() res: Response): void {
    const login = this.logins.active('connectpay', req.query.request);
    const hint = typeof req.query.username === 'string' ? req.query.username : undefined;
    this.renderLogin(res, 200, login, hint);
  }

  @Post('auth/login')
  @HttpCode(200)
  login(@Req() req: Request, @Res() res: Response): void {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const login = this.logins.active('connectpay', body.request ?? req.query.request);
    const field = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const back = (params: Record<string, string>): void => {
      this.logins.complete(login);
      pageHeaders(res);
      res.redirect(302, withQuery(login.redirectUri, params));
    };
    const denied = { state: login.state, flowid: CONNECTPAY_FLOW_ID, error: 'access_denied' };
    const decision = field('decision');
    if (decision === 'deny') return back(denied);
    if (decision !== 'allow') return this.renderLogin(res, 400, login, field('username'), 'Choose Allow or Deny.');

    const person = this.directory.authenticate(field('username'), field('password'), field('otp'));
    if (person === undefined) return this.renderLogin(res, 401, login, field('username'), 'Wrong username, password or OTP.');
    const customers = this.directory.customersOf('connectpay', person.username);
    const chosen = field('customer') === '' ? customers[0] : customers.find((c) => c.id === field('customer'));
    if (chosen === undefined) return this.renderLogin(res, 400, login, person.username, 'That customer is not one of yours.');

    // Scopes are evaluated only when the form showed the checkboxes (hidden scope_choice); a hand-made
    // POST without it grants everything requested.
    const ticked = body.scope_choice === undefined ? login.scopes : [body.scope ?? []].flat().filter((s): s is string => typeof s === 'string');
    const granted = login.scopes.filter((s) => ticked.includes(s));
    // "If PSU would choose to deny all scopes ... Redirect URL will not contain code".
    if (granted.length === 0) return back(denied);
    const code = this.tokens.issueCode({
      profile: 'connectpay',
      clientId: login.clientId,
      redirectUri: login.redirectUri,
      username: person.username,
      customerId: chosen.id,
      scopes: granted,
    });
    return back({ code, state: login.state, flowid: CONNECTPAY_FLOW_ID });
  }

  /** RFC 6749 token endpoint (the document is silent beyond "server-to-server"). */
  @Post('oauth/token')
  @HttpCode(200)
  @SandboxRoute('token', 'token')
  token(@Req() req: Request, @Res({ passthrough: true }) res: Response): TokenResponse {
    noStore(res);
    // ConnectPay names it redirect_url at authorize; redirect_uri (RFC 6749) is accepted here too.
    return this.tokenEndpoint.handle('connectpay', req, {
      redirectParams: ['redirect_url', 'redirect_uri'],
      redirectRequired: true,
      knownScopes: [...CONNECTPAY_PSD2_SCOPES],
    });
  }

  private renderLogin(res: Response, status: number, login: LoginRequest, username?: string, error?: string): void {
    const person = username === undefined ? undefined : this.directory.person(username);
    pageHeaders(res);
    res
      .status(status)
      .type('html')
      .send(
        renderConnectPayLogin({
          requestId: login.id,
          scopes: login.scopes,
          customers: person === undefined ? undefined : this.directory.customersOf('connectpay', person.username),
          allCustomers: this.directory.data.customers.filter((c) => c.profile === 'connectpay'),
          username,
          error,
        }),
      );
  }
}
