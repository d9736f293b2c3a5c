import { AspspAdapter, type AuthorizationInput } from '../aspsp-adapter.js';

/**
 * ConnectPay ("Generate authCode via API"): the authorize request carries `flowid=GetPSD2AuthCode`,
 * a GUIDv4 `nonce`, PSD2 scopes only (mixing with proprietary scopes is an error) and the callback
 * as `redirect_url` (not `redirect_uri`; no query string allowed). On denial the callback has
 * `state`, `flowid` and `error` but no `code`. Token refresh is not documented: RFC 6749 applies.
 */
export class ConnectPayAdapter extends AspspAdapter {
  readonly usesNonce = true;
  readonly standardRedirectParam = false;
  readonly reloginAfterDays = undefined;

  authorizationParams(input: AuthorizationInput): Record<string, string> {
    if (!input.nonce) throw new Error('ConnectPay requires a nonce');
    const scopes = this.scopesFor(input.services).filter((s) => s.startsWith('psd2-'));
    return {
      flowid: 'GetPSD2AuthCode',
      nonce: input.nonce,
      redirect_url: this.bank.redirectUri,
      scope: scopes.join(' '),
    };
  }

  tokenParams(grant: 'authorization_code' | 'refresh_token'): Record<string, string> {
    return grant === 'authorization_code' ? { redirect_url: this.bank.redirectUri } : {};
  }
}
