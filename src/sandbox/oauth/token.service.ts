import { Inject, Injectable } from '@nestjs/common';
import { SandboxClock } from '../clock/sandbox-clock.js';
import { SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import { BgError } from '../berlin-group/bg-error.js';
import { QuirksService } from '../faults/quirks.service.js';
import type { RefreshTokenMode } from '../modes/bank-modes.js';
import { OAuthError } from './oauth-error.js';
import { OAuthStore, randomToken, type Grant } from './oauth-store.js';

const DAY_MS = 24 * 3600 * 1000;

/** Token endpoint answer (RFC 6749 5.1); Flowe adds refresh_token_expires_in like Azure B2C. */
export interface TokenResponse {
  access_token: string;
  token_type?: string;
  expires_in?: number;
  refresh_token?: string;
  refresh_token_expires_in?: number;
  scope?: string;
}

export interface NewGrant {
  readonly profile: Profile;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly username: string;
  readonly customerId: string;
  readonly scopes: readonly string[];
}

/** Codes, access and refresh tokens of both banks, all timed by the sandbox clock. */
@Injectable()
export class TokenService {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly store: OAuthStore,
    private readonly clock: SandboxClock,
    private readonly quirks: QuirksService,
  ) {}

  /** The PSU has authenticated and consented: a grant starts here and its code goes to the redirect URI. */
  issueCode(request: NewGrant): string {
    const now = this.clock.nowMs();
    const grant: Grant = {
      id: randomToken(12),
      profile: request.profile,
      clientId: request.clientId,
      username: request.username,
      customerId: request.customerId,
      scopes: request.scopes,
      authenticatedAtMs: now,
      revoked: false,
    };
    this.store.grants.set(grant.id, grant);
    // ConnectPay: "Authorization Code will be valid for 24 hours"; Flowe: single use, short-lived.
    const ttl = request.profile === 'connectpay' ? this.config.connectpayCodeTtlSeconds : this.config.floweCodeTtlSeconds;
    const code = randomToken();
    this.store.codes.set(code, { code, grantId: grant.id, redirectUri: request.redirectUri, expiresAtMs: now + ttl * 1000 });
    return code;
  }

  /**
   * authorization_code grant. `redirectUri` must repeat the authorize request's value when given
   * (RFC 6749 4.1.3); `redirectRequired` makes it mandatory (ConnectPay, where it was sent at authorize).
   */
  exchangeCode(
    profile: Profile,
    clientId: string,
    code: string,
    options: { redirectUri?: string; redirectRequired: boolean; scopes?: readonly string[] },
  ): TokenResponse {
    const now = this.clock.nowMs();
    const stored = this.store.codes.get(code);
    const grant = stored === undefined ? undefined : this.store.grants.get(stored.grantId);
    if (stored === undefined || grant === undefined || grant.profile !== profile || grant.clientId !== clientId) {
      throw new OAuthError(400, 'invalid_grant', 'unknown authorization code');
    }
    if (stored.usedAtMs !== undefined) {
      // RFC 6749 4.1.2: a code used twice revokes what was issued from it.
      grant.revoked = true;
      throw new OAuthError(400, 'invalid_grant', 'authorization code already used');
    }
    if (now >= stored.expiresAtMs) throw new OAuthError(400, 'invalid_grant', 'authorization code expired');
    if (options.redirectUri === undefined && options.redirectRequired)
      throw new OAuthError(400, 'invalid_request', 'redirect_url is required (the value sent to the authorize endpoint)');
    if (options.redirectUri !== undefined && options.redirectUri !== stored.redirectUri)
      throw new OAuthError(400, 'invalid_grant', 'redirect URI does not match the authorization request');
    const scopes = withinGrant(grant, options.scopes);
    stored.usedAtMs = now;
    return this.mint(grant, scopes);
  }

  /**
   * refresh_token grant; always answers a new access and a new refresh token. `rotate`: the presented
   * refresh token is spent (a second use is a replay, invalid_grant); `reuse`: it stays valid — the
   * Flowe guide finds it "not useful to use the new refresh token" since the chain ends 90 days after
   * the login whichever token is presented.
   */
  refresh(profile: Profile, clientId: string, refreshToken: string, options: { scopes?: readonly string[]; rotation: RefreshTokenMode }): TokenResponse {
    const now = this.clock.nowMs();
    const stored = this.store.refreshTokens.get(refreshToken);
    const grant = stored === undefined ? undefined : this.store.grants.get(stored.grantId);
    if (stored === undefined || grant === undefined || grant.profile !== profile || grant.clientId !== clientId) {
      throw new OAuthError(400, 'invalid_grant', 'unknown refresh token');
    }
    if (stored.rotatedAtMs !== undefined && options.rotation === 'rotate') throw new OAuthError(400, 'invalid_grant', 'refresh token already used (rotated)');
    if (grant.revoked) throw new OAuthError(400, 'invalid_grant', 'grant revoked');
    if (profile === 'flowe' && now >= this.reloginDeadlineMs(grant)) {
      // Flowe guide, section 3: "90 days after step 3 the Identity Provider requires to restart the
      // authentication process from step 2, refusing old refresh tokens" — however fresh they are.
      throw new OAuthError(400, 'invalid_grant', 'AADB2C90080: The provided grant has expired. Please re-authenticate and try again.');
    }
    const scopes = withinGrant(grant, options.scopes);
    stored.rotatedAtMs ??= now;
    return this.mint(grant, scopes);
  }

  /**
   * Resolves a bearer token on an API call, or answers 401 TOKEN_UNKNOWN / TOKEN_EXPIRED. The grant
   * comes back with the scopes of this token (a narrower scope may have been asked for at the token endpoint).
   */
  authenticate(profile: Profile, token: string): Grant {
    const stored = this.store.accessTokens.get(token);
    const grant = stored === undefined ? undefined : this.store.grants.get(stored.grantId);
    if (stored === undefined || grant === undefined || stored.profile !== profile) {
      throw new BgError(401, 'TOKEN_UNKNOWN', 'The access token is not known to this bank');
    }
    if (grant.revoked) throw new BgError(401, 'TOKEN_INVALID', 'The access token has been revoked');
    if (this.clock.nowMs() >= stored.expiresAtMs) throw new BgError(401, 'TOKEN_EXPIRED', 'The access token has expired');
    return { ...grant, scopes: stored.scopes };
  }

  /** `POST /admin/tokens/expire`: every access token of the profile expires now. */
  expireAccessTokens(profile: Profile): number {
    const now = this.clock.nowMs();
    let count = 0;
    for (const token of this.store.accessTokens.values()) {
      if (token.profile === profile && token.expiresAtMs > now) {
        token.expiresAtMs = now;
        count++;
      }
    }
    return count;
  }

  reloginDeadlineMs(grant: Grant): number {
    return grant.authenticatedAtMs + this.config.floweReloginDays * DAY_MS;
  }

  private mint(grant: Grant, scopes: readonly string[]): TokenResponse {
    const now = this.clock.nowMs();
    const ttl = this.config.accessTokenTtlSeconds;
    const access = randomToken();
    const quirks = this.quirks.tokenQuirksFor(grant.profile);
    this.store.accessTokens.set(access, { token: access, grantId: grant.id, profile: grant.profile, scopes, expiresAtMs: now + ttl * 1000 });
    const body: TokenResponse = { access_token: access, token_type: quirks.tokenType ?? 'Bearer', expires_in: ttl };
    // ConnectPay's document never mentions refresh tokens: omitRefreshToken plays a bank that issues none.
    if (quirks.omitRefreshToken !== true) {
      const refresh = randomToken();
      this.store.refreshTokens.set(refresh, { token: refresh, grantId: grant.id });
      body.refresh_token = refresh;
    }
    // Flowe guide: "all refresh tokens have a 90 days lifetime" — reported as such even though the chain
    // ends 90 days after the first login; the client has to track that deadline itself.
    if (grant.profile === 'flowe') body.refresh_token_expires_in = this.config.floweReloginDays * 24 * 3600;
    // Only what the PSU granted (ConnectPay's page lets the PSU untick scopes), or the narrower scope asked for.
    body.scope = scopes.join(' ');
    if (quirks.omitExpiresIn === true) delete body.expires_in;
    if (quirks.omitScope === true) delete body.scope;
    return body;
  }
}

/**
 * RFC 6749 6: a requested scope "MUST NOT include any scope not originally granted"; a narrower one is
 * honoured. Without a scope parameter the token carries every granted scope.
 */
function withinGrant(grant: Grant, requested: readonly string[] | undefined): readonly string[] {
  if (requested === undefined || requested.length === 0) return grant.scopes;
  const extra = requested.filter((s) => !grant.scopes.includes(s));
  if (extra.length > 0) throw new OAuthError(400, 'invalid_scope', `scope not granted by the PSU: ${extra.join(' ')}`);
  return grant.scopes.filter((s) => requested.includes(s));
}
