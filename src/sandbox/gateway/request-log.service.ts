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
    const entry: RequestLogEntry = {
      seq: ++this.seq,
      profile: context.profile,
      route: context.route.name,
      kind: context.route.kind,
      method: req.method,
      path: req.path,
      resourceId: params.paymentId ?? params.consentId ?? params.accountId,
      consentId: params.consentId ?? consentHeader,
      grantType: context.route.kind === 'token' && typeof body?.grant_type === 'string' ? body.grant_type.slice(0, 40) : undefined,
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
    return this.entries.filter((e) => (filter.profile === undefined || e.profile === filter.profile) && (filter.route === undefined || e.route === filter.route));
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
