import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { OAuthError } from './oauth-error.js';

export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

/**
 * RFC 6749 2.3.1: client_id + client_secret in the form body, or (when `basicAllowed`) HTTP Basic with
 * both form-urlencoded. Using both methods in one request is refused. Returns the authenticated client_id.
 */
export function authenticateClient(req: Request, body: Record<string, unknown>, expected: ClientCredentials, basicAllowed: boolean): string {
  const basic = parseBasic(req.get('authorization'));
  if (basic !== undefined && !basicAllowed) {
    // The Flowe guide's token requests carry client_id and client_secret in the form body, never a header.
    throw new OAuthError(401, 'invalid_client', 'HTTP Basic client authentication is not accepted: send client_id and client_secret in the form body');
  }
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined;
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  if (basic !== undefined && bodySecret !== undefined) {
    throw new OAuthError(400, 'invalid_request', 'use either HTTP Basic or client_secret in the body, not both');
  }
  const presented = basic ?? (bodyId !== undefined && bodySecret !== undefined ? { clientId: bodyId, clientSecret: bodySecret } : undefined);
  const challenge = basic !== undefined ? 'Basic realm="sandbox"' : undefined;
  if (presented === undefined) throw new OAuthError(401, 'invalid_client', 'client authentication required (client_id and client_secret)');
  if (basic !== undefined && bodyId !== undefined && bodyId !== basic.clientId) {
    throw new OAuthError(400, 'invalid_request', 'client_id in the body differs from the authenticated client');
  }
  if (presented.clientId !== expected.clientId || !sameSecret(presented.clientSecret, expected.clientSecret)) {
    throw new OAuthError(401, 'invalid_client', 'client authentication failed', challenge);
  }
  return presented.clientId;
}

function parseBasic(header: string | undefined): ClientCredentials | undefined {
  if (header === undefined || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new OAuthError(401, 'invalid_client', 'malformed HTTP Basic credentials', 'Basic realm="sandbox"');
  const decode = (part: string): string => {
    try {
      return decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      return part;
    }
  };
  return { clientId: decode(decoded.slice(0, colon)), clientSecret: decode(decoded.slice(colon + 1)) };
}

/** Constant-time comparison of two secrets of any length. */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}
