import type { BankConfig, Service } from '../../config/banks.config.js';
import { BankError } from '../bank-error.js';
import type { BankHttpClient, BankResponse } from '../http/bank-http.client.js';
import { DEFAULT_ACCESS_TOKEN_SECONDS, type TokenSet } from './token-set.js';

interface TokenResponse {
  access_token?: unknown;
  refresh_token?: unknown;
  token_type?: unknown;
  expires_in?: unknown;
  scope?: unknown;
  error?: unknown;
}

/**
 * The bank's token endpoint (RFC 6749 section 4.1.3 and 6), server to server with the client
 * secret and, where configured, mutual TLS. Never retried: an authorization code is single use and
 * a refresh may rotate the refresh token, so a blind retry could burn the only valid one.
 *
 * Only `invalid_grant` says the user's grant (code or refresh token) is gone. `invalid_client` and
 * `unauthorized_client` (an expired client secret, a refused certificate), any other refusal of the
 * request, a 429 from the login server and a 5xx are ours or the bank's to fix: the caller keeps the
 * tokens it has.
 */
export class TokenClient {
  constructor(
    private readonly bank: BankConfig,
    private readonly http: BankHttpClient,
    private readonly dialect: {
      endpoint: () => string;
      params: (grant: 'authorization_code' | 'refresh_token', services: Service[]) => Record<string, string>;
    },
  ) {}

  exchangeCode(code: string, services: Service[]): Promise<TokenSet> {
    return this.post({ grant_type: 'authorization_code', code, ...this.dialect.params('authorization_code', services) });
  }

  refresh(refreshToken: string, services: Service[]): Promise<TokenSet> {
    return this.post({ grant_type: 'refresh_token', refresh_token: refreshToken, ...this.dialect.params('refresh_token', services) });
  }

  private async post(params: Record<string, string>): Promise<TokenSet> {
    const res = await this.http.send({
      method: 'POST',
      operation: 'token',
      endpoint: 'token',
      url: this.dialect.endpoint(),
      // Not required by OAuth, but it lets the bank's and our logs be matched for this call too.
      requestId: true,
      form: { ...params, client_id: this.bank.clientId, client_secret: this.bank.clientSecret },
      classify: (answer) => this.refusal(answer),
    });
    const body = (res.body ?? {}) as TokenResponse;
    if (typeof body.access_token !== 'string' || body.access_token.length === 0) {
      throw new BankError(this.bank.id, 'unexpected', 'the token endpoint answered without an access token', { status: res.status });
    }
    // RFC 6749 7.1: the token type is case-insensitive; some banks omit it altogether.
    if (body.token_type !== undefined && String(body.token_type).toLowerCase() !== 'bearer') {
      throw new BankError(this.bank.id, 'unexpected', 'the token endpoint issued a token type other than Bearer', { status: res.status });
    }
    const expiresIn = Number(body.expires_in);
    const seconds = Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : DEFAULT_ACCESS_TOKEN_SECONDS;
    return {
      accessToken: body.access_token,
      refreshToken: typeof body.refresh_token === 'string' && body.refresh_token ? body.refresh_token : undefined,
      expiresAt: new Date(Date.now() + seconds * 1000),
      scope: typeof body.scope === 'string' ? body.scope : undefined,
    };
  }

  /** What a 4xx from the token endpoint means (RFC 6749 5.2): see the class comment. */
  private refusal(res: BankResponse): BankError {
    const body = (res.body ?? {}) as TokenResponse;
    const oauthError = typeof body.error === 'string' ? body.error.slice(0, 64) : undefined;
    const what = `the token endpoint refused the request (${oauthError ?? res.status})`;
    if (res.status === 429) {
      const retryAfter = Number(res.headers['retry-after']);
      return new BankError(this.bank.id, 'rate_limited', "the bank's login server asks us to slow down", {
        status: 429,
        oauthError,
        cause: 'token_endpoint_rate_limited',
        retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      });
    }
    // The code or refresh token is spent, expired or revoked (e.g. Flowe's 90 days): the grant has ended.
    if (oauthError === 'invalid_grant') return new BankError(this.bank.id, 'token_invalid', what, { status: res.status, oauthError, cause: 'grant_refused' });
    const clientAuth = res.status === 401 || oauthError === 'invalid_client' || oauthError === 'unauthorized_client';
    return new BankError(this.bank.id, 'misconfigured', what, {
      status: res.status,
      oauthError,
      cause: clientAuth ? 'client_auth_failed' : 'token_request_refused',
    });
  }
}
