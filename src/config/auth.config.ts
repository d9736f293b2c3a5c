import { createPublicKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { ArrayNotEmpty, IsIn, IsOptional, IsString, IsUrl, Matches } from 'class-validator';
import { appBasics, type AppMode } from './app.config.js';
import { ConfigError, defineConfig, pickEnv, validateEnv } from './define-config.js';
import { Flag, Integer, Text } from './rules.js';
import { ToList } from './transforms.js';

/**
 * Asymmetric JWS algorithms only. `none` and the HS* family are refused on purpose: a user token
 * is signed by the TPP's identity provider, and accepting a shared-secret algorithm is what opens
 * the door to algorithm confusion (an HS256 token "signed" with the public key).
 */
export const USER_TOKEN_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export type UserTokenAlgorithm = (typeof USER_TOKEN_ALGORITHMS)[number];

/** The algorithm the sandbox demo login signs with (and the only one its key is verified with). */
export const SANDBOX_TOKEN_ALGORITHM = 'ES256' satisfies UserTokenAlgorithm;

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

const ALGORITHMS_EXPECTED = `AUTH_ALGORITHMS must list asymmetric JWS algorithms (${USER_TOKEN_ALGORITHMS.join(', ')}); none and HS* are refused`;
const TOKEN_TYPES_EXPECTED = 'AUTH_TOKEN_TYPES must list JWT type header values such as JWT, at+jwt';

class AuthEnv {
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'AUTH_JWKS_URL must be an absolute https URL' })
  AUTH_JWKS_URL?: string;

  @IsOptional() @IsString() AUTH_PUBLIC_KEY?: string;
  @IsOptional() @IsString() AUTH_PUBLIC_KEY_FILE?: string;
  @IsOptional() @Text(1024) AUTH_ISSUER?: string;
  @IsOptional() @Text(1024) AUTH_AUDIENCE?: string;

  @ToList()
  @ArrayNotEmpty({ message: ALGORITHMS_EXPECTED })
  @IsIn(USER_TOKEN_ALGORITHMS, { each: true, message: ALGORITHMS_EXPECTED })
  AUTH_ALGORITHMS: UserTokenAlgorithm[] = ['RS256', 'ES256', 'EdDSA'];

  @Integer(0, 300) AUTH_CLOCK_TOLERANCE_SECONDS = 30;

  /** A token issued (`iat`) longer ago than this is refused, whatever its `exp` says; 0 = no limit (and `iat` optional). */
  @Integer(0, 30 * 86_400) AUTH_MAX_TOKEN_AGE_SECONDS = 86_400;

  /** `typ` header values accepted when the issuer sets one (RFC 7515 4.1.9; `application/` may be left out). */
  @ToList()
  @ArrayNotEmpty({ message: TOKEN_TYPES_EXPECTED })
  @Matches(/^(application\/)?[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/i, { each: true, message: TOKEN_TYPES_EXPECTED })
  AUTH_TOKEN_TYPES: string[] = ['JWT', 'at+jwt'];

  /** Also refuse a token without a `typ` header (for an issuer known to set one). */
  @Flag() AUTH_REQUIRE_TOKEN_TYPE = false;
}

/** Where the keys that verify user tokens come from. */
export type UserKeySource =
  | { kind: 'jwks'; url: string }
  | { kind: 'public-key'; pem: string }
  /** Sandbox mode without a configured source: the key the demo login generates at boot. */
  | { kind: 'sandbox' };

export interface AuthConfig {
  mode: AppMode;
  keySource: UserKeySource;
  issuer: string;
  audience: string;
  /** Effective allow-list: narrowed to what the public key can verify, `ES256` for the sandbox key. */
  algorithms: UserTokenAlgorithm[];
  clockToleranceSeconds: number;
  /** Undefined: no limit on a token's age (and `iat` is optional). */
  maxTokenAgeSeconds?: number;
  /** Accepted `typ` header values, lower case and without `application/`. */
  tokenTypes: string[];
  requireTokenType: boolean;
}

const NAMES = [
  'AUTH_JWKS_URL',
  'AUTH_PUBLIC_KEY',
  'AUTH_PUBLIC_KEY_FILE',
  'AUTH_ISSUER',
  'AUTH_AUDIENCE',
  'AUTH_ALGORITHMS',
  'AUTH_CLOCK_TOLERANCE_SECONDS',
  'AUTH_MAX_TOKEN_AGE_SECONDS',
  'AUTH_TOKEN_TYPES',
  'AUTH_REQUIRE_TOKEN_TYPE',
];

/**
 * Identity of the TPP's frontend users. Production verifies the TPP's own JWTs
 * against a configured issuer, audience and key (JWKS or PEM); sandbox mode defaults to the demo
 * login's issuer and key so `npm start` works with no configuration.
 */
export const authConfig = defineConfig('auth', (env, problems): AuthConfig => {
  const { mode } = appBasics(env);
  const raw = validateEnv(AuthEnv, pickEnv(env, NAMES), problems);
  if (mode === 'production') {
    if (!raw.AUTH_ISSUER) problems.add('AUTH_ISSUER must be set in production mode', 'AUTH_ISSUER');
    if (!raw.AUTH_AUDIENCE) problems.add('AUTH_AUDIENCE must be set in production mode', 'AUTH_AUDIENCE');
  }
  // Each step needs the one before it: one problem per chain is enough to act on.
  const keySource = problems.isInvalid('AUTH_JWKS_URL') ? undefined : problems.collect(() => parseKeySource(raw, mode));
  const pemVariable = raw.AUTH_PUBLIC_KEY_FILE ? 'AUTH_PUBLIC_KEY_FILE' : 'AUTH_PUBLIC_KEY';
  const algorithms =
    keySource && !problems.isInvalid('AUTH_ALGORITHMS')
      ? problems.collect(() => effectiveAlgorithms(keySource, [...new Set(raw.AUTH_ALGORITHMS)], pemVariable))
      : undefined;
  problems.throwIfAny();
  return {
    mode,
    keySource: keySource!,
    issuer: raw.AUTH_ISSUER ?? 'tpp-bff-sandbox',
    audience: raw.AUTH_AUDIENCE ?? 'tpp-bff',
    algorithms: algorithms!,
    clockToleranceSeconds: raw.AUTH_CLOCK_TOLERANCE_SECONDS,
    ...(raw.AUTH_MAX_TOKEN_AGE_SECONDS > 0 ? { maxTokenAgeSeconds: raw.AUTH_MAX_TOKEN_AGE_SECONDS } : {}),
    tokenTypes: [...new Set(raw.AUTH_TOKEN_TYPES.map(normaliseTokenType))],
    requireTokenType: raw.AUTH_REQUIRE_TOKEN_TYPE,
  };
});

/** RFC 7515 4.1.9: media types compare case-insensitively, and `application/` may be omitted. */
export function normaliseTokenType(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function parseKeySource(raw: AuthEnv, mode: AppMode): UserKeySource {
  if (raw.AUTH_PUBLIC_KEY && raw.AUTH_PUBLIC_KEY_FILE) throw new ConfigError('AUTH_PUBLIC_KEY and AUTH_PUBLIC_KEY_FILE must not both be set');
  const pemVariable = raw.AUTH_PUBLIC_KEY_FILE ? 'AUTH_PUBLIC_KEY_FILE' : 'AUTH_PUBLIC_KEY';
  const hasPem = Boolean(raw.AUTH_PUBLIC_KEY || raw.AUTH_PUBLIC_KEY_FILE);
  if (raw.AUTH_JWKS_URL && hasPem) throw new ConfigError(`AUTH_JWKS_URL and ${pemVariable} must not both be set: choose one key source`);

  if (raw.AUTH_JWKS_URL) {
    const url = new URL(raw.AUTH_JWKS_URL);
    // Keys fetched over plain http could be swapped in transit: only a local IdP may skip TLS.
    if (url.protocol !== 'https:' && !LOCAL_HOSTS.has(url.hostname))
      throw new ConfigError('AUTH_JWKS_URL must use https (http is accepted for localhost only)');
    return { kind: 'jwks', url: url.href };
  }
  if (hasPem) {
    const pem = raw.AUTH_PUBLIC_KEY_FILE ? readPem(raw.AUTH_PUBLIC_KEY_FILE) : unescapeNewlines(raw.AUTH_PUBLIC_KEY!);
    publicKey(pem, pemVariable); // validated here so a bad key stops the start, not the first request
    return { kind: 'public-key', pem };
  }
  if (mode === 'production') throw new ConfigError('AUTH_JWKS_URL or AUTH_PUBLIC_KEY (or AUTH_PUBLIC_KEY_FILE) must be set in production mode');
  return { kind: 'sandbox' };
}

function effectiveAlgorithms(source: UserKeySource, configured: UserTokenAlgorithm[], pemVariable: string): UserTokenAlgorithm[] {
  if (source.kind === 'sandbox') return [SANDBOX_TOKEN_ALGORITHM];
  if (source.kind === 'jwks') return configured;
  const fitting = configured.filter((alg) => algorithmsFor(publicKey(source.pem, pemVariable)).includes(alg));
  if (fitting.length === 0) throw new ConfigError(`AUTH_ALGORITHMS has no algorithm that fits the key type of ${pemVariable}`);
  return fitting;
}

/** The algorithms a key can verify: importing it for any other one would fail per request. */
function algorithmsFor(key: KeyObject): UserTokenAlgorithm[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return ['ES256'];
      if (curve === 'secp384r1') return ['ES384'];
      if (curve === 'secp521r1') return ['ES512'];
      return [];
    }
    case 'ed25519':
      return ['EdDSA', 'Ed25519'];
    default:
      return [];
  }
}

function publicKey(pem: string, variable: string): KeyObject {
  // Only SPKI: createPublicKey would also derive a public key from a pasted *private* key.
  if (!/^-----BEGIN PUBLIC KEY-----\r?\n/.test(pem)) throw new ConfigError(`${variable} must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)`);
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new ConfigError(`${variable} must be a PEM SPKI public key (-----BEGIN PUBLIC KEY-----)`);
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw new ConfigError(`${variable} must be an RSA key of at least 2048 bits`);
  }
  return key;
}

function readPem(path: string): string {
  if (!existsSync(path)) throw new ConfigError('AUTH_PUBLIC_KEY_FILE points to a file that does not exist');
  return readFileSync(path, 'utf8').trim();
}

/** Env files often carry a PEM on one line with literal `\n` separators. */
function unescapeNewlines(value: string): string {
  return value.replace(/\\n/g, '\n').trim();
}
