import type { Service } from '../../config/banks.config.js';
import { AspspAdapter, type AuthorizationInput } from '../aspsp-adapter.js';

/** Flowe's Azure B2C sign-in policy, sent as `p` on both the authorize and the token request. */
export const FLOWE_POLICY = 'B2C_1A_Psd2_SignIn';

/**
 * Flowe (Open Banking Interface v2.0.0): Azure B2C IdP with `p=B2C_1A_Psd2_SignIn` and
 * `prompt=login`; the scope string is `offline_access` + `user_impersonation` + `aisp` and/or
 * `pisp` (the role not needed is dropped); no PKCE (forbidden: the backend is the confidential
 * client); the token request repeats the scope and goes over mutual TLS with the TPP's QWAC.
 * 90 days after the first login every refresh token is refused: the PSU must log in again.
 */
export class FloweAdapter extends AspspAdapter {
  readonly usesNonce = false;
  readonly standardRedirectParam = true;
  readonly reloginAfterDays = 90;

  authorizationParams(input: AuthorizationInput): Record<string, string> {
    return { p: FLOWE_POLICY, prompt: 'login', scope: this.scopesFor(input.services).join(' ') };
  }

  tokenParams(_grant: 'authorization_code' | 'refresh_token', services: Service[]): Record<string, string> {
    return { scope: this.scopesFor(services).join(' ') };
  }

  override tokenEndpoint(): string {
    const url = new URL(this.bank.tokenUrl);
    if (!url.searchParams.has('p')) url.searchParams.set('p', FLOWE_POLICY);
    return url.toString();
  }
}
