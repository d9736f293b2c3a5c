import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import type { Profile } from '../config.js';
import type { Grant } from '../oauth/oauth-store.js';

/**
 * What a logged route is: the browser-facing authorize endpoint, a token endpoint, or a Berlin Group
 * AIS/PIS endpoint. Routes without this metadata (login pages, PSU app, admin) skip the gateway.
 */
export type RouteKind = 'authorize' | 'token' | 'ais' | 'pis';

export interface SandboxRouteMeta {
  /** Name used by the request log, stats and fault rules, e.g. `token`, `consents`, `transactions`. */
  readonly name: string;
  readonly kind: RouteKind;
}

export const SANDBOX_ROUTE = 'sandbox:route';

/** Marks a handler as a logged, fault-injectable route. */
export const SandboxRoute = (name: string, kind: RouteKind): MethodDecorator => SetMetadata(SANDBOX_ROUTE, { name, kind });

export type ClientCertState = 'none' | 'verified' | 'unverified';

export interface RequestContext {
  readonly profile: Profile;
  readonly route: SandboxRouteMeta;
  readonly clientCert: ClientCertState;
  /** X-Request-ID as sent (Berlin Group routes). */
  readonly requestId?: string;
  /** The PSU's IP under the header spelling the bank's `psuIpHeader` mode recognises: present = attended request. */
  readonly psuIp?: string;
  /** Names of the PSU IP headers the request carried (either spelling, recognised or not). */
  readonly psuIpHeaders: readonly string[];
  /** Names (never values) of the subscription-key headers the request carried (PO-APIKey, P0-APIKey). */
  readonly subscriptionKeyHeaders: readonly string[];
  /** Set by the bearer check on API routes. */
  grant?: Grant;
}

export interface ApiContext extends RequestContext {
  readonly grant: Grant;
}

const CONTEXT = Symbol('sandbox.requestContext');
type WithContext = Request & { [CONTEXT]?: RequestContext };

export function setRequestContext(req: Request, context: RequestContext): void {
  (req as WithContext)[CONTEXT] = context;
}

export function getRequestContext(req: Request): RequestContext | undefined {
  return (req as WithContext)[CONTEXT];
}

/** The authenticated context of a Berlin Group request (the gateway guard has checked the bearer token). */
export const Api = createParamDecorator((_: unknown, ctx: ExecutionContext): ApiContext => {
  const context = getRequestContext(ctx.switchToHttp().getRequest<Request>());
  if (context?.grant === undefined) throw new Error('Api context used on a route without bearer authentication');
  return context as ApiContext;
});

/** The profile a path belongs to, from its first segment. */
export function profileOfPath(path: string): Profile | undefined {
  if (path.startsWith('/connectpay/')) return 'connectpay';
  if (path.startsWith('/flowe/')) return 'flowe';
  return undefined;
}

/** Berlin Group base paths (relative to the host). ConnectPay's document is silent: Berlin Group defaults. */
export function apiBasePath(profile: Profile, service: 'ais' | 'pis'): string {
  if (profile === 'connectpay') return '/connectpay/psd2/v1';
  return service === 'ais' ? '/flowe/openbankingais/v1' : '/flowe/openbankingpis/v1';
}

/** Which Berlin Group service a path belongs to, if any (used for errors raised before routing). */
export function serviceOfPath(path: string): 'ais' | 'pis' | undefined {
  if (path.startsWith('/flowe/openbankingais/')) return 'ais';
  if (path.startsWith('/flowe/openbankingpis/')) return 'pis';
  if (path.startsWith('/connectpay/psd2/')) return /^\/connectpay\/psd2\/v1\/(payments|bulk-payments|periodic-payments)\b/.test(path) ? 'pis' : 'ais';
  return undefined;
}
