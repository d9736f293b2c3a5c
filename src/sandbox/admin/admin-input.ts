import { BadRequestException } from '@nestjs/common';
import { isProfile, type Profile } from '../config.js';
import { TLS_FAULTS, type ConfigFaults, type TlsFault } from '../faults/config-faults.service.js';
import { MIXED_FAULT_KINDS, type FaultRule, type MixedFaultKind } from '../faults/faults.service.js';
import { ModeError, parseModes, type BankModes } from '../modes/bank-modes.js';
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
  if (typeof b.route !== 'string' || !/^(\*|[a-z-]{1,40})$/.test(b.route))
    throw new BadRequestException('route must be "*" or a route name such as token, consents, accounts, transactions, payments, payment-status');
  const errorStatus = b.errorStatus;
  if (errorStatus !== undefined && errorStatus !== 500 && errorStatus !== 503) throw new BadRequestException('errorStatus must be 500 or 503');
  const retryAfter = optionalNumber(b, 'retryAfterSeconds', 0, 86_400);
  const times = optionalNumber(b, 'times', 1, 1_000_000);
  if (times !== undefined && !Number.isInteger(times)) throw new BadRequestException('times must be an integer');
  const dropResponse = b.dropResponse;
  if (dropResponse !== undefined && dropResponse !== 'hang' && dropResponse !== 'reset')
    throw new BadRequestException('dropResponse must be "hang" or "reset"');
  const mixedKinds = b.mixedKinds;
  if (
    mixedKinds !== undefined &&
    (!Array.isArray(mixedKinds) || mixedKinds.length === 0 || !mixedKinds.every((k) => MIXED_FAULT_KINDS.includes(k as MixedFaultKind)))
  ) {
    throw new BadRequestException(`mixedKinds must be a non-empty list of ${MIXED_FAULT_KINDS.join(', ')}`);
  }
  if (mixedKinds !== undefined && b.mixedRate === undefined) throw new BadRequestException('mixedKinds needs mixedRate');
  const seed = b.seed;
  if (seed !== undefined && (typeof seed !== 'string' || seed.length === 0 || seed.length > 100))
    throw new BadRequestException('seed must be a string of 1 to 100 characters');
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
    dropResponse,
    responseDelayMs: optionalNumber(b, 'responseDelayMs', 0, 600_000),
    mixedRate: optionalNumber(b, 'mixedRate', 0, 1),
    mixedKinds: mixedKinds as MixedFaultKind[] | undefined,
    seed,
    times,
  };
}

export function parseModesBody(input: unknown): { profile: Profile; modes: Partial<BankModes> } {
  const b = object(input);
  const profile = profileOf(b);
  try {
    return { profile, modes: parseModes(b) };
  } catch (error) {
    if (error instanceof ModeError) throw new BadRequestException(error.message);
    throw error;
  }
}

export function parseConfigFaults(input: unknown): { profile: Profile; faults: Partial<ConfigFaults> } {
  const b = object(input);
  const profile = profileOf(b);
  const known = ['profile', 'subscriptionKeyRotated', 'clientSecretExpired', 'loginServer429', 'loginServerRetryAfterSeconds', 'tls'];
  const unknown = Object.keys(b).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new BadRequestException(`unknown field ${unknown.join(', ')} (known: ${known.slice(1).join(', ')})`);
  const subscriptionKeyRotated = optionalBoolean(b, 'subscriptionKeyRotated');
  if (subscriptionKeyRotated !== undefined && profile !== 'flowe') throw new BadRequestException('only Flowe has a subscription key');
  if (b.tls !== undefined && !TLS_FAULTS.includes(b.tls as TlsFault)) throw new BadRequestException(`tls must be one of ${TLS_FAULTS.join(', ')}`);
  const retryAfter = optionalNumber(b, 'loginServerRetryAfterSeconds', 0, 86_400);
  const faults: Partial<ConfigFaults> = {
    subscriptionKeyRotated,
    clientSecretExpired: optionalBoolean(b, 'clientSecretExpired'),
    loginServer429: optionalBoolean(b, 'loginServer429'),
    loginServerRetryAfterSeconds: retryAfter === undefined ? undefined : Math.round(retryAfter),
    tls: b.tls as TlsFault | undefined,
  };
  return { profile, faults: Object.fromEntries(Object.entries(faults).filter(([, v]) => v !== undefined)) as Partial<ConfigFaults> };
}

export function parseTokenQuirks(input: unknown): { profile: Profile; quirks: TokenQuirks } {
  const b = object(input);
  const tokenType = b.tokenType;
  if (tokenType !== undefined && (typeof tokenType !== 'string' || !/^[A-Za-z]{1,20}$/.test(tokenType)))
    throw new BadRequestException('tokenType must be letters only, e.g. "bEARER"');
  const quirks: TokenQuirks = {
    omitExpiresIn: optionalBoolean(b, 'omitExpiresIn'),
    tokenType,
    omitScope: optionalBoolean(b, 'omitScope'),
    omitRefreshToken: optionalBoolean(b, 'omitRefreshToken'),
  };
  return { profile: profileOf(b), quirks };
}

export function parseLinkStyle(input: unknown): { profile: Profile; style: LinkStyle } {
  const b = object(input);
  if (!LINK_STYLES.includes(b.style as LinkStyle)) throw new BadRequestException(`style must be one of ${LINK_STYLES.join(', ')}`);
  return { profile: profileOf(b), style: b.style as LinkStyle };
}

export function parseProfileBody(input: unknown): Profile {
  return profileOf(object(input));
}
