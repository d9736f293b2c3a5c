import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { authConfig } from '../../src/config/auth.config.js';
import { ConfigError, type Env } from '../../src/config/define-config.js';
import { PRODUCTION_ENV } from '../support/env.js';

const pem = (type: 'rsa' | 'ec' | 'ed25519', modulusLength = 2048) => {
  const pair =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
};
const RSA = pem('rsa');
const EC = pem('ec');

function configError(env: Env): ConfigError {
  try {
    authConfig.parse(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const production = (extra: Record<string, string | undefined>): Env => ({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: RSA.publicPem, ...extra });

describe('auth configuration', () => {
  it('needs nothing in sandbox mode: the demo login key, issuer and audience', () => {
    expect(authConfig.parse({})).toEqual({
      mode: 'sandbox',
      keySource: { kind: 'sandbox' },
      issuer: 'tpp-bff-sandbox',
      audience: 'tpp-bff',
      algorithms: ['ES256'],
      clockToleranceSeconds: 30,
      maxTokenAgeSeconds: 86_400,
      tokenTypes: ['jwt', 'at+jwt'],
      requireTokenType: false,
    });
  });

  it('reads the token age limit (0 = none) and the accepted token types, normalised', () => {
    expect(authConfig.parse({ AUTH_MAX_TOKEN_AGE_SECONDS: '0', AUTH_TOKEN_TYPES: 'application/AT+JWT, JWT', AUTH_REQUIRE_TOKEN_TYPE: 'true' })).toMatchObject({
      tokenTypes: ['at+jwt', 'jwt'],
      requireTokenType: true,
    });
    expect(authConfig.parse({ AUTH_MAX_TOKEN_AGE_SECONDS: '0' }).maxTokenAgeSeconds).toBeUndefined();
    expect(configError({ AUTH_MAX_TOKEN_AGE_SECONDS: '-1' }).message).toMatch(/^AUTH_MAX_TOKEN_AGE_SECONDS must be an integer between 0 and 2592000/);
    expect(configError({ AUTH_TOKEN_TYPES: 'at jwt/x' }).message).toMatch(/^AUTH_TOKEN_TYPES must list JWT type header values/);
    expect(configError({ AUTH_REQUIRE_TOKEN_TYPE: 'maybe' }).message).toMatch(/^AUTH_REQUIRE_TOKEN_TYPE must be true or false/);
  });

  it('requires issuer, audience and a key source in production mode, naming each variable', () => {
    expect(configError(production({ AUTH_ISSUER: undefined })).message).toMatch(/^AUTH_ISSUER must be set in production mode/);
    expect(configError(production({ AUTH_AUDIENCE: '' })).message).toMatch(/^AUTH_AUDIENCE must be set in production mode/);
    expect(configError(production({ AUTH_PUBLIC_KEY: undefined })).message).toMatch(/^AUTH_JWKS_URL or AUTH_PUBLIC_KEY .*must be set in production mode/);
    expect(authConfig.parse(production({}))).toMatchObject({
      mode: 'production',
      keySource: { kind: 'public-key' },
      issuer: PRODUCTION_ENV.AUTH_ISSUER,
      audience: PRODUCTION_ENV.AUTH_AUDIENCE,
      algorithms: ['RS256'],
    });
  });

  it.each(['none', 'HS256', 'RS256,HS512', 'hs256', 'RS256,none'])('refuses AUTH_ALGORITHMS=%s', (algorithms) => {
    expect(configError({ AUTH_ALGORITHMS: algorithms }).message).toMatch(/^AUTH_ALGORITHMS .*none and HS\* are refused/);
  });

  it('narrows the algorithms to what the public key can verify, and refuses a key that fits none', () => {
    expect(authConfig.parse(production({ AUTH_ALGORITHMS: 'RS256,PS256,ES256' })).algorithms).toEqual(['RS256', 'PS256']);
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: EC.publicPem })).algorithms).toEqual(['ES256']);
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: pem('ed25519').publicPem })).algorithms).toEqual(['EdDSA']);
    expect(configError(production({ AUTH_PUBLIC_KEY: EC.publicPem, AUTH_ALGORITHMS: 'RS256' })).message).toMatch(
      /^AUTH_ALGORITHMS has no algorithm that fits the key type of AUTH_PUBLIC_KEY/,
    );
  });

  it('accepts https JWKS URLs, http only for localhost', () => {
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'https://login.tpp.example/.well-known/jwks.json' })).keySource).toEqual({
      kind: 'jwks',
      url: 'https://login.tpp.example/.well-known/jwks.json',
    });
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'http://127.0.0.1:8080/jwks' })).keySource.kind).toBe('jwks');
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'http://localhost:8080/jwks' })).keySource.kind).toBe('jwks');
    expect(configError(production({ AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'http://login.tpp.example/jwks' })).message).toMatch(
      /^AUTH_JWKS_URL must use https/,
    );
    expect(configError(production({ AUTH_PUBLIC_KEY: undefined, AUTH_JWKS_URL: 'ftp://login.tpp.example/jwks' })).message).toMatch(/^AUTH_JWKS_URL /);
    expect(configError(production({ AUTH_JWKS_URL: 'https://login.tpp.example/jwks' })).message).toMatch(
      /^AUTH_JWKS_URL and AUTH_PUBLIC_KEY must not both be set/,
    );
  });

  it('accepts only a PEM SPKI public key, and never prints the value', () => {
    const privateKey = configError(production({ AUTH_PUBLIC_KEY: RSA.privatePem }));
    expect(privateKey.message).toMatch(/^AUTH_PUBLIC_KEY must be a PEM SPKI public key/);
    expect(privateKey.message).not.toContain('PRIVATE');
    const garbage = configError(production({ AUTH_PUBLIC_KEY: '-----BEGIN PUBLIC KEY-----\ncanary-not-a-key\n-----END PUBLIC KEY-----' }));
    expect(garbage.message).toMatch(/^AUTH_PUBLIC_KEY must be a PEM SPKI public key/);
    expect(garbage.message).not.toContain('canary');
    expect(configError(production({ AUTH_PUBLIC_KEY: pem('rsa', 1024).publicPem })).message).toMatch(
      /^AUTH_PUBLIC_KEY must be an RSA key of at least 2048 bits/,
    );
    // A PEM on one line with literal \n separators, as env files often carry it.
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: EC.publicPem.trim().replace(/\n/g, '\\n') })).keySource.kind).toBe('public-key');
  });

  it('reads the key from AUTH_PUBLIC_KEY_FILE, naming that variable when it is wrong', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-auth-config-'));
    writeFileSync(join(dir, 'idp.pem'), EC.publicPem);
    writeFileSync(join(dir, 'private.pem'), EC.privatePem);
    expect(authConfig.parse(production({ AUTH_PUBLIC_KEY: undefined, AUTH_PUBLIC_KEY_FILE: join(dir, 'idp.pem') })).keySource).toEqual({
      kind: 'public-key',
      pem: EC.publicPem.trim(),
    });
    expect(configError(production({ AUTH_PUBLIC_KEY: undefined, AUTH_PUBLIC_KEY_FILE: join(dir, 'missing.pem') })).message).toMatch(
      /^AUTH_PUBLIC_KEY_FILE points to a file that does not exist/,
    );
    expect(configError(production({ AUTH_PUBLIC_KEY: undefined, AUTH_PUBLIC_KEY_FILE: join(dir, 'private.pem') })).message).toMatch(
      /^AUTH_PUBLIC_KEY_FILE must be a PEM SPKI public key/,
    );
    expect(configError(production({ AUTH_PUBLIC_KEY_FILE: join(dir, 'idp.pem') })).message).toMatch(
      /^AUTH_PUBLIC_KEY and AUTH_PUBLIC_KEY_FILE must not both be set/,
    );
  });

  it('uses a configured key source in sandbox mode too', () => {
    expect(authConfig.parse({ AUTH_PUBLIC_KEY: EC.publicPem, AUTH_ISSUER: 'https://dev-idp.example/' })).toMatchObject({
      mode: 'sandbox',
      keySource: { kind: 'public-key' },
      issuer: 'https://dev-idp.example/',
      audience: 'tpp-bff',
      algorithms: ['ES256'],
    });
  });

  it.each([
    [{ AUTH_CLOCK_TOLERANCE_SECONDS: 'soon' }, /^AUTH_CLOCK_TOLERANCE_SECONDS /],
    [{ AUTH_CLOCK_TOLERANCE_SECONDS: '3600' }, /^AUTH_CLOCK_TOLERANCE_SECONDS /],
    [{ AUTH_JWKS_URL: 'canary-secret-value' }, /^AUTH_JWKS_URL /],
  ])('names the bad variable %p without printing its value', (env, message) => {
    const error = configError(env);
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/canary|soon|3600/);
  });
});
