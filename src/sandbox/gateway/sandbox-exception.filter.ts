import { Catch, HttpException, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { BgError, bgErrorBody, type BgMessageCode } from '../berlin-group/bg-error.js';
import { escapeHtml, htmlPage } from '../html.js';
import { AuthorizePageError, OAuthError } from '../oauth/oauth-error.js';
import { FaultError, SubscriptionKeyError } from './gateway-errors.js';
import { getRequestContext, serviceOfPath } from './request-context.js';

/** Maps every error to the wire format of the place it happened: Berlin Group, OAuth, APIM, HTML or JSON. */
@Catch()
export class SandboxExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Sandbox');

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<Request>();
    const res = http.getResponse<Response>();
    if (res.headersSent) return;
    const context = getRequestContext(req);
    const service = context?.route.kind === 'ais' || context?.route.kind === 'pis' ? context.route.kind : serviceOfPath(req.path);
    const requestId = req.get('x-request-id');
    if (service !== undefined && requestId !== undefined) res.setHeader('X-Request-ID', requestId);

    if (exception instanceof BgError) return this.sendBg(res, exception, service ?? 'ais');
    if (exception instanceof OAuthError) {
      res.setHeader('Cache-Control', 'no-store');
      if (exception.wwwAuthenticate !== undefined) res.setHeader('WWW-Authenticate', exception.wwwAuthenticate);
      res.status(exception.status).json({ error: exception.error, error_description: exception.description });
      return;
    }
    if (exception instanceof AuthorizePageError) return this.sendPage(req, res, exception.status, exception.error, exception.description);
    if (exception instanceof SubscriptionKeyError) {
      res.status(401).json({ statusCode: 401, message: exception.apimMessage });
      return;
    }
    if (exception instanceof FaultError) return this.sendFault(req, res, exception, service);

    const status = exception instanceof HttpException ? exception.getStatus() : statusOf(exception);
    if (status >= 500) this.logger.error(`${req.method} ${req.path} failed`, exception instanceof Error ? exception.stack : String(exception));
    const message = status >= 500 ? 'internal error' : exception instanceof Error ? exception.message : 'request failed';
    if (service !== undefined) return this.sendBg(res, new BgError(status, bgCodeFor(status), message), service);
    if (context?.route.kind === 'token') {
      res.status(status >= 500 ? 500 : 400).json({ error: status >= 500 ? 'server_error' : 'invalid_request', error_description: message });
      return;
    }
    res.status(status).json({ statusCode: status, error: errorName(status), message });
  }

  private sendBg(res: Response, error: BgError, service: 'ais' | 'pis'): void {
    if (error.code.startsWith('TOKEN_')) res.setHeader('WWW-Authenticate', 'Bearer error="invalid_token"');
    const body = bgErrorBody(error, service);
    if (body === undefined) res.status(error.status).end();
    else res.status(error.status).json(body);
  }

  private sendFault(req: Request, res: Response, fault: FaultError, service: 'ais' | 'pis' | undefined): void {
    if (fault.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(fault.retryAfterSeconds));
    if (service !== undefined) {
      const code: BgMessageCode = fault.status === 429 ? 'ACCESS_EXCEEDED' : 'RESOURCE_UNKNOWN';
      return this.sendBg(res, new BgError(fault.status, code, 'injected fault'), service);
    }
    if (getRequestContext(req)?.route.kind === 'token') {
      const error = fault.status === 500 ? 'server_error' : 'temporarily_unavailable';
      res.status(fault.status).json({ error, error_description: 'injected fault' });
      return;
    }
    this.sendPage(req, res, fault.status, 'temporarily_unavailable', 'injected fault');
  }

  /** HTML for browsers, JSON for everything else. */
  private sendPage(req: Request, res: Response, status: number, error: string, description: string): void {
    res.setHeader('Cache-Control', 'no-store');
    if (req.accepts(['json', 'html']) === 'html') {
      res
        .status(status)
        .type('html')
        .send(
          htmlPage(
            'Request refused',
            `<header><h1>Request refused</h1></header><p class="error"><strong>${escapeHtml(error)}</strong>: ${escapeHtml(description)}</p>`,
          ),
        );
    } else {
      res.status(status).json({ error, error_description: description });
    }
  }
}

/** body-parser errors carry `status` (400 malformed JSON, 413 too large, 415 charset). */
function statusOf(exception: unknown): number {
  const status = (exception as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

function bgCodeFor(status: number): BgMessageCode {
  if (status === 404) return 'RESOURCE_UNKNOWN';
  if (status === 405) return 'SERVICE_INVALID';
  return 'FORMAT_ERROR';
}

function errorName(status: number): string {
  return status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : status < 500 ? 'Bad Request' : 'Internal Server Error';
}
