import type { BankConfig } from '../../config/banks.config.js';
import type { BankFailureCause } from '../bank-error.js';

/**
 * What an operator should check when a bank refuses us rather than the user's grant: the line an
 * error log carries next to the cause. Names variables, never their values.
 */
export function fixHint(bank: BankConfig, cause: BankFailureCause): string | undefined {
  const v = `${bank.id.toUpperCase().replace(/-/g, '_')}_`;
  switch (cause) {
    case 'subscription_key_refused':
      return bank.subscriptionKey
        ? `${bank.name}'s API gateway refused the subscription key: check ${v}SUBSCRIPTION_KEY (was it rotated?) and ${v}SUBSCRIPTION_KEY_HEADERS`
        : `${bank.name} answered 401 without naming the token: check whether it needs a subscription key (${v}SUBSCRIPTION_KEY) or another credential`;
    case 'client_auth_failed':
      return `${bank.name}'s token endpoint refused our client authentication: check ${v}CLIENT_ID and ${v}CLIENT_SECRET (has the secret expired?) and the client certificate (${v}TLS_CERT_FILE)`;
    case 'certificate_refused':
      return `${bank.name} refused our client certificate: check ${v}TLS_CERT_FILE / ${v}TLS_KEY_FILE (expired, revoked, not registered with the bank?)`;
    case 'tls_refused':
      return `the TLS handshake with ${bank.name} failed: check ${v}TLS_CERT_FILE / ${v}TLS_KEY_FILE and ${v}TLS_CA_FILE, and whether the bank still accepts our certificate`;
    case 'token_request_refused':
      return `${bank.name}'s token endpoint refused the request itself: check ${v}SCOPES_* and ${v}REDIRECT_URI against the bank's registration`;
    case 'token_refused_after_refresh':
      return `${bank.name} refused a freshly refreshed access token: check the scopes granted (${v}SCOPES_*), the subscription key and the certificate; the user's grant is kept`;
    case 'dns_failure':
    case 'connection_refused':
      return `${bank.name} could not be reached: check ${v}TOKEN_URL / ${v}AIS_BASE_URL / ${v}PIS_BASE_URL and the network path`;
    default:
      return undefined;
  }
}
