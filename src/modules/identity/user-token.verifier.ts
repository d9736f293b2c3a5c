import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { createRemoteJWKSet, errors, importSPKI, jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { AppError } from '../../common/errors/app-error.js';
import { authConfig } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import type { AuthenticatedUser } from './authenticated-user.js';
import { SandboxTokenIssuer } from './sandbox-token.issuer.js';
import { userLabel } from './user-label.js';

/** Longest `sub` accepted: it is stored as the owner of connections, consents and payments. */
export const MAX_SUBJECT_LENGTH = 255;

/** The identity provider's key set could not be read: an upstream outage, not a bad token. */
class KeySetUnavailable extends Error {}

/**
 * Verifies the frontend's bearer token (docs/design.md, "The frontend contract"): signature against
 * the configured key source with an asymmetric allow-list, then `iss`, `aud`, `exp` (required) and
 * `sub` (required, ≤ 255 characters). Failures become `unauthenticated` with a detail in general
 * terms; the token itself is never echoed or logged.
 */
@Injectable()
export class UserTokenVerifier {
  private readonly logger = new Logger(UserTokenVerifier.name);
  private readonly getKey: JWTVerifyGetKey;

  constructor(
    @Inject(authConfig.KEY) private readonly config: ConfigOf<typeof authConfig>,
    @Optional() sandbox?: SandboxTokenIssuer,
  ) {
    this.getKey = keyResolver(config, sandbox);
  }

  async verify(token: string): Promise<AuthenticatedUser> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.getKey, {
        algorithms: this.config.algorithms,
        issuer: this.config.issuer,
        audience: this.config.audience,
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      throw this.refusal(error);
    }
    const sub = payload.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_SUBJECT_LENGTH) {
      throw new AppError('unauthenticated', `token subject must be a string of 1 to ${MAX_SUBJECT_LENGTH} characters`);
    }
    return { id: sub, label: userLabel(payload, sub) };
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
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') return `token has no "${error.claim}" claim`;
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
