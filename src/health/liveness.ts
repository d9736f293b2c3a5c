import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, Server, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';
import { assignRequestId } from '../common/http/request-id.js';

type Handler = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

const BODY = Buffer.from(JSON.stringify({ status: 'ok' }));
const ROUTE = '/health/live';

/**
 * The headers a middleware sets on every response, collected once by running it against a
 * stand-in request: helmet's are the same for every response of a configuration, so liveness
 * sends them without running helmet for each probe.
 */
export function constantHeaders(middleware: Handler): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  const res = {
    setHeader: (name: string, value: string | number | string[]) => {
      headers[name.toLowerCase()] = value;
      return res;
    },
    removeHeader: (name: string) => delete headers[name.toLowerCase()],
    getHeader: (name: string) => headers[name.toLowerCase()],
  };
  middleware({ headers: {}, method: 'GET', url: ROUTE } as IncomingMessage, res as unknown as ServerResponse, () => {});
  return headers;
}

/**
 * Liveness answered before the rest of the pipeline: a probe every few seconds per replica (and a
 * load balancer's, more often) only needs to know that the process serves HTTP, so it skips the
 * logging, body, cookie, routing and validation layers a constant answer never uses. It keeps
 * what every response has (the request id, the security headers, no-store) and is counted in the
 * request histogram under its route like any other request. Anything but GET or HEAD of exactly
 * this path goes on through the pipeline (a 404 as before). It is the pipeline's first middleware
 * and, on the main port, answers before Express is entered at all (answerFirst).
 */
export function answerLiveness(headers: OutgoingHttpHeaders, duration: Histogram<'method' | 'route' | 'status'>): Handler {
  const fixed: OutgoingHttpHeaders = {
    ...headers,
    'cache-control': 'no-store',
    'content-type': 'application/json; charset=utf-8',
    'content-length': BODY.length,
  };
  return (req, res, next) => {
    if (req.url !== ROUTE || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const started = process.hrtime.bigint();
    // The id is echoed like on every response; writeHead keeps that header and adds the fixed ones.
    assignRequestId(req, res, () => {});
    res.writeHead(200, fixed);
    res.end(req.method === 'HEAD' ? undefined : BODY);
    duration.observe({ method: req.method, route: ROUTE, status: '200' }, Number(process.hrtime.bigint() - started) / 1e9);
  };
}

/**
 * Puts `handler` in front of the server's request listener (the Express app), so the requests it
 * answers never enter Express. A server with any other set of listeners is left as it is: the
 * handler still runs as the pipeline's first middleware there.
 */
export function answerFirst(server: Server, handler: Handler): void {
  const listeners = server.listeners('request') as RequestListener[];
  if (listeners.length !== 1) return;
  const app = listeners[0]!;
  server.removeListener('request', app);
  server.on('request', (req: IncomingMessage, res: ServerResponse) => handler(req, res, () => app(req, res)));
}
