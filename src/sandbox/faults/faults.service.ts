import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { Request } from 'express';
import type { Profile } from '../config.js';
import { FaultError } from '../gateway/gateway-errors.js';
import type { RequestContext } from '../gateway/request-context.js';

/** One rule of `POST /admin/faults`. */
export interface FaultRule {
  readonly profile: Profile | '*';
  /** A route name (`token`, `consents`, `accounts`, `transactions`, `payments`, `payment-status`, ...) or `*`. */
  readonly route: string;
  readonly latencyMs?: number;
  /** Probability (0..1) of answering `errorStatus` instead of handling the request. */
  readonly errorRate?: number;
  readonly errorStatus?: 500 | 503;
  /** Probability (0..1) of destroying the socket without an answer. */
  readonly resetRate?: number;
  readonly force429?: boolean;
  readonly retryAfterSeconds?: number;
  /** Accept the request and never answer. */
  readonly hang?: boolean;
  /** Apply to this many matching requests only, then stop (default: until cleared). */
  readonly times?: number;
}

interface ActiveRule {
  readonly rule: FaultRule;
  remaining: number;
}

/** What a fault did to a request, for the request log. */
export type FaultOutcome = 'hang' | 'reset';

/**
 * Fault knobs, applied by the gateway before normal handling of a route (and before its auth checks).
 * Matching: the most specific rule wins — exact profile and route, then exact profile with route `*`,
 * then profile `*` with the exact route, then `*`/`*`. Route `*` covers token and API routes only;
 * the browser-facing `authorize` route must be named explicitly.
 */
@Injectable()
export class FaultsService {
  private readonly rules = new Map<string, ActiveRule>();

  set(rule: FaultRule): void {
    this.rules.set(`${rule.profile}|${rule.route}`, { rule, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  list(): FaultRule[] {
    return [...this.rules.values()].map((r) => r.rule);
  }

  clear(): void {
    this.rules.clear();
  }

  /**
   * Applies the matching rule: waits `latencyMs`, then hangs, resets, or throws a FaultError.
   * Resolves when the request may proceed normally.
   */
  async apply(context: RequestContext, req: Request, onOutcome: (outcome: FaultOutcome) => void): Promise<void> {
    const active = this.match(context);
    if (active === undefined || active.remaining <= 0) return;
    active.remaining -= 1;
    const { rule } = active;
    if (rule.latencyMs !== undefined && rule.latencyMs > 0) await sleep(rule.latencyMs);
    if (rule.hang === true) {
      onOutcome('hang');
      return never();
    }
    if (rule.resetRate !== undefined && Math.random() < rule.resetRate) {
      onOutcome('reset');
      req.socket.destroy();
      return never();
    }
    if (rule.force429 === true) throw new FaultError(429, rule.retryAfterSeconds);
    if (rule.errorRate !== undefined && Math.random() < rule.errorRate) {
      throw new FaultError(rule.errorStatus ?? 503, rule.retryAfterSeconds);
    }
  }

  private match({ profile, route }: RequestContext): ActiveRule | undefined {
    const keys =
      route.kind === 'authorize'
        ? [`${profile}|${route.name}`, `*|${route.name}`]
        : [`${profile}|${route.name}`, `${profile}|*`, `*|${route.name}`, '*|*'];
    for (const key of keys) {
      const found = this.rules.get(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/** A promise that never settles: the request stays open until the client or the server gives up. */
function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}
