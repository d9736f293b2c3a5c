import { isIP } from 'node:net';
import type { Request } from 'express';
import { formatError } from '../berlin-group/bg-error.js';
import type { Profile } from '../config.js';
import type { BankModes, PsuIpHeaderMode } from '../modes/bank-modes.js';
import { SubscriptionKeyError } from './gateway-errors.js';
import type { RequestContext } from './request-context.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Berlin Group's spelling, then the Flowe guide's ("the PSU-IpAddress header must be populated"). */
export const PSU_IP_HEADERS = ['PSU-IP-Address', 'PSU-IpAddress'] as const;
/** The Flowe guide's prose writes PO-APIKey (letter O), every sample P0-APIKey (zero). */
export const SUBSCRIPTION_KEY_HEADERS = ['PO-APIKey', 'P0-APIKey'] as const;

export function presentHeaders(req: Request, names: readonly string[]): string[] {
  return names.filter((name) => req.get(name) !== undefined);
}

/** The PSU's IP under the spelling(s) the bank recognises; any other spelling is as good as absent. */
export function psuIpOf(req: Request, mode: PsuIpHeaderMode): string | undefined {
  const names = mode === 'either' ? PSU_IP_HEADERS : [mode];
  return names.map((name) => req.get(name)).find((value) => value !== undefined);
}

/**
 * Header checks of every Berlin Group call after the TLS layer: Flowe's subscription key (refused by
 * its API gateway before anything else), X-Request-ID, and the PSU IP's format.
 */
export function checkApiHeaders(req: Request, context: RequestContext, profile: Profile, modes: BankModes, key: { expected: string; rotated: boolean }): void {
  if (profile === 'flowe') checkSubscriptionKey(req, modes, key.rotated, key.expected);
  if (context.requestId === undefined || !UUID.test(context.requestId)) throw formatError('X-Request-ID header (a UUID) is required', 'X-Request-ID');
  const header = modes.psuIpHeader === 'either' ? 'PSU-IP-Address' : modes.psuIpHeader;
  if (context.psuIp !== undefined) {
    const version = isIP(context.psuIp);
    // The OpenAPI file defines PSU-IP-Address as `format: ipv4`; ipv4-or-ipv6 is the lenient reading.
    if (modes.psuIpFormat === 'ipv4' && version !== 4) throw formatError(`${header} must be an IPv4 address (dotted quad)`, header);
    // A zone index (fe80::1%eth0) names an interface of the sender's host, never a PSU's address.
    if (version === 0 || context.psuIp.includes('%')) throw formatError(`${header} must be an IPv4 or IPv6 address`, header);
  }
}

/** Flowe guide, section 3: every API request carries the subscription key; APIM answers 401 with its own body. */
function checkSubscriptionKey(req: Request, modes: BankModes, rotated: boolean, expected: string): void {
  const names = modes.subscriptionKeyHeader === 'either' ? SUBSCRIPTION_KEY_HEADERS : [modes.subscriptionKeyHeader];
  const presented = names.map((name) => req.get(name)).find((value) => value !== undefined);
  if (presented === undefined) {
    throw new SubscriptionKeyError(
      `Access denied due to missing subscription key. Make sure to include subscription key (header ${names.join(' or ')}) when making requests to an API.`,
    );
  }
  if (rotated || presented !== expected) {
    throw new SubscriptionKeyError('Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.');
  }
}
