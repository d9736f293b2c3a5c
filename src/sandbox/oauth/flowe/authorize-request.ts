import { FLOWE_POLICY, FLOWE_SCOPES, type FloweClientConfig } from '../../config.js';
import { AuthorizePageError } from '../oauth-error.js';

export interface FloweAuthorizeRequest {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly state: string;
  readonly scopes: readonly string[];
}

/** An error reported back to a verified redirect URI (RFC 6749 4.1.2.1), as Azure B2C does. */
export class FloweRedirectError extends Error {
  constructor(
    readonly redirectUri: string,
    readonly state: string | undefined,
    readonly error: string,
    readonly description: string,
  ) {
    super(`${error}: ${description}`);
  }
}

const KNOWN_SCOPES: readonly string[] = Object.values(FLOWE_SCOPES);

/**
 * Checks `<IDP>/oauth2/v2.0/authorize?p=B2C_1A_Psd2_SignIn&client_id&state&redirect_uri&scope&response_type=code&prompt=login`
 * (Flowe guide, section 3). Bad policy, client or redirect URI → 400 page; anything else → redirect back
 * with `error`, `error_description` and `state`.
 */
export function validateFloweAuthorize(query: Record<string, unknown>, client: FloweClientConfig, promptLoginRequired: boolean): FloweAuthorizeRequest {
  const param = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new AuthorizePageError(400, 'invalid_request', `${name} must appear once`);
    return value;
  };
  if (param('p')?.toLowerCase() !== FLOWE_POLICY.toLowerCase())
    throw new AuthorizePageError(400, 'invalid_request', `Unknown policy: p must be ${FLOWE_POLICY}.`);
  const clientId = param('client_id');
  if (clientId !== client.clientId) throw new AuthorizePageError(400, 'unauthorized_client', 'AADB2C90117: Unknown client_id.');
  const redirectUri = param('redirect_uri');
  if (redirectUri === undefined || !isRegisteredRedirect(redirectUri, client)) {
    throw new AuthorizePageError(400, 'invalid_request', 'AADB2C90006: The redirect URI provided in the request is not registered for the client id.');
  }

  const state = param('state');
  const fail = (error: string, description: string): never => {
    throw new FloweRedirectError(redirectUri, state, error, description);
  };
  if (param('response_type') !== 'code') fail('unsupported_response_type', 'response_type must be code.');
  // Flowe guide: "OAuth2 Authorization Code Grant with PKCE ... [is] not allowed": the confidential backend is the client.
  if (query.code_challenge !== undefined || query.code_challenge_method !== undefined) {
    fail('invalid_request', 'PKCE (code_challenge) is not allowed: Flowe requires the confidential client flow.');
  }
  if (state === undefined || state === '') fail('invalid_request', 'state is required.');
  // The guide's authorize URL ends with prompt=login: the PSU signs in every time, no IdP session reuse.
  if (promptLoginRequired && param('prompt') !== 'login') fail('invalid_request', 'prompt=login is required.');
  const scopes = [...new Set((param('scope') ?? '').split(' ').filter((s) => s !== ''))];
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s));
  if (unknown.length > 0) fail('invalid_scope', `Unknown scope: ${unknown.join(' ')}.`);
  if (!scopes.includes(FLOWE_SCOPES.offlineAccess) || !scopes.includes(FLOWE_SCOPES.userImpersonation)) {
    fail('invalid_scope', 'scope must contain offline_access and user_impersonation.');
  }
  if (!scopes.includes(FLOWE_SCOPES.aisp) && !scopes.includes(FLOWE_SCOPES.pisp)) fail('invalid_scope', 'scope must contain the aisp and/or pisp scope.');
  return { clientId, redirectUri, state: state!, scopes };
}

const LOCAL_CALLBACK = /^http:\/\/(localhost|127\.0\.0\.1):\d{1,5}\/auth\/flowe\/callback$/;

export function isRegisteredRedirect(uri: string, client: FloweClientConfig): boolean {
  return client.redirectUris.includes(uri) || (client.allowLocalCallbackOnAnyPort && LOCAL_CALLBACK.test(uri));
}
