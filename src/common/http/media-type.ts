import type { IncomingMessage } from 'node:http';

/** The request body's media type without parameters, lower case (`application/json; charset=utf-8` → `application/json`). */
export function mediaTypeOf(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  return header ? header.split(';', 1)[0]!.trim().toLowerCase() : undefined;
}
