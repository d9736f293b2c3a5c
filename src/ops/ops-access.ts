import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { problem, sendProblem } from '../common/errors/problem.js';
import { requestIdOf } from '../common/http/request-id.js';
import type { OpsConfig } from '../config/ops.config.js';

/** Requests that came in on the ops listener (OPS_PORT), marked before the app sees them. */
const viaOpsListener = new WeakSet<IncomingMessage>();

export function markOpsRequest(req: IncomingMessage): void {
  viaOpsListener.add(req);
}

/** Prometheus metrics and the OpenAPI document with its UI assets (`/docs/swagger-ui.css`, …). */
export function isOpsPath(path: string): boolean {
  const p = path.toLowerCase();
  return p === '/metrics' || p === '/docs' || p.startsWith('/docs/') || p.startsWith('/docs-');
}

const isHealthPath = (path: string) => path.toLowerCase().startsWith('/health/');

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Where the ops surface may be reached (see opsConfig): the ops listener serves only it and the
 * health checks; the main port serves it to anyone in sandbox mode, only with the ops token, or
 * not at all; and the token, when configured, is required wherever the surface is served. Paths
 * are compared lower-cased, like every guard of the pipeline.
 */
export function opsAccess(config: OpsConfig): (req: Request, res: Response, next: NextFunction) => void {
  const expected = config.token === undefined ? undefined : digest(config.token);
  return (req, res, next) => {
    const ops = isOpsPath(req.path);
    if (viaOpsListener.has(req)) {
      if (!ops && !isHealthPath(req.path)) return sendProblem(res, problem('not_found', { requestId: requestIdOf(req) }));
    } else if (ops && config.mainPort === 'closed') {
      return sendProblem(res, problem('not_found', { requestId: requestIdOf(req) }));
    }
    if (ops && (config.mainPort === 'token' || viaOpsListener.has(req)) && expected !== undefined && !presents(req, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="tpp-bff-ops"');
      return sendProblem(res, problem('unauthenticated', { detail: 'The ops surface needs Authorization: Bearer <OPS_TOKEN>', requestId: requestIdOf(req) }));
    }
    next();
  };
}

/** Compared as SHA-256 digests with timingSafeEqual: no early exit tells how much of it matched. */
function presents(req: Request, expected: Buffer): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), expected);
}
