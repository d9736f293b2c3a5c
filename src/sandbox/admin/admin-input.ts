import { BadRequestException } from '@nestjs/common';
import { isProfile, type Profile } from '../config.js';
import type { FaultRule } from '../faults/faults.service.js';
import { LINK_STYLES, type LinkStyle, type TokenQuirks } from '../faults/quirks.service.js';

type Body = Record<string, unknown>;

function object(input: unknown): Body {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new BadRequestException('a JSON object body is required');
  return input as Body;
}

function optionalNumber(b: Body, name: string, min: number, max: number): number | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) throw new BadRequestException(`${name} must be a number between ${min} and ${max}`);
  return v;
}

function optionalBoolean(b: Body, name: string): boolean | undefined {
  const v = b[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new BadRequestException(`${name} must be true or false`);
  return v;
}

export function profileOf(b: Body): Profile {
  if (!isProfile(b.profile)) throw new BadRequestException('profile must be "connectpay" or "flowe"');
  return b.profile;
}

export function parseClockAdvance(input: unknown): number {
  const seconds = optionalNumber(object(input), 'advanceSeconds', 0, 10 * 365 * 24 * 3600);
  if (seconds === undefined) throw new BadRequestException('advanceSeconds (>= 0) is required: the sandbox clock only moves forward');
  return seconds;
}

export function parseFaultRule(input: unknown): FaultRule {
  const b = object(input);
  const profile = b.profile === '*' ? '*' : profileOf(b);
  if (typeof b.route !== 'string' || !/^(\*|[a-z-]{1,40})$/.test(b.route)) throw new BadRequestException('route must be "*" or a route name such as token, consents, accounts, transactions, payments, payment-status');
  const errorStatus = b.errorStatus;
  if (errorStatus !== undefined && errorStatus !== 500 && errorStatus !== 503) throw new BadRequestException('errorStatus must be 500 or 503');
  const retryAfter = optionalNumber(b, 'retryAfterSeconds', 0, 86_400);
  const times = optionalNumber(b, 'times', 1, 1_000_000);
  if (times !== undefined && !Number.isInteger(times)) throw new BadRequestException('times must be an integer');
  return {
    profile,
    route: b.route,
    latencyMs: optionalNumber(b, 'latencyMs', 0, 600_000),
    errorRate: optionalNumber(b, 'errorRate', 0, 1),
    errorStatus,
    resetRate: optionalNumber(b, 'resetRate', 0, 1),
    force429: optionalBoolean(b, 'force429'),
    retryAfterSeconds: retryAfter === undefined ? undefined : Math.round(retryAfter),
    hang: optionalBoolean(b, 'hang'),
    times,
  };
}

export function parseTokenQuirks(input: unknown): { profile: Profile; quirks: TokenQuirks } {
  const b = object(input);
  const tokenType = b.tokenType;
  if (tokenType !== undefined && (typeof tokenType !== 'string' || !/^[A-Za-z]{1,20}$/.test(tokenType))) throw new BadRequestException('tokenType must be letters only, e.g. "bEARER"');
  return { profile: profileOf(b), quirks: { omitExpiresIn: optionalBoolean(b, 'omitExpiresIn'), tokenType, omitScope: optionalBoolean(b, 'omitScope') } };
}

export function parseLinkStyle(input: unknown): { profile: Profile; style: LinkStyle } {
  const b = object(input);
  if (!LINK_STYLES.includes(b.style as LinkStyle)) throw new BadRequestException(`style must be one of ${LINK_STYLES.join(', ')}`);
  return { profile: profileOf(b), style: b.style as LinkStyle };
}

export function parseProfileBody(input: unknown): Profile {
  return profileOf(object(input));
}
