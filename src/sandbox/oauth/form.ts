import type { Request, Response } from 'express';
import { OAuthError } from './oauth-error.js';

/** A single-valued form or query parameter; RFC 6749 3.1 forbids repeating one. */
export function singleParam(source: unknown, name: string): string | undefined {
  const value = (source as Record<string, unknown> | undefined)?.[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new OAuthError(400, 'invalid_request', `${name} must appear once`);
  return value;
}

/** Token requests are `application/x-www-form-urlencoded` (RFC 6749 4.1.3). */
export function requireForm(req: Request): Record<string, unknown> {
  if (!req.is('application/x-www-form-urlencoded')) {
    throw new OAuthError(400, 'invalid_request', 'token requests must be application/x-www-form-urlencoded');
  }
  return (req.body ?? {}) as Record<string, unknown>;
}

/** RFC 6749 5.1: token responses must not be cached. */
export function noStore(res: Response): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Pragma', 'no-cache');
}

/**
 * Headers for the bank's browser pages: ConnectPay forbids showing its Auth Web App in an iframe
 * ("Redirect must NOT be implemented in HTML iFrame element"), so framing is refused.
 */
export function pageHeaders(res: Response): void {
  noStore(res);
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
}
