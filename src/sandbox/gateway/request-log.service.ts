import { createHash } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import { SandboxClock } from '../clock/sandbox-clock.js';
import type { Profile } from '../config.js';
import type { FaultOutcome } from '../faults/faults.service.js';
import type { ClientCertState, RequestContext, RouteKind } from './request-context.js';

/** One authorize, token or API request as the sandbox saw it. Never holds a secret, code or token. */
export interface RequestLogEntry {
  readonly seq: number;
  readonly profile: Profile;
  readonly route: string;
  readonly kind: RouteKind;
  readonly method: string;
  readonly path: string;
  /** Payment, consent or account id addressed in the path. */
  readonly resourceId?: string;
  /** Consent-ID header, or the consent id in the path. */
  readonly consentId?: string;
  /** Token requests: `authorization_code` or `refresh_token`. */
  readonly grantType?: string;
  /**
   * Token requests: the form body field by field, in the order sent, secrets masked
   * (`client_secret`, `code`, `refresh_token`, … → `sha256:<first 12 hex digits>` of the value).
   */
  readonly form?: Readonly<Record<string, string | readonly string[]>>;
  /** Token requests: the query string (Flowe's `p` policy). */
  readonly query?: Readonly<Record<string, string | readonly string[]>>;
  /** Token requests: how the client authenticated (`body`, `basic`, `both`, `none`). */
  readonly clientAuth?: 'body' | 'basic' | 'both' | 'none';
  /** API requests: the PSU IP header spellings sent (recognised by the bank's mode or not). */
  readonly psuIpHeaders?: readonly string[];
  /** API requests: the subscription-key header spellings sent (names only). */
  readonly subscriptionKeyHeaders?: readonly string[];
  /** True when the bank recognised a PSU IP header (an attended request). */
  readonly psuIpPresent: boolean;
  readonly psuIp?: string;
  readonly xRequestId?: string;
  readonly clientCert: ClientCertState;
  readonly clientCertVerified: boolean;
  /** Real time, ms since the epoch. */
  readonly timestampMs: number;
  /** The sandbox clock at arrival. */
  readonly sandboxTime: string;
  /** HTTP status answered; 0 while pending or when the socket closed without an answer. */
  status: number;
  durationMs?: number;
  fault?: FaultOutcome;
}

const MAX_ENTRIES = 20_000;
/** Form and query fields whose values are secrets (RFC 6749 and friends); logged only as a short hash. */
const SECRET_FIELDS = new Set(['client_secret', 'code', 'refresh_token', 'password', 'client_assertion', 'code_verifier', 'assertion']);

/** Request log and status counters (`GET /admin/requests`, `GET /admin/stats`). */
@Injectable()
export class RequestLogService {
  private entries: RequestLogEntry[] = [];
  private stats = new Map<string, number>();
  private seq = 0;

  constructor(private readonly clock: SandboxClock) {}

  start(context: RequestContext, req: Request, res: Response): RequestLogEntry {
    const params = req.params as Record<string, string | undefined>;
    const body = req.body as Record<string, unknown> | undefined;
    const consentHeader = req.get('consent-id');
    const token = context.route.kind === 'token';
    const api = context.route.kind === 'ais' || context.route.kind === 'pis';
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      profile: context.profile,
      route: context.route.name,
      kind: context.route.kind,
      method: req.method,
      path: req.path,
      resourceId: params.paymentId ?? params.consentId ?? params.accountId,
      consentId: params.consentId ?? consentHeader,
      grantType: token && typeof body?.grant_type === 'string' ? body.grant_type.slice(0, 40) : undefined,
      ...(token
        ? { form: masked(req.is('application/x-www-form-urlencoded') ? body : undefined), query: masked(req.query), clientAuth: clientAuthOf(req, body) }
        : {}),
      ...(api ? { psuIpHeaders: context.psuIpHeaders, subscriptionKeyHeaders: context.subscriptionKeyHeaders } : {}),
      psuIpPresent: context.psuIp !== undefined,
      psuIp: context.psuIp,
      xRequestId: context.requestId,
      clientCert: context.clientCert,
      clientCertVerified: context.clientCert === 'verified',
      timestampMs: Date.now(),
      sandboxTime: this.clock.now().toISOString(),
      status: 0,
    };
    this.entries.push(entry);
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    let settled = false;
    const settle = (status: number): void => {
      if (settled) return;
      settled = true;
      entry.status = status;
      entry.durationMs = Date.now() - entry.timestampMs;
      const key = `${entry.profile}|${entry.route}|${status}`;
      this.stats.set(key, (this.stats.get(key) ?? 0) + 1);
    };
    res.once('finish', () => settle(res.statusCode));
    res.once('close', () => settle(res.writableFinished ? res.statusCode : 0));
    return entry;
  }

  list(filter: { profile?: string; route?: string } = {}): RequestLogEntry[] {
    return this.entries.filter(
      (e) => (filter.profile === undefined || e.profile === filter.profile) && (filter.route === undefined || e.route === filter.route),
    );
  }

  /** Counts by profile, then route, then HTTP status. */
  counts(): Record<string, Record<string, Record<string, number>>> {
    const out: Record<string, Record<string, Record<string, number>>> = {};
    for (const [key, count] of this.stats) {
      const [profile, route, status] = key.split('|') as [string, string, string];
      ((out[profile] ??= {})[route] ??= {})[status] = count;
    }
    return out;
  }

  reset(): void {
    this.entries = [];
    this.stats = new Map();
  }
}

/** A form or query object with every secret value replaced by a short hash; bounded in size. */
function masked(source: unknown): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (typeof source !== 'object' || source === null) return out;
  for (const [name, value] of Object.entries(source as Record<string, unknown>).slice(0, 30)) {
    const mask = (v: unknown): string => {
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      return SECRET_FIELDS.has(name) ? `sha256:${createHash('sha256').update(text).digest('hex').slice(0, 12)}` : text.slice(0, 500);
    };
    out[name.slice(0, 60)] = Array.isArray(value) ? value.slice(0, 10).map(mask) : mask(value);
  }
  return out;
}

function clientAuthOf(req: Request, body: Record<string, unknown> | undefined): 'body' | 'basic' | 'both' | 'none' {
  const basic = /^basic /i.test(req.get('authorization') ?? '');
  const inBody = typeof body?.client_secret === 'string';
  return basic && inBody ? 'both' : basic ? 'basic' : inBody ? 'body' : 'none';
}
