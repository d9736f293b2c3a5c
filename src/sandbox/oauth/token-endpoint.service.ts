import { Inject, Injectable } from '@nestjs/common';
import type { Request } from 'express';
import { SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import { ConfigFaultsService } from '../faults/config-faults.service.js';
import { BankModesService } from '../modes/bank-modes.service.js';
import { authenticateClient } from './client-auth.js';
import { requireForm, singleParam } from './form.js';
import { OAuthError } from './oauth-error.js';
import { TokenService, type TokenResponse } from './token.service.js';

/** How one bank's token endpoint reads the grant's parameters. */
export interface TokenDialect {
  /** Form fields that carry the redirect URI, first match wins. */
  readonly redirectParams: readonly string[];
  /** Whether the code exchange must repeat it. */
  readonly redirectRequired: boolean;
  /** Every scope the bank knows (anything else is invalid_scope). */
  readonly knownScopes: readonly string[];
}

/**
 * The part both token endpoints share (RFC 6749 4.1.3 and 6): form body, client authentication as
 * the bank's `tokenClientAuth` mode allows, the expired-secret knob, `scope` (required where the
 * bank's `tokenScopeRequired` mode says so), then the grant itself.
 */
@Injectable()
export class TokenEndpointService {
  constructor(
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly tokens: TokenService,
    private readonly modes: BankModesService,
    private readonly configFaults: ConfigFaultsService,
  ) {}

  handle(profile: Profile, req: Request, dialect: TokenDialect): TokenResponse {
    const body = requireForm(req);
    const modes = this.modes.of(profile);
    const clientId = authenticateClient(req, body, this.config[profile], modes.tokenClientAuth === 'body-or-basic');
    if (this.configFaults.of(profile).clientSecretExpired) {
      // Flowe guide, section 2: the secret has an expiration date; the IdP then refuses the client, not the grant.
      const description =
        profile === 'flowe' ? `AADSTS7000222: The provided client secret keys for app '${clientId}' are expired.` : 'the client secret has expired';
      throw new OAuthError(401, 'invalid_client', description);
    }
    const scope = singleParam(body, 'scope');
    if (scope === undefined && modes.tokenScopeRequired)
      throw new OAuthError(400, 'invalid_request', 'scope is required (the same scope string as the authorize request)');
    const scopes = scope === undefined ? undefined : [...new Set(scope.split(' ').filter((s) => s !== ''))];
    const unknown = (scopes ?? []).filter((s) => !dialect.knownScopes.includes(s));
    if (unknown.length > 0) throw new OAuthError(400, 'invalid_scope', `Unknown scope: ${unknown.join(' ')}`);

    const grantType = singleParam(body, 'grant_type');
    if (grantType === 'authorization_code') {
      const code = singleParam(body, 'code');
      if (code === undefined) throw new OAuthError(400, 'invalid_request', 'code is required');
      const redirect = dialect.redirectParams.map((name) => singleParam(body, name)).find((v) => v !== undefined);
      return this.tokens.exchangeCode(profile, clientId, code, { redirectUri: redirect, redirectRequired: dialect.redirectRequired, scopes });
    }
    if (grantType === 'refresh_token') {
      const refreshToken = singleParam(body, 'refresh_token');
      if (refreshToken === undefined) throw new OAuthError(400, 'invalid_request', 'refresh_token is required');
      return this.tokens.refresh(profile, clientId, refreshToken, { scopes, rotation: modes.refreshTokens });
    }
    if (grantType === undefined) throw new OAuthError(400, 'invalid_request', 'grant_type is required');
    throw new OAuthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
}
