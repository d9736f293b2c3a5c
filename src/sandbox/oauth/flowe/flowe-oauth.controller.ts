import { Controller, Get, HttpCode, Inject, Post, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { FLOWE_POLICY, FLOWE_SCOPES, SANDBOX_CONFIG, type SandboxConfig } from '../../config.js';
import { SandboxDirectory } from '../../data/sandbox-directory.js';
import { requestOrigin } from '../../gateway/client-cert.js';
import { SandboxRoute } from '../../gateway/request-context.js';
import { BankModesService } from '../../modes/bank-modes.service.js';
import { noStore, pageHeaders } from '../form.js';
import { LoginRequestsService, withQuery } from '../login-requests.service.js';
import { OAuthError } from '../oauth-error.js';
import type { LoginRequest } from '../oauth-store.js';
import { TokenEndpointService } from '../token-endpoint.service.js';
import { TokenService, type TokenResponse } from '../token.service.js';
import { FloweRedirectError, validateFloweAuthorize } from './authorize-request.js';
import { renderFloweLogin } from './login-page.js';

const KNOWN_SCOPES: readonly string[] = Object.values(FLOWE_SCOPES);

/** Flowe's Azure B2C IdP: authorize, sign-in page and token endpoint (Flowe guide, section 3). */
@Controller('flowe/idp')
export class FloweOAuthController {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly logins: LoginRequestsService,
    private readonly tokens: TokenService,
    private readonly tokenEndpoint: TokenEndpointService,
    private readonly directory: SandboxDirectory,
    private readonly modes: BankModesService,
  ) {}

  @Get('oauth2/v2.0/authorize')
  @SandboxRoute('authorize', 'authorize')
  authorize(@Req() req: Request, @Res() res: Response): void {
    pageHeaders(res);
    try {
      const request = validateFloweAuthorize(req.query as Record<string, unknown>, this.config.flowe, this.modes.of('flowe').promptLoginRequired);
      const login = this.logins.create({
        profile: 'flowe',
        clientId: request.clientId,
        redirectUri: request.redirectUri,
        state: request.state,
        scopes: request.scopes,
      });
      res.redirect(302, `${requestOrigin(req, this.config)}/flowe/idp/login?request=${encodeURIComponent(login.id)}`);
    } catch (error) {
      if (!(error instanceof FloweRedirectError)) throw error;
      const params: Record<string, string> = { error: error.error, error_description: error.description };
      if (error.state !== undefined) params.state = error.state;
      res.redirect(302, withQuery(error.redirectUri, params));
    }
  }

  @Get('login')
  loginPage(@Req() req: Request, @Res() res: Response): void {
    this.render(res, 200, this.logins.active('flowe', req.query.request));
  }

  @Post('login')
  @HttpCode(200)
  login(@Req() req: Request, @Res() res: Response): void {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const login = this.logins.active('flowe', body.request ?? req.query.request);
    const field = (name: string): string => (typeof body[name] === 'string' ? (body[name] as string) : '');
    const back = (params: Record<string, string>): void => {
      this.logins.complete(login);
      pageHeaders(res);
      res.redirect(302, withQuery(login.redirectUri, params));
    };
    const decision = field('decision');
    if (decision === 'deny') {
      return back({ state: login.state, error: 'access_denied', error_description: 'AADB2C90091: The user has cancelled entering self-asserted information.' });
    }
    if (decision !== 'allow') return this.render(res, 400, login, field('username'), 'Choose sign in or cancel.');
    const person = this.directory.authenticate(field('username'), field('password'), field('otp'));
    if (person === undefined) return this.render(res, 401, login, field('username'), 'Wrong username, password or one-time code.');
    const customer = this.directory.customersOf('flowe', person.username)[0]!;
    const code = this.tokens.issueCode({
      profile: 'flowe',
      clientId: login.clientId,
      redirectUri: login.redirectUri,
      username: person.username,
      customerId: customer.id,
      scopes: login.scopes,
    });
    // Flowe guide: "<REDIRECT_URI>?state=<STATE>&code=<AUTHORIZATION_CODE_GRANT>".
    return back({ state: login.state, code });
  }

  /** `POST <IDP>/oauth2/v2.0/token?p=B2C_1A_Psd2_SignIn` with a form body; mTLS is checked by the gateway. */
  @Post('oauth2/v2.0/token')
  @HttpCode(200)
  @SandboxRoute('token', 'token')
  token(@Req() req: Request, @Res({ passthrough: true }) res: Response): TokenResponse {
    noStore(res);
    if (typeof req.query.p !== 'string' || req.query.p.toLowerCase() !== FLOWE_POLICY.toLowerCase()) {
      throw new OAuthError(400, 'invalid_request', `Unknown policy: p must be ${FLOWE_POLICY}`);
    }
    // The guide's body: grant_type, scope, client_id, client_secret and code or refresh_token; a
    // redirect_uri is not in it, but is checked when sent.
    return this.tokenEndpoint.handle('flowe', req, { redirectParams: ['redirect_uri'], redirectRequired: false, knownScopes: KNOWN_SCOPES });
  }

  private render(res: Response, status: number, login: LoginRequest, username?: string, error?: string): void {
    pageHeaders(res);
    res
      .status(status)
      .type('html')
      .send(renderFloweLogin({ requestId: login.id, scopes: login.scopes, username, error }));
  }
}
