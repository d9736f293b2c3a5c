import { createHash } from 'node:crypto';
import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../../common/errors/app-error.js';
import { authConfig, normaliseTokenType } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { SandboxTokenIssuer } from './sandbox-token.issuer.js';
import { userLabel } from './user-label.js';

/** Longest `sub` accepted: it is stored as the owner of connections, consents and payments. */
export const MAX_SUBJECT_LENGTH = 255;

/**
 * A subject is an identifier, stored and logged as the owner of data: control characters (a newline
 * forging a log line), formatting characters (bidi overrides, zero-width) and line separators have
 * no place in it and are refused rather than cleaned.
 */
const SUBJECT_FORBIDDEN = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;

/**
 * Verified tokens remembered, by SHA-256 of the whole token (signature included): a frontend sends
 * the same token with every request until it expires, and checking its signature each time is most
 * of what authentication costs. Bounded; least recently used tokens go first.
 */
const VERIFIED_TOKENS_MAX = 10_000;

/** The identity provider's key set could not be read: an upstream outage, not a bad token. */
class KeySetUnavailable extends Error {}

/**
 * Verifies the frontend's bearer token (docs/design.md, "The frontend contract"): signature against
 * the configured key source with an asymmetric allow-list, then `iss`, `aud`, `exp` (required),
 * `iat` (required when a maximum token age is set: not older than that, never in the future beyond
 * the clock tolerance), the `typ` header when the issuer sets one, and `sub` (required, ≤ 255
 * characters, no control or formatting characters). Failures become `unauthenticated` with a
 * detail in general terms; the token itself is never echoed or logged.
 */
@Injectable()
export class UserTokenVerifier {
  private readonly logger = new Logger(UserTokenVerifier.name);
  private readonly getKey: JWTVerifyGetKey;
  private readonly verified = new LRUCache<string, AuthenticatedUser>({ max: VERIFIED_TOKENS_MAX });

  constructor(
    @Inject(authConfig.KEY) private readonly config: ConfigOf<typeof authConfig>,
    @Optional() sandbox?: SandboxTokenIssuer,
  ) {
    this.getKey = keyResolver(config, sandbox);
  }

  /**
   * The token's user. A token verified before is answered from memory until the moment it would
   * stop passing the checks below (its `exp`, or its maximum age): after that it is verified
   * afresh, and refused. Only a token whose every byte matches one that passed is ever found.
   */
  async verify(token: string): Promise<AuthenticatedUser> {
    const key = createHash('sha256').update(token).digest('base64');
    const known = this.verified.get(key);
    if (known) return known;
    const { user, validUntilMs } = await this.verifyFully(token);
    const ttl = Math.floor(validUntilMs - Date.now());
    if (ttl > 0) this.verified.set(key, user, { ttl });
    return user;
  }

  private async verifyFully(token: string): Promise<{ user: AuthenticatedUser; validUntilMs: number }> {
    let payload: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, this.getKey, {
        algorithms: this.config.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockToleranceSeconds,
        // jose then requires `iat`, refuses it older than this and in the future beyond the tolerance.
        ...(this.config.maxTokenAgeSeconds !== undefined ? { maxTokenAge: this.config.maxTokenAgeSeconds } : {}),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.refusal(error);
    }
    this.checkTokenType(header);
    // Without a maximum age jose does not look at `iat`; one from the future is refused all the same.
    if (typeof payload.iat === 'number' && payload.iat > Date.now() / 1000 + this.config.clockToleranceSeconds) {
      throw new AppError('unauthenticated', 'token was issued in the future');
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
      throw new AppError('unauthenticated', `token subject must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
    }
    if (SUBJECT_FORBIDDEN.test(sub)) throw new AppError('unauthenticated', 'token subject must not contain control or formatting characters');
    // Frozen: the same object answers every request that carries this token.
    return { user: Object.freeze({ id: sub, label: userLabel(payload, sub) }), validUntilMs: this.validUntil(payload) };
  }

  /**
   * Until when a verified token stays acceptable without a fresh look: its `exp` (required), or
   * sooner when a maximum token age ends first. The clock tolerance is left to the full check.
   */
  private validUntil(payload: JWTPayload): number {
    let until = payload.exp! * 1000;
    if (this.config.maxTokenAgeSeconds !== undefined && typeof payload.iat === 'number')
      until = Math.min(until, (payload.iat + this.config.maxTokenAgeSeconds) * 1000);
    return until;
  }

  /**
   * Where the issuer types its tokens (`JWT`, or `at+jwt` for access tokens, RFC 9068), a token of
   * another type (an ID token, a logout token…) is not accepted as a user token.
   */
  private checkTokenType(header: JWTHeaderParameters): void {
    if (header.typ === undefined) {
      if (this.config.requireTokenType) throw new AppError('unauthenticated', 'token has no "typ" header');
      return;
    }
    if (typeof header.typ !== 'string' || !this.config.tokenTypes.includes(normaliseTokenType(header.typ))) {
      throw new AppError('unauthenticated', 'token type is not accepted');
    }
  }

  private refusal(error: unknown): AppError {
    if (error instanceof KeySetUnavailable) {
      this.logger.warn({ err: error.cause }, 'user token keys could not be fetched');
      return new AppError('service_unavailable', 'The identity provider keys are unavailable; try again later', { retryAfterSeconds: 5 });
    }
    return new AppError('unauthenticated', describe(error));
  }
}

/** What went wrong, in general terms: enough for a frontend developer, nothing from the token. */
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return error.claim === 'iat' ? 'token is older than the maximum token age' : 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `token has no "${error.claim}" claim`;
    if (error.claim === 'iat' && error.reason === 'check_failed') return 'token was issued in the future';
    if (error.claim === 'iss') return 'token issuer is not accepted';
    if (error.claim === 'aud') return 'token audience is not accepted';
    if (error.claim === 'nbf') return 'token is not valid yet';
    return 'token claims are invalid';
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return 'token algorithm is not accepted';
  if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) return 'token signature is invalid';
  return 'invalid token';
}

function keyResolver(config: ConfigOf<typeof authConfig>, sandbox: SandboxTokenIssuer | undefined): JWTVerifyGetKey {
  const source = config.keySource;
  switch (source.kind) {
    case 'jwks': {
      // jose caches the set (10 min) and refetches on an unknown `kid` at most every 30 s.
      const jwks = createRemoteJWKSet(new URL(source.url), { timeoutDuration: 5000 });
      return async (header, token) => {
        try {
          return await jwks(header, token);
        } catch (error) {
          if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
          throw new KeySetUnavailable('JWKS fetch failed', { cause: error });
        }
      };
    }
    case 'public-key': {
      // A CryptoKey is bound to one algorithm; jose has already checked `alg` against the allow-list.
      const imported = new Map<string, Promise<CryptoKey>>();
      return (header: JWTHeaderParameters) => {
        let key = imported.get(header.alg);
        if (!key) imported.set(header.alg, (key = importSPKI(source.pem, header.alg)));
        return key;
      };
    }
    case 'sandbox': {
      if (!sandbox) throw new Error('The sandbox key source needs the SandboxTokenIssuer (sandbox mode only)');
      return () => sandbox.publicKey;
    }
    default: {
      const unreachable: never = source;
      throw new Error(`unknown key source ${JSON.stringify(unreachable)}`);
    }
  }
}
