import { isIP } from 'node:net';
import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { BgError, formatError } from '../berlin-group/bg-error.js';
import { FLOWE_SCOPES, SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import { FaultsService } from '../faults/faults.service.js';
import { OAuthError } from '../oauth/oauth-error.js';
import { TokenService } from '../oauth/token.service.js';
import { clientCertState } from './client-cert.js';
import { SubscriptionKeyError } from './gateway-errors.js';
import { profileOfPath, SANDBOX_ROUTE, setRequestContext, type RequestContext, type SandboxRouteMeta } from './request-context.js';
import { RequestLogService } from './request-log.service.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Scope a token needs per bank and service. */
const REQUIRED_SCOPE: Record<Profile, Record<'ais' | 'pis', string>> = {
  connectpay: { ais: 'psd2-ais', pis: 'psd2-pis' },
  flowe: { ais: FLOWE_SCOPES.aisp, pis: FLOWE_SCOPES.pisp },
};

/**
 * Runs before every authorize, token and Berlin Group handler, in this order:
 * request log → injected faults → client certificate (when mTLS is required; never for authorize) →
 * Flowe subscription key → X-Request-ID → PSU-IP-Address format → bearer token and its scope.
 */
@Injectable()
export class GatewayGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly faults: FaultsService,
    private readonly requestLog: RequestLogService,
    private readonly tokens: TokenService,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<SandboxRouteMeta | undefined>(SANDBOX_ROUTE, execution.getHandler());
    if (route === undefined) return true;
    const http = execution.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const profile = profileOfPath(req.path);
    if (profile === undefined) return true;

    const api = route.kind === 'ais' || route.kind === 'pis';
    // Required on Berlin Group APIs (checked below); recorded wherever a client sends one (token calls).
    const requestId = api || route.kind === 'token' ? req.get('x-request-id') : undefined;
    if (requestId !== undefined) res.setHeader('X-Request-ID', requestId);
    // Berlin Group spells it PSU-IP-Address; the Flowe guide writes PSU-IpAddress. Both mark a request as attended.
    const psuIp = api ? (req.get('psu-ip-address') ?? req.get('psu-ipaddress')) : undefined;
    const context: RequestContext = { profile, route, clientCert: clientCertState(req), requestId, psuIp };
    setRequestContext(req, context);
    const entry = this.requestLog.start(context, req, res);

    await this.faults.apply(context, req, (outcome) => (entry.fault = outcome));

    if (route.kind !== 'authorize' && this.config.requireMtls && context.clientCert !== 'verified') {
      const why = context.clientCert === 'none' ? 'no client certificate presented' : 'client certificate not issued by a trusted CA';
      if (route.kind === 'token') throw new OAuthError(401, 'invalid_client', `mutual TLS required: ${why}`);
      throw new BgError(401, 'CERTIFICATE_INVALID', `Mutual TLS with a QWAC is required: ${why}`);
    }
    if (!api) return true;

    if (profile === 'flowe') this.checkSubscriptionKey(req);
    if (requestId === undefined || !UUID.test(requestId)) throw formatError('X-Request-ID header (a UUID) is required', 'X-Request-ID');
    if (psuIp !== undefined && isIP(psuIp) === 0) throw formatError('PSU-IP-Address must be an IPv4 or IPv6 address', 'PSU-IP-Address');

    const match = /^bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match === null) throw new BgError(401, 'TOKEN_INVALID', 'Authorization: Bearer <access token> is required');
    const grant = this.tokens.authenticate(profile, match[1]!);
    const scope = REQUIRED_SCOPE[profile][route.kind as 'ais' | 'pis'];
    if (!grant.scopes.includes(scope)) throw new BgError(401, 'TOKEN_INVALID', `The access token was not granted scope ${scope}`);
    context.grant = grant;
    return true;
  }

  /** Flowe guide, section 3: every API request carries `PO-APIKey: <SUBSCRIPTION_KEY>` (also written P0-APIKey). */
  private checkSubscriptionKey(req: Request): void {
    const presented = this.config.flowe.subscriptionKeyHeaders.map((h) => req.get(h)).find((v) => v !== undefined);
    if (presented === undefined) {
      throw new SubscriptionKeyError('Access denied due to missing subscription key. Make sure to include subscription key (header PO-APIKey) when making requests to an API.');
    }
    if (presented !== this.config.flowe.subscriptionKey) {
      throw new SubscriptionKeyError('Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
    }
  }
}
