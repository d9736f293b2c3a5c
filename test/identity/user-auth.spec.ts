import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { startTestBff, type TestBff } from '../support/bff.js';
import { hs256WithPublicKey, PRODUCTION_ENV, signingKey, signToken, startJwksServer, unsecuredToken, type JwksServer, type SigningKey } from './support.js';

/** Every refusal looks the same from outside: a 401 problem with a Bearer challenge, never a redirect. */
function expectUnauthenticated(res: request.Response, detail?: RegExp, token?: string): void {
  expect(res.status).toBe(401);
  expect(res.headers['content-type']).toContain('application/problem+json');
  expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="tpp-bff"/);
  expect(res.headers.location).toBeUndefined();
  expect(res.body).toMatchObject({ status: 401, code: 'unauthenticated' });
  if (detail) expect(res.body.detail).toMatch(detail);
  if (token) expect(JSON.stringify(res.body) + JSON.stringify(res.headers)).not.toContain(token.split('.')[1]);
}

/** Production mode serves the API docs only to the bearer of the ops token. */
const OPS_TOKEN = 'ops-token-for-the-identity-tests-0123456789';

const me = (bff: TestBff, authorization?: string) => {
  const req = request(bff.url).get('/api/v1/me');
  return authorization === undefined ? req : req.set('Authorization', authorization);
};

describe('user identity in sandbox mode (demo login)', () => {
  let bff: TestBff;

  beforeAll(async () => {
    bff = await startTestBff();
  });
  afterAll(async () => {
    await bff.close();
  });

  const login = (body: unknown) =>
    request(bff.url)
      .post('/api/v1/sandbox/login')
      .send(body as object);

  it('logs a demo user in and answers /api/v1/me for that user only', async () => {
    const alice = await login({ userId: 'alice@demo.example' }).expect(201);
    expect(alice.body).toEqual({ token: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
    const bob = await login({ userId: 'bob' }).expect(201);

    await me(bff, `Bearer ${alice.body.token}`).expect(200, { id: 'alice@demo.example' });
    await me(bff, `bearer ${bob.body.token}`).expect(200, { id: 'bob' });
  });

  it('refuses a request without an Authorization header', async () => {
    const res = await me(bff);
    expectUnauthenticated(res, /Bearer token is required/);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tpp-bff"');
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('refuses other schemes and anything but exactly one token', async () => {
    const { token } = (await login({ userId: 'alice' }).expect(201)).body as { token: string };
    expectUnauthenticated(await me(bff, `Basic ${Buffer.from('alice:secret').toString('base64')}`), /scheme must be Bearer/);
    expectUnauthenticated(await me(bff, `Token ${token}`), /scheme must be Bearer/);
    expectUnauthenticated(await me(bff, 'Bearer'), /exactly one Bearer token/);
    expectUnauthenticated(await me(bff, `Bearer ${token} ${token}`), /exactly one Bearer token/, token);
    expectUnauthenticated(await me(bff, `Bearer ${token},${token}`), /exactly one Bearer token/, token);
    expectUnauthenticated(await me(bff, `Bearer ${'a'.repeat(9000)}`));
  });

  it('refuses a token signed by another key, with the right claims', async () => {
    const other = await signingKey('ES256');
    const forged = await signToken(other, { iss: 'tpp-bff-sandbox', aud: 'tpp-bff', sub: 'alice' });
    const res = await me(bff, `Bearer ${forged}`);
    expectUnauthenticated(res, /signature is invalid/, forged);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="tpp-bff", error="invalid_token"');
  });

  it('refuses an alg:none token and a tampered demo token', async () => {
    expectUnauthenticated(await me(bff, `Bearer ${unsecuredToken({ iss: 'tpp-bff-sandbox', aud: 'tpp-bff', sub: 'alice' })}`), /algorithm is not accepted/);

    const { token } = (await login({ userId: 'alice' }).expect(201)).body as { token: string };
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url')}.${signature}`;
    expectUnauthenticated(await me(bff, `Bearer ${tampered}`), /signature is invalid/);
    expectUnauthenticated(await me(bff, 'Bearer not-a-jwt'), /invalid token/);
  });

  it.each([
    [{}, 'userId'],
    [{ userId: '' }, 'userId'],
    [{ userId: 'a'.repeat(65) }, 'userId'],
    [{ userId: 'alice bob' }, 'userId'],
    [{ userId: 'alice<script>' }, 'userId'],
    [{ userId: 42 }, 'userId'],
    [{ userId: 'alice', admin: true }, 'admin'],
  ])('refuses the demo login body %p, naming the field', async (body, field) => {
    const res = await login(body).expect(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field })]));
  });

  it('documents the bearer requirement in OpenAPI', async () => {
    const doc = await request(bff.url).get('/docs-json').expect(200);
    expect(doc.body.paths['/api/v1/me'].get.security).toEqual([{ user: [] }]);
    expect(doc.body.paths['/api/v1/sandbox/login'].post).toBeDefined();
  });
});

describe('user identity in production mode with a configured public key', () => {
  let bff: TestBff;
  let key: SigningKey;
  let dir: string;

  beforeAll(async () => {
    key = await signingKey('RS256');
    dir = mkdtempSync(join(tmpdir(), 'tpp-identity-'));
    writeFileSync(join(dir, 'idp.pem'), key.publicPem);
    bff = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY_FILE: join(dir, 'idp.pem'), OPS_TOKEN });
  });
  afterAll(async () => {
    await bff.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has no demo login', async () => {
    const res = await request(bff.url).post('/api/v1/sandbox/login').send({ userId: 'alice' }).expect(404);
    expect(res.body.code).toBe('not_found');
    const doc = await request(bff.url).get('/docs-json').set('Authorization', `Bearer ${OPS_TOKEN}`).expect(200);
    expect(doc.body.paths['/api/v1/sandbox/login']).toBeUndefined();
  });

  it("accepts the identity provider's token", async () => {
    await me(bff, `Bearer ${await signToken(key, { sub: 'tpp-user-1' })}`).expect(200, { id: 'tpp-user-1' });
    // Within the clock tolerance (30 s by default) a just-expired token still passes.
    await me(bff, `Bearer ${await signToken(key, { sub: 'tpp-user-1', expiresIn: -10 })}`).expect(200);
  });

  it('refuses a token signed by another key', async () => {
    const other = await signingKey('RS256');
    expectUnauthenticated(await me(bff, `Bearer ${await signToken(other)}`), /signature is invalid/);
  });

  it('refuses alg:none and HS256 signed with the public key (algorithm confusion)', async () => {
    const claims = { iss: PRODUCTION_ENV.AUTH_ISSUER, aud: PRODUCTION_ENV.AUTH_AUDIENCE, sub: 'user-42' };
    expectUnauthenticated(await me(bff, `Bearer ${unsecuredToken(claims)}`), /algorithm is not accepted/);
    const confused = await hs256WithPublicKey(key.publicPem, claims);
    expectUnauthenticated(await me(bff, `Bearer ${confused}`), /algorithm is not accepted/, confused);
  });

  it.each([
    ['a wrong issuer', { iss: 'https://evil.example/' }, /issuer is not accepted/],
    ['a wrong audience', { aud: 'another-api' }, /audience is not accepted/],
    ['no issuer', { extra: { iss: undefined } }, /no "iss" claim/],
    ['an expiry in the past', { expiresIn: -120 }, /token expired/],
    ['no expiry', { expiresIn: null }, /no "exp" claim/],
    ['no subject', { sub: null }, /no "sub" claim/],
    ['an empty subject', { sub: '' }, /subject must be/],
    ['a subject over 255 characters', { sub: 'u'.repeat(256) }, /subject must be/],
    ['a non-string subject', { extra: { sub: 42 } }, /./],
    ['a not-before in the future', { extra: { nbf: Math.floor(Date.now() / 1000) + 600 } }, /not valid yet/],
    [
      'an issue time older than the maximum token age (24 h by default), however late it expires',
      { extra: { iat: Math.floor(Date.now() / 1000) - 86_400 - 120 }, expiresIn: 3600 },
      /older than the maximum token age/,
    ],
    ['an issue time in the future beyond the clock tolerance', { extra: { iat: Math.floor(Date.now() / 1000) + 120 } }, /issued in the future/],
    ['no issue time (required with a maximum token age)', { extra: { iat: undefined } }, /no "iat" claim/],
    ['a logout token type', { typ: 'logout+jwt' }, /token type is not accepted/],
    ['a DPoP proof type', { typ: 'dpop+jwt' }, /token type is not accepted/],
    ['a newline in the subject', { sub: 'alice\nINFO forged log line' }, /control or formatting characters/],
    ['a bidi override in the subject', { sub: 'alice\u202Eevil' }, /control or formatting characters/],
    ['a NUL in the subject', { sub: 'alice\u0000' }, /control or formatting characters/],
    ['a line separator in the subject', { sub: 'alice\u2028bob' }, /control or formatting characters/],
  ])('refuses a token with %s', async (_case, options, detail) => {
    const token = await signToken(key, options as Parameters<typeof signToken>[1]);
    expectUnauthenticated(await me(bff, `Bearer ${token}`), detail, token);
  });

  it.each([
    ['an access-token type (RFC 9068)', { typ: 'at+jwt' }],
    ['a media type spelled in full, in any case', { typ: 'application/AT+JWT' }],
    ['no type header (the issuer sets none)', { typ: null }],
    ['an issue time a little ahead (within the clock tolerance)', { extra: { iat: Math.floor(Date.now() / 1000) + 10 } }],
    ['a subject with non-ASCII letters', { sub: 'Zoë Łukasz' }],
  ])('accepts a token with %s', async (_case, options) => {
    await me(bff, `Bearer ${await signToken(key, options as Parameters<typeof signToken>[1])}`).expect(200);
  });
});

describe('user identity with a typed issuer and no maximum token age', () => {
  let bff: TestBff;
  let key: SigningKey;

  beforeAll(async () => {
    key = await signingKey('ES256');
    bff = await startTestBff({
      ...PRODUCTION_ENV,
      AUTH_PUBLIC_KEY: key.publicPem,
      AUTH_TOKEN_TYPES: 'at+jwt',
      AUTH_REQUIRE_TOKEN_TYPE: 'true',
      AUTH_MAX_TOKEN_AGE_SECONDS: '0',
    });
  });
  afterAll(async () => {
    await bff.close();
  });

  it('requires the configured type, accepts an old issue time, and still refuses one from the future', async () => {
    await me(bff, `Bearer ${await signToken(key, { typ: 'at+jwt', extra: { iat: Math.floor(Date.now() / 1000) - 7 * 86_400 } })}`).expect(200);
    await me(bff, `Bearer ${await signToken(key, { typ: 'at+jwt', extra: { iat: undefined } })}`).expect(200);
    expectUnauthenticated(await me(bff, `Bearer ${await signToken(key, { typ: null })}`), /no "typ" header/);
    expectUnauthenticated(await me(bff, `Bearer ${await signToken(key, { typ: 'JWT' })}`), /token type is not accepted/);
    expectUnauthenticated(
      await me(bff, `Bearer ${await signToken(key, { typ: 'at+jwt', extra: { iat: Math.floor(Date.now() / 1000) + 3600 } })}`),
      /issued in the future/,
    );
  });
});

describe('user identity in sandbox mode with a configured identity provider key', () => {
  let bff: TestBff;
  let key: SigningKey;

  beforeAll(async () => {
    key = await signingKey('ES256');
    bff = await startTestBff({ AUTH_PUBLIC_KEY: key.publicPem, AUTH_ISSUER: PRODUCTION_ENV.AUTH_ISSUER, AUTH_AUDIENCE: PRODUCTION_ENV.AUTH_AUDIENCE });
  });
  afterAll(async () => {
    await bff.close();
  });

  it("verifies the provider's tokens and turns the demo login off (its tokens could not verify)", async () => {
    await me(bff, `Bearer ${await signToken(key, { sub: 'dev-user' })}`).expect(200, { id: 'dev-user' });
    const res = await request(bff.url).post('/api/v1/sandbox/login').send({ userId: 'alice' }).expect(404);
    expect(res.body).toMatchObject({ code: 'not_found', detail: expect.stringMatching(/sandbox login is off/) });
  });
});

describe('user identity in production mode with a JWKS', () => {
  let idp: SigningKey;
  let jwks: JwksServer;
  let bff: TestBff;

  beforeAll(async () => {
    idp = await signingKey('ES256');
    jwks = await startJwksServer([{ ...idp.publicJwk, kid: 'idp-2026', alg: 'ES256', use: 'sig' }]);
    bff = await startTestBff({ ...PRODUCTION_ENV, AUTH_JWKS_URL: jwks.url });
  });
  afterAll(async () => {
    await bff.close();
    await jwks.close();
  });

  it('accepts a token whose kid is in the set', async () => {
    await me(bff, `Bearer ${await signToken(idp, { kid: 'idp-2026', sub: 'jwks-user' })}`).expect(200, { id: 'jwks-user' });
    expect(jwks.hits()).toBeGreaterThanOrEqual(1);
  });

  it('refuses a token whose kid is not in the set, or that the kid does not verify', async () => {
    const other = await signingKey('ES256');
    expectUnauthenticated(await me(bff, `Bearer ${await signToken(other, { kid: 'rogue' })}`), /signature is invalid/);
    expectUnauthenticated(await me(bff, `Bearer ${await signToken(other, { kid: 'idp-2026' })}`), /signature is invalid/);
  });

  it('answers 503, not 401, while the key set cannot be fetched', async () => {
    const down = await startJwksServer([], 500);
    const other = await startTestBff({ ...PRODUCTION_ENV, AUTH_JWKS_URL: down.url });
    try {
      const res = await me(other, `Bearer ${await signToken(idp, { kid: 'idp-2026' })}`).expect(503);
      expect(res.body.code).toBe('service_unavailable');
      expect(res.headers['retry-after']).toBe('5');
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(down.hits()).toBe(1);
    } finally {
      await other.close();
      await down.close();
    }
  });
});

describe('verified tokens remembered between requests', () => {
  let bff: TestBff;
  let key: SigningKey;

  beforeAll(async () => {
    key = await signingKey('ES256');
    // No clock tolerance: a token is refused the moment its exp or its maximum age has passed.
    bff = await startTestBff({ ...PRODUCTION_ENV, AUTH_PUBLIC_KEY: key.publicPem, AUTH_CLOCK_TOLERANCE_SECONDS: '0', AUTH_MAX_TOKEN_AGE_SECONDS: '600' });
  });
  afterAll(async () => {
    await bff.close();
  });

  const pastSecond = (epochSeconds: number) => new Promise((resolve) => setTimeout(resolve, epochSeconds * 1000 - Date.now() + 200));

  it('refuses a token answered from memory once its exp has passed', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = await signToken(key, { sub: 'short-lived', extra: { exp } });
    await me(bff, `Bearer ${token}`).expect(200, { id: 'short-lived' });
    await me(bff, `Bearer ${token}`).expect(200, { id: 'short-lived' });
    await pastSecond(exp);
    expectUnauthenticated(await me(bff, `Bearer ${token}`), /token expired/, token);
  });

  it('refuses a token answered from memory once its maximum age has passed, however late it expires', async () => {
    const iat = Math.floor(Date.now() / 1000) - 599;
    const token = await signToken(key, { sub: 'old-issue', expiresIn: 3600, extra: { iat } });
    await me(bff, `Bearer ${token}`).expect(200, { id: 'old-issue' });
    // jose refuses an age above the maximum: 601 s, not 600.
    await pastSecond(iat + 601);
    expectUnauthenticated(await me(bff, `Bearer ${token}`), /older than the maximum token age/, token);
  });

  it('never answers a token with the same claims but another signature from memory', async () => {
    const claims = { sub: 'alice', extra: { iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 } };
    const genuine = await signToken(key, claims);
    await me(bff, `Bearer ${genuine}`).expect(200, { id: 'alice' });
    const forged = await signToken(await signingKey('ES256'), claims);
    expect(forged.split('.').slice(0, 2)).toEqual(genuine.split('.').slice(0, 2));
    expectUnauthenticated(await me(bff, `Bearer ${forged}`), /signature is invalid/, forged);
    const [header, payload, signature] = genuine.split('.');
    const flipped = `${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith('AA') ? 'BA' : 'AA'}`;
    expectUnauthenticated(await me(bff, `Bearer ${flipped}`), /signature is invalid/);
    await me(bff, `Bearer ${genuine}`).expect(200, { id: 'alice' });
  });
});
