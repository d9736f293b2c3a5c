import type { BankConfig } from '../../config/banks.config.js';
import { BankError, type BankErrorKind, type BankFailureCause, type TppMessage } from '../bank-error.js';
import type { BankHttpClient, BankResponse } from '../http/bank-http.client.js';
import { psuIpForBank } from './psu-ip.js';

export type BerlinGroupService = 'ais' | 'pis';

export interface BerlinGroupRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
  /** What is asked, for metrics and logs: `consent`, `consent-status`, `accounts`, `payment-status`, … */
  operation: string;
  service: BerlinGroupService;
  /** Path under the service's base URL (`/consents`, `/accounts/{id}/balances`), or an href from `_links`. */
  path: string;
  accessToken: string;
  /** The PSU's IP: present = an attended request (Flowe: does not spend `frequencyPerDay`). */
  psuIpAddress?: string;
  consentId?: string;
  json?: unknown;
  /** Safe to repeat (reads, status polls): transient failures are retried with backoff. */
  retry?: boolean;
}

const CONSENT_CODES = new Set(['CONSENT_INVALID', 'CONSENT_EXPIRED', 'CONSENT_UNKNOWN', 'SESSION_TERMINATED']);
/** Codes that name the user's access token: refresh once and retry. */
const TOKEN_CODES = new Set(['TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_UNKNOWN']);
/** Codes that name our own credentials (the TPP's certificate, signature or role): an operator must act. */
const TPP_CREDENTIAL_CODES = new Set([
  'CERTIFICATE_INVALID',
  'CERTIFICATE_EXPIRED',
  'CERTIFICATE_BLOCKED',
  'CERTIFICATE_REVOKED',
  'CERTIFICATE_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_MISSING',
  'ROLE_INVALID',
]);

/**
 * What every NextGenPSD2 bank shares: the headers (a fresh `X-Request-ID` per call, the bearer
 * token, the subscription key under each configured spelling, the PSU's IP under each configured
 * spelling, `Consent-ID`), `_links` resolution, and error answers turned into BankError kinds the
 * callers act on. A 401 is the user's token only when the bank says so (`TOKEN_*`, or an RFC 6750
 * `invalid_token` challenge): a bare 401 — Flowe's API gateway refusing the subscription key — or
 * one naming our certificate is a configuration error, never a reason to end a grant.
 */
export class BerlinGroupClient {
  constructor(
    private readonly bank: BankConfig,
    private readonly http: BankHttpClient,
  ) {}

  async call<T = unknown>(req: BerlinGroupRequest): Promise<{ status: number; body: T; headers: BankResponse['headers'] }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${req.accessToken}` };
    // A gateway ignores a header name it does not know: every spelling the bank may read is sent.
    for (const name of this.bank.subscriptionKey?.headers ?? []) headers[name] = this.bank.subscriptionKey!.value;
    if (req.psuIpAddress) {
      const ip = psuIpForBank(req.psuIpAddress, this.bank.psuIp);
      for (const name of this.bank.psuIp.headers) headers[name] = ip;
    }
    if (req.consentId) headers['Consent-ID'] = req.consentId;
    const res = await this.http.send({
      method: req.method,
      operation: req.operation,
      url: this.resolve(req.service, req.path),
      headers,
      json: req.json,
      retry: req.retry,
      requestId: true,
      classify: (answer) => this.toError(answer),
    });
    return { status: res.status, body: res.body as T, headers: res.headers };
  }

  /**
   * A path or a `_links` href onto the configured base. Banks write hrefs relative to the host
   * (`/flowe/openbankingais/v1/…`), relative to the API version (`/v1/…`, as in the Flowe guide's
   * samples) or absolute; only hrefs on the bank's own configured origin are ever followed.
   */
  resolve(service: BerlinGroupService, pathOrHref: string): string {
    const base = new URL(service === 'ais' ? this.bank.aisBaseUrl : this.bank.pisBaseUrl);
    if (/^https?:\/\//i.test(pathOrHref)) {
      const absolute = new URL(pathOrHref);
      if (absolute.origin !== base.origin) throw new BankError(this.bank.id, 'unexpected', 'the bank linked to another host');
      return absolute.toString();
    }
    const basePath = base.pathname.replace(/\/+$/, '');
    if (pathOrHref.startsWith(`${basePath}/`)) return new URL(pathOrHref, base.origin).toString();
    const versioned = pathOrHref.match(/^\/v\d+(\/.*)$/);
    const rest = versioned && basePath.match(/\/v\d+$/) ? versioned[1] : pathOrHref;
    return new URL(`${basePath}${rest.startsWith('/') ? '' : '/'}${rest}`, base.origin).toString();
  }

  private toError(res: BankResponse): BankError {
    const messages = tppMessagesOf(res.body);
    const code = messages[0]?.code;
    const retryAfter = Number(res.headers['retry-after']);
    let kind: BankErrorKind;
    let cause: BankFailureCause | undefined;
    if (res.status === 429) kind = 'rate_limited';
    else if (code && CONSENT_CODES.has(code)) kind = 'consent_invalid';
    else if (code && TOKEN_CODES.has(code)) kind = 'token_invalid';
    else if (code && TPP_CREDENTIAL_CODES.has(code)) [kind, cause] = ['misconfigured', 'certificate_refused'];
    else if (res.status === 401 && !code && namesInvalidToken(res.headers['www-authenticate'])) kind = 'token_invalid';
    else if (res.status === 401 && !code) [kind, cause] = ['misconfigured', this.bank.subscriptionKey ? 'subscription_key_refused' : 'refused_without_reason'];
    else kind = 'rejected';
    const what = code
      ? `the bank answered ${res.status} ${code}`
      : kind === 'misconfigured'
        ? `the bank refused our credentials (${res.status})`
        : `the bank answered ${res.status}`;
    return new BankError(this.bank.id, kind, what, {
      status: res.status,
      bankCode: code,
      tppMessages: messages,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      cause,
    });
  }
}

/** RFC 6750 3.1: `WWW-Authenticate: Bearer error="invalid_token"` is the resource server naming the token. */
function namesInvalidToken(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(', ') : (header ?? '');
  return /error\s*=\s*"?invalid_token"?/i.test(value);
}

function tppMessagesOf(body: unknown): TppMessage[] {
  const raw = (body as { tppMessages?: unknown } | undefined)?.tppMessages;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null && typeof (m as { code?: unknown }).code === 'string')
    .slice(0, 10)
    .map((m) => ({
      category: typeof m.category === 'string' ? m.category.slice(0, 20) : undefined,
      code: String(m.code).slice(0, 70),
      text: typeof m.text === 'string' ? m.text.slice(0, 500) : undefined,
      path: typeof m.path === 'string' ? m.path.slice(0, 200) : undefined,
    }));
}
