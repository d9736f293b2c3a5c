import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PRODUCTION_ENV } from '../support/env.js';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';

export { PRODUCTION_ENV };

export interface SigningKey {
  alg: 'RS256' | 'ES256';
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  publicPem: string;
  publicJwk: JWK;
}

export async function signingKey(alg: SigningKey['alg']): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { alg, privateKey, publicKey, publicPem: await exportSPKI(publicKey), publicJwk: await exportJWK(publicKey) };
}

const now = () => Math.floor(Date.now() / 1000);

export interface TokenOptions {
  iss?: string;
  aud?: string;
  sub?: string | null;
  /** Seconds from now; `null` leaves `exp` out. */
  expiresIn?: number | null;
  kid?: string;
  /** The `typ` header; `null` leaves it out. Default `JWT`. */
  typ?: string | null;
  /** Claims set last, overriding the ones above (`undefined` removes one). */
  extra?: Record<string, unknown>;
}

/** A token as the TPP's identity provider would issue it; each option breaks one thing. */
export async function signToken(key: SigningKey, options: TokenOptions = {}): Promise<string> {
  const payload: JWTPayload = { iss: options.iss ?? PRODUCTION_ENV.AUTH_ISSUER, aud: options.aud ?? PRODUCTION_ENV.AUTH_AUDIENCE, iat: now() };
  if (options.sub !== null) payload.sub = options.sub ?? 'user-42';
  if (options.expiresIn !== null) payload.exp = now() + (options.expiresIn ?? 300);
  const typ = options.typ === undefined ? 'JWT' : options.typ;
  return new SignJWT({ ...payload, ...options.extra })
    .setProtectedHeader({ alg: key.alg, ...(typ === null ? {} : { typ }), ...(options.kid ? { kid: options.kid } : {}) })
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** `alg: none`, with otherwise perfect claims and an empty signature. */
export function unsecuredToken(claims: JWTPayload): string {
  return `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ exp: now() + 300, iat: now(), ...claims })}.`;
}

/** The classic algorithm-confusion forgery: HS256 "signed" with the verifier's public key bytes. */
export async function hs256WithPublicKey(publicPem: string, claims: JWTPayload): Promise<string> {
  return new SignJWT({ exp: now() + 300, iat: now(), ...claims }).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(publicPem));
}

export interface JwksServer {
  url: string;
  /** Number of requests the BFF made for the key set. */
  hits(): number;
  close(): Promise<void>;
}

/** A local identity provider's JWKS endpoint; `status` lets a test simulate an outage. */
export async function startJwksServer(keys: JWK[], status = 200): Promise<JwksServer> {
  let hits = 0;
  const server: Server = createServer((req, res) => {
    hits += 1;
    if (req.url !== '/.well-known/jwks.json' || status !== 200) {
      res.writeHead(req.url === '/.well-known/jwks.json' ? status : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    hits: () => hits,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
