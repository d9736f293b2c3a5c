import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';
import { BgError } from '../berlin-group/bg-error.js';
import { FLOWE_SCOPES, SANDBOX_CONFIG, type Profile, type SandboxConfig } from '../config.js';
import { ConfigFaultsService } from '../faults/config-faults.service.js';
import { FaultsService } from '../faults/faults.service.js';
import { BankModesService } from '../modes/bank-modes.service.js';
import { OAuthError } from '../oauth/oauth-error.js';
import { TokenService } from '../oauth/token.service.js';
import { clientCertState } from './client-cert.js';
import { checkApiHeaders, presentHeaders, PSU_IP_HEADERS, psuIpOf, SUBSCRIPTION_KEY_HEADERS } from './api-headers.js';
import { FaultError } from './gateway-errors.js';
import { profileOfPath, SANDBOX_ROUTE, setRequestContext, type RequestContext, type SandboxRouteMeta } from './request-context.js';
import { RequestLogService } from './request-log.service.js';
import { StatusPollLimiter } from './status-poll-limiter.js';

/** Scope a token needs per bank and service. */
const REQUIRED_SCOPE: Record<Profile, Record<'ais' | 'pis', string>> = {
  connectpay: { ais: 'psd2-ais', pis: 'psd2-pis' },
  flowe: { ais: FLOWE_SCOPES.aisp, pis: FLOWE_SCOPES.pisp },
};

/** The status endpoints Flowe's guide asks TPPs to poll "no more than 1/sec" (ConnectPay's document names no rate). */
const STATUS_ROUTES = new Set(['consent-status', 'consent-sca-status', 'payment-status', 'payment-sca-status']);

/**
 * Runs before every authorize, token and Berlin Group handler, in this order:
 * request log → injected faults → configuration faults (TLS refusal, login-server 429) → client
 * certificate (when the bank requires mTLS; never for authorize) → Flowe subscription key →
 * X-Request-ID → PSU IP format → bearer token and its scope → status polling rate.
 */
@Injectable()
export class GatewayGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Inject(SANDBOX_CONFIG) private readonly config: SandboxConfig,
    private readonly modes: BankModesService,
    private readonly faults: FaultsService,
    private readonly configFaults: ConfigFaultsService,
    private readonly requestLog: RequestLogService,
    private readonly tokens: TokenService,
    private readonly pollLimiter: StatusPollLimiter,
  ) {}

  async canActivate(execution: ExecutionContext): Promise<boolean> {
    const route = this.reflector.get<SandboxRouteMeta | undefined>(SANDBOX_ROUTE, execution.getHandler());
    if (route === undefined) return true;
    const http = execution.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    const profile = profileOfPath(req.path);
    if (profile === undefined) return true;

    const modes = this.modes.of(profile);
    const api = route.kind === 'ais' || route.kind === 'pis';
    // Required on Berlin Group APIs (checked below); recorded wherever a client sends one (token calls).
    const requestId = api || route.kind === 'token' ? req.get('x-request-id') : undefined;
    if (requestId !== undefined) res.setHeader('X-Request-ID', requestId);
    const context: RequestContext = {
      profile,
      route,
      clientCert: clientCertState(req),
      requestId,
      psuIp: api ? psuIpOf(req, modes.psuIpHeader) : undefined,
      psuIpHeaders: api ? presentHeaders(req, PSU_IP_HEADERS) : [],
      subscriptionKeyHeaders: api ? presentHeaders(req, SUBSCRIPTION_KEY_HEADERS) : [],
    };
    setRequestContext(req, context);
    const entry = this.requestLog.start(context, req, res);

    await this.faults.apply(context, req, res, (outcome) => (entry.fault = outcome));
    if (route.kind === 'authorize') return true;

    const misconfig = this.configFaults.of(profile);
    if (misconfig.tls === 'refuse-handshake') {
      // The handshake already happened on this listener: the closest a shared listener gets is to drop the connection unanswered.
      entry.fault = 'tls-refused';
      req.socket.destroy();
      return new Promise<never>(() => undefined);
    }
    if (route.kind === 'token' && misconfig.loginServer429) throw new FaultError(429, misconfig.loginServerRetryAfterSeconds);
    if (misconfig.tls === 'refuse-certificate' || (modes.requireMtls && context.clientCert !== 'verified')) {
      const why =
        misconfig.tls === 'refuse-certificate'
          ? 'client certificate not accepted'
          : context.clientCert === 'none'
            ? 'no client certificate presented'
            : 'client certificate not issued by a trusted CA';
      if (route.kind === 'token') throw new OAuthError(401, 'invalid_client', `mutual TLS required: ${why}`);
      throw new BgError(401, 'CERTIFICATE_INVALID', `Mutual TLS with a QWAC is required: ${why}`);
    }
    if (!api) return true;

    checkApiHeaders(req, context, profile, modes, { expected: this.config.flowe.subscriptionKey, rotated: misconfig.subscriptionKeyRotated });
    const match = /^bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '');
    if (match === null) throw new BgError(401, 'TOKEN_INVALID', 'Authorization: Bearer <access token> is required');
    const grant = this.tokens.authenticate(profile, match[1]!);
    const scope = REQUIRED_SCOPE[profile][route.kind as 'ais' | 'pis'];
    // Berlin Group TOKEN_INVALID: "associated to the TPP but ... not valid for the addressed service".
    if (!grant.scopes.includes(scope)) throw new BgError(401, 'TOKEN_INVALID', `The access token was not granted scope ${scope}`);
    context.grant = grant;

    if (STATUS_ROUTES.has(route.name) && !this.pollLimiter.admit(`${profile}|${req.path}`, modes.statusPollMinIntervalMs)) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(modes.statusPollMinIntervalMs / 1000))));
      throw new BgError(
        429,
        'ACCESS_EXCEEDED',
        `Status polled again within ${modes.statusPollMinIntervalMs} ms: poll this resource no more than once per ${modes.statusPollMinIntervalMs / 1000} s`,
      );
    }
    return true;
  }
}
