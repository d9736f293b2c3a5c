import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Gives every request an id before anything else runs (so even a body-parser error carries it):
 * a well-formed incoming `X-Request-ID` is kept, anything else is replaced by a UUID. The id is
 * echoed on the response and is the `reqId` of every log line of the request.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
  (req as IncomingMessage & { id: string }).id = id;
  res.setHeader('X-Request-ID', id);
  next();
}

export function requestIdOf(req: IncomingMessage): string {
  return String((req as IncomingMessage & { id?: unknown }).id ?? randomUUID());
}
