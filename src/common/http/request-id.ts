import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,128}$/;

/** A well-formed incoming `X-Request-ID`, or a new UUID for anything else. */
export function newRequestId(req: Pick<IncomingMessage, 'headers'>): string {
  const incoming = req.headers['x-request-id'];
  return typeof incoming === 'string' && WELL_FORMED.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives every request an id before anything else runs (so even a body error carries it) and
 * echoes it on the response; it is the `reqId` of every log line of the request. Fastify assigns
 * it when the request arrives (createHttpAdapter) and middie copies it to Node's request; a
 * request answered before Fastify (liveness) gets one here.
 */
export function assignRequestId(req: IncomingMessage, res: ServerResponse, next: () => void): void {
  const request = req as IncomingMessage & { id?: unknown };
  if (typeof request.id !== 'string') request.id = newRequestId(req);
  res.setHeader('X-Request-ID', request.id as string);
  next();
}

export function requestIdOf(req: IncomingMessage): string {
  return String((req as IncomingMessage & { id?: unknown }).id ?? randomUUID());
}
