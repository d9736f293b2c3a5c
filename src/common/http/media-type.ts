import type { IncomingMessage } from 'node:http';

/** The request body's media type without parameters, lower case (`application/json; charset=utf-8` → `application/json`). */
export function mediaTypeOf(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type'];
  return header ? header.split(';', 1)[0]!.trim().toLowerCase() : undefined;
}

/** The request body's declared charset, lower case and unquoted, or undefined when it names none. */
export function charsetOf(req: IncomingMessage): string | undefined {
  const match = /;\s*charset\s*=\s*("?)([^";\s]+)\1/i.exec(req.headers['content-type'] ?? '');
  return match?.[2]!.toLowerCase();
}
