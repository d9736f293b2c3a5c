import { CONNECTPAY_PROPRIETARY_SCOPES, CONNECTPAY_PSD2_SCOPES, type ConnectPayClientConfig } from '../../config.js';
import { AuthorizePageError } from '../oauth-error.js';

export interface ConnectPayAuthorizeRequest {
  readonly clientId: string;
  readonly redirectUrl: string;
  readonly state: string;
  readonly nonce: string;
  readonly scopes: readonly string[];
}

export const CONNECTPAY_FLOW_ID = 'GetPSD2AuthCode';
const GUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;

/**
 * Checks the "Get authCode API" query (ConnectPay, "Getting authCode"). The sandbox answers every error
 * with a 400 page and never redirects: first the client and redirect_url (a redirect would go to an
 * unverified place), then the remaining parameters (the document does not say how the bank reports them).
 */
export function validateConnectPayAuthorize(query: Record<string, unknown>, client: ConnectPayClientConfig): ConnectPayAuthorizeRequest {
  const param = (name: string): string | undefined => {
    const value = query[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string') throw new AuthorizePageError(400, 'invalid_request', `${name} must appear once`);
    return value;
  };
  const clientId = param('client_id');
  if (clientId !== client.clientId) throw new AuthorizePageError(400, 'invalid_client', 'Unknown client_id.');

  const redirectUrl = param('redirect_url');
  if (redirectUrl === undefined) {
    const hint = query.redirect_uri !== undefined ? ' (ConnectPay calls it redirect_url, not redirect_uri)' : '';
    throw new AuthorizePageError(400, 'invalid_request', `redirect_url is required${hint}.`);
  }
  checkRedirectUrl(redirectUrl, client.callbackHosts);

  if (param('response_type') !== 'code') throw new AuthorizePageError(400, 'unsupported_response_type', 'response_type must be code.');
  if (param('flowid') !== CONNECTPAY_FLOW_ID) throw new AuthorizePageError(400, 'invalid_request', `flowid must be ${CONNECTPAY_FLOW_ID}.`);
  const nonce = param('nonce');
  if (nonce === undefined || !GUID_V4.test(nonce)) throw new AuthorizePageError(400, 'invalid_request', 'nonce must be a GUIDv4 string.');
  const state = param('state');
  if (state === undefined || state === '' || state.length > 512)
    throw new AuthorizePageError(400, 'invalid_request', 'state is required (at most 512 characters).');
  return { clientId, redirectUrl, state, nonce, scopes: parseScopes(param('scope')) };
}

/** "Hostname in parameter will be validated against callback URL list" and "cannot contain query parameters". */
function checkRedirectUrl(redirectUrl: string, hosts: readonly string[]): void {
  let url: URL;
  try {
    url = new URL(redirectUrl);
  } catch {
    throw new AuthorizePageError(400, 'invalid_request', 'redirect_url must be an absolute URL.');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new AuthorizePageError(400, 'invalid_request', 'redirect_url must be an http(s) URL.');
  if (redirectUrl.includes('?')) throw new AuthorizePageError(400, 'invalid_request', 'redirect_url must not contain a query string.');
  if (redirectUrl.includes('#')) throw new AuthorizePageError(400, 'invalid_request', 'redirect_url must not contain a fragment.');
  if (url.username !== '' || url.password !== '') throw new AuthorizePageError(400, 'invalid_request', 'redirect_url must not contain credentials.');
  if (!hosts.includes(url.hostname))
    throw new AuthorizePageError(400, 'invalid_request', `redirect_url host ${url.hostname} is not on the client's callback list.`);
}

/** Space-separated; only psd2-ais / psd2-pis; "you can't mix PSD2 and Connect Propriety scopes". */
function parseScopes(scope: string | undefined): string[] {
  const scopes = [...new Set((scope ?? '').split(' ').filter((s) => s !== ''))];
  if (scopes.length === 0) throw new AuthorizePageError(400, 'invalid_scope', 'scope is required (psd2-ais and/or psd2-pis).');
  const psd2 = scopes.filter((s) => (CONNECTPAY_PSD2_SCOPES as readonly string[]).includes(s));
  const proprietary = scopes.filter((s) => (CONNECTPAY_PROPRIETARY_SCOPES as readonly string[]).includes(s));
  const unknown = scopes.filter((s) => !psd2.includes(s) && !proprietary.includes(s));
  if (unknown.length > 0) throw new AuthorizePageError(400, 'invalid_scope', `Unknown scope: ${unknown.join(' ')}.`);
  if (proprietary.length > 0 && psd2.length > 0)
    throw new AuthorizePageError(400, 'invalid_scope', 'PSD2 and proprietary scopes cannot be mixed in one request.');
  if (psd2.length === 0)
    throw new AuthorizePageError(400, 'invalid_scope', `Only PSD2 scopes (psd2-ais, psd2-pis) are available with flowid ${CONNECTPAY_FLOW_ID}.`);
  return psd2;
}
