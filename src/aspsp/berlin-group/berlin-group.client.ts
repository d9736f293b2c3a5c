import type { BankConfig } from '../../config/banks.config.js';
import { BankError, type BankErrorKind, type TppMessage } from '../bank-error.js';
import type { BankHttpClient, BankResponse } from '../http/bank-http.client.js';

export type BerlinGroupService = 'ais' | 'pis';

export interface BerlinGroupRequest {
  method: 'GET' | 'POST' | 'DELETE' | 'PUT';
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
const TOKEN_CODES = new Set(['TOKEN_INVALID', 'TOKEN_EXPIRED', 'TOKEN_UNKNOWN', 'UNAUTHORIZED']);

/**
 * What every NextGenPSD2 bank shares: the headers (a fresh `X-Request-ID` per call, the bearer
 * token, the subscription key where the bank has one, `PSU-IP-Address`, `Consent-ID`), `_links`
 * resolution, and `tppMessages` errors turned into BankError kinds the callers act on.
 */
export class BerlinGroupClient {
  constructor(
    private readonly bank: BankConfig,
    private readonly http: BankHttpClient,
  ) {}

  async call<T = unknown>(req: BerlinGroupRequest): Promise<{ status: number; body: T; headers: BankResponse['headers'] }> {
    const headers: Record<string, string> = { Authorization: `Bearer ${req.accessToken}` };
    if (this.bank.subscriptionKey) headers[this.bank.subscriptionKey.header] = this.bank.subscriptionKey.value;
    if (req.psuIpAddress) headers['PSU-IP-Address'] = req.psuIpAddress;
    if (req.consentId) headers['Consent-ID'] = req.consentId;
    const res = await this.http.send({ method: req.method, url: this.resolve(req.service, req.path), headers, json: req.json, retry: req.retry, requestId: true });
    if (res.status >= 400) throw this.toError(res);
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
    if (res.status === 429) kind = 'rate_limited';
    else if (code && CONSENT_CODES.has(code)) kind = 'consent_invalid';
    else if (res.status === 401 && (!code || TOKEN_CODES.has(code))) kind = 'token_invalid';
    else kind = 'rejected';
    return new BankError(this.bank.id, kind, code ? `the bank answered ${res.status} ${code}` : `the bank answered ${res.status}`, {
      status: res.status,
      bankCode: code,
      tppMessages: messages,
      retryAfterSeconds: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
    });
  }
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
