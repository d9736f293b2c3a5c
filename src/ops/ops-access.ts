import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { problem, sendProblem } from '../common/errors/problem.js';
import { requestIdOf } from '../common/http/request-id.js';
import type { OpsConfig } from '../config/ops.config.js';

/** Requests that came in on the ops listener (OPS_PORT), marked before the app sees them. */
const viaOpsListener = new WeakSet<IncomingMessage>();

export function markOpsRequest(req: IncomingMessage): void {
  viaOpsListener.add(req);
}

/** Prometheus metrics, the OpenAPI document with its UI assets (`/docs/swagger-ui.css`, …), and the ops actions. */
export function isOpsPath(path: string): boolean {
  const p = path.toLowerCase();
  return p === '/metrics' || p === '/docs' || p.startsWith('/docs/') || p.startsWith('/docs-') || isOpsAction(p);
}

/** Routes that change something (a webhook replay): never served to an anonymous caller on the main port. */
function isOpsAction(path: string): boolean {
  return path.toLowerCase().startsWith('/ops/');
}

const isHealthPath = (path: string) => path.toLowerCase().startsWith('/health/');

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

/**
 * Where the ops surface may be reached (see opsConfig): the ops listener serves only it and the
 * health checks; the main port serves it to anyone in sandbox mode, only with the ops token, or
 * not at all; and the token, when configured, is required wherever the surface is served. The ops
 * actions (`/ops/…`) are stricter on the main port in sandbox mode too: only with the ops token, or
 * not at all, since they act rather than read. Paths are compared lower-cased, like every guard of
 * the pipeline.
 */
export function opsAccess(config: OpsConfig): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const expected = config.token === undefined ? undefined : digest(config.token);
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const ops = isOpsPath(path);
    const mainPort = isOpsAction(path) && config.mainPort === 'open' ? (expected === undefined ? 'closed' : 'token') : config.mainPort;
    if (viaOpsListener.has(req)) {
      if (!ops && !isHealthPath(path)) return sendProblem(res, problem('not_found', { requestId: requestIdOf(req) }));
    } else if (ops && mainPort === 'closed') {
      return sendProblem(res, problem('not_found', { requestId: requestIdOf(req) }));
    }
    if (ops && (mainPort === 'token' || viaOpsListener.has(req)) && expected !== undefined && !presents(req, expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="tpp-bff-ops"');
      return sendProblem(res, problem('unauthenticated', { detail: 'The ops surface needs Authorization: Bearer <OPS_TOKEN>', requestId: requestIdOf(req) }));
    }
    next();
  };
}

/** Compared as SHA-256 digests with timingSafeEqual: no early exit tells how much of it matched. */
function presents(req: IncomingMessage, expected: Buffer): boolean {
  const match = /^Bearer ([\x21-\x7e]{1,512})$/i.exec(req.headers.authorization ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), expected);
}
