import type { BankConfig, Service } from '../../config/banks.config.js';
import { BankError } from '../bank-error.js';
import type { BankHttpClient } from '../http/bank-http.client.js';
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
      url: this.dialect.endpoint(),
      // Not required by OAuth, but it lets the bank's and our logs be matched for this call too.
      requestId: true,
      form: { ...params, client_id: this.bank.clientId, client_secret: this.bank.clientSecret },
    });
    const body = (res.body ?? {}) as TokenResponse;
    if (res.status >= 400) {
      const oauthError = typeof body.error === 'string' ? body.error.slice(0, 64) : undefined;
      // invalid_grant: the code or refresh token is spent, expired or revoked (e.g. Flowe's 90 days).
      const kind = oauthError === 'invalid_grant' ? 'token_invalid' : 'rejected';
      throw new BankError(this.bank.id, kind, `the token endpoint refused the request (${oauthError ?? res.status})`, { status: res.status, oauthError });
    }
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
}
