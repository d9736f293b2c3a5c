import { setTimeout as sleep } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import type { Request, Response } from 'express';
import type { Profile } from '../config.js';
import { createPrng } from '../data/prng.js';
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
  /**
   * Handle the request (the consent, payment or token exists at the bank), then never answer
   * (`hang`: the client times out) or close the connection (`reset`).
   */
  readonly dropResponse?: 'hang' | 'reset';
  /** Handle the request, then hold the answer this long (a client with a shorter timeout gives up). */
  readonly responseDelayMs?: number;
  /**
   * Soak mode: this share (0..1) of matching requests gets one fault picked at random from
   * `mixedKinds` (default: all of them). `latencyMs` / `responseDelayMs` size the timing kinds.
   */
  readonly mixedRate?: number;
  readonly mixedKinds?: readonly MixedFaultKind[];
  /** Makes the soak mode's choices repeatable. */
  readonly seed?: string;
  /** Apply to this many matching requests only, then stop (default: until cleared). */
  readonly times?: number;
}

export const MIXED_FAULT_KINDS = [
  'error-500',
  'error-503',
  'rate-limit-429',
  'reset',
  'latency',
  'hang',
  'hang-after-handling',
  'reset-after-handling',
  'delay-after-handling',
] as const;
export type MixedFaultKind = (typeof MIXED_FAULT_KINDS)[number];

interface ActiveRule {
  readonly rule: FaultRule;
  readonly random: () => number;
  remaining: number;
}

/** What a fault did to a request, for the request log. */
export type FaultOutcome =
  'tls-refused' | 'latency' | 'hang' | 'reset' | 'rate-limited' | 'error' | 'hang-after-handling' | 'reset-after-handling' | 'delay-after-handling';

/** Default size of the soak mode's timing faults. */
const MIXED_DELAY_MS = 1500;

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
    const random = rule.seed === undefined ? Math.random : createPrng(rule.seed).next;
    this.rules.set(`${rule.profile}|${rule.route}`, { rule, random, remaining: rule.times ?? Number.POSITIVE_INFINITY });
  }

  list(): FaultRule[] {
    return [...this.rules.values()].map((r) => r.rule);
  }

  clear(): void {
    this.rules.clear();
  }

  /**
   * Applies the matching rule: waits `latencyMs`, then hangs, resets, or throws a FaultError; or
   * arranges for the answer to be held or dropped once the route has handled the request.
   * Resolves when the request may proceed.
   */
  async apply(context: RequestContext, req: Request, res: Response, onOutcome: (outcome: FaultOutcome) => void): Promise<void> {
    const active = this.match(context);
    if (active === undefined || active.remaining <= 0) return;
    active.remaining -= 1;
    const { rule, random } = active;
    if (rule.mixedRate !== undefined) {
      if (random() < rule.mixedRate) await this.mixed(rule, random, req, res, onOutcome);
      return;
    }
    if (rule.latencyMs !== undefined && rule.latencyMs > 0) await sleep(rule.latencyMs);
    if (rule.hang === true) {
      onOutcome('hang');
      return never();
    }
    if (rule.resetRate !== undefined && random() < rule.resetRate) {
      onOutcome('reset');
      req.socket.destroy();
      return never();
    }
    if (rule.force429 === true) throw new FaultError(429, rule.retryAfterSeconds);
    if (rule.errorRate !== undefined && random() < rule.errorRate) {
      throw new FaultError(rule.errorStatus ?? 503, rule.retryAfterSeconds);
    }
    if (rule.dropResponse !== undefined) afterHandling(res, rule.dropResponse, onOutcome);
    else if (rule.responseDelayMs !== undefined && rule.responseDelayMs > 0) afterHandling(res, rule.responseDelayMs, onOutcome);
  }

  private async mixed(rule: FaultRule, random: () => number, req: Request, res: Response, onOutcome: (outcome: FaultOutcome) => void): Promise<void> {
    const kinds = rule.mixedKinds !== undefined && rule.mixedKinds.length > 0 ? rule.mixedKinds : MIXED_FAULT_KINDS;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    switch (kind) {
      case 'error-500':
      case 'error-503':
        onOutcome('error');
        throw new FaultError(kind === 'error-500' ? 500 : 503, rule.retryAfterSeconds);
      case 'rate-limit-429':
        onOutcome('rate-limited');
        throw new FaultError(429, rule.retryAfterSeconds ?? 1);
      case 'reset':
        onOutcome('reset');
        req.socket.destroy();
        return never();
      case 'latency':
        onOutcome('latency');
        await sleep(rule.latencyMs ?? MIXED_DELAY_MS);
        return;
      case 'hang':
        onOutcome('hang');
        return never();
      case 'hang-after-handling':
        return afterHandling(res, 'hang', onOutcome);
      case 'reset-after-handling':
        return afterHandling(res, 'reset', onOutcome);
      case 'delay-after-handling':
        return afterHandling(res, rule.responseDelayMs ?? MIXED_DELAY_MS, onOutcome);
      default:
        return unreachable(kind);
    }
  }

  private match({ profile, route }: RequestContext): ActiveRule | undefined {
    const keys =
      route.kind === 'authorize' ? [`${profile}|${route.name}`, `*|${route.name}`] : [`${profile}|${route.name}`, `${profile}|*`, `*|${route.name}`, '*|*'];
    for (const key of keys) {
      const found = this.rules.get(key);
      if (found !== undefined) return found;
    }
    return undefined;
  }
}

/**
 * Lets the route do its work, then intercepts the answer at `res.end` (every Express answer ends
 * there): never send it, close the socket instead, or send it `delayMs` later.
 */
function afterHandling(res: Response, action: 'hang' | 'reset' | number, onOutcome: (outcome: FaultOutcome) => void): void {
  const end = res.end.bind(res) as (...args: unknown[]) => Response;
  onOutcome(action === 'hang' ? 'hang-after-handling' : action === 'reset' ? 'reset-after-handling' : 'delay-after-handling');
  res.end = ((...args: unknown[]) => {
    if (action === 'reset') res.socket?.destroy();
    else if (typeof action === 'number') setTimeout(() => end(...args), action).unref();
    return res;
  }) as Response['end'];
}

/** A promise that never settles: the request stays open until the client or the server gives up. */
function never(): Promise<never> {
  return new Promise<never>(() => undefined);
}

function unreachable(value: never): never {
  throw new Error(`unknown fault kind ${String(value)}`);
}
