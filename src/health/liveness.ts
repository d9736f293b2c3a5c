import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Histogram } from 'prom-client';

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
 * this path goes on through the pipeline (a 404 or 405 as before).
 */
export function answerLiveness(headers: OutgoingHttpHeaders, duration: Histogram<'method' | 'route' | 'status'>): Handler {
  const fixed: OutgoingHttpHeaders = { ...headers, 'cache-control': 'no-store', 'content-type': 'application/json; charset=utf-8', 'content-length': BODY.length };
  return (req, res, next) => {
    if (req.url !== ROUTE || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const started = process.hrtime.bigint();
    // assignRequestId ran first and echoed the id on the response; writeHead keeps headers already set.
    res.writeHead(200, fixed);
    res.end(req.method === 'HEAD' ? undefined : BODY);
    duration.observe({ method: req.method, route: ROUTE, status: '200' }, Number(process.hrtime.bigint() - started) / 1e9);
  };
}
