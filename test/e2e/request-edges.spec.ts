import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { sandboxLogin } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';

/** Requests found by probing the pipeline's edges: each used to answer 500 or to slip past a guard. */
describe('request pipeline edges', () => {
  let bff: TestBff;
  let token: string;

  beforeAll(async () => {
    bff = await startTestBff();
    token = await sandboxLogin(bff.url, 'alice');
  });
  afterAll(async () => {
    await bff.close();
  });

  const post = (path: string, body: Buffer | string, headers: Record<string, string>) =>
    fetch(`${bff.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers }, body });

  it.each(['gzip', 'br', 'deflate'])('a body that is not valid %s is a 400 problem naming Content-Encoding', async (encoding) => {
    const res = await post('/api/v1/connections', 'this is not compressed at all', { 'content-encoding': encoding });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({
      status: 400,
      code: 'validation_failed',
      errors: [{ field: 'header:Content-Encoding', message: 'does not match the body' }],
    });
  });

  it.each([
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
    ['deflate', deflateSync],
  ] as const)('a valid %s body is read as JSON', async (encoding, compress) => {
    const res = await post('/api/v1/connections', compress(Buffer.from(JSON.stringify({ aspspId: 'flowe', returnUrl: `${bff.url}/` }))), {
      'content-encoding': encoding,
    });
    expect(res.status).toBe(201);
  });

  it('routes are case-sensitive: /API/v1/me is not /api/v1/me, and is still answered no-store', async () => {
    const lower = await fetch(`${bff.url}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(lower.status).toBe(200);
    for (const path of ['/API/v1/me', '/Api/V1/Me', '/api/V1/me']) {
      const res = await fetch(`${bff.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(404);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(await res.json()).toMatchObject({ code: 'not_found' });
    }
  });

  it('the JSON-only guard holds whatever the path’s case: a form body is a 415, never parsed', async () => {
    for (const path of ['/api/v1/connections', '/API/v1/connections', '/aPi/v1/connections']) {
      const res = await post(path, 'aspspId=flowe', { 'content-type': 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(415);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('login routes are no-store whatever the case', async () => {
    const res = await fetch(`${bff.url}/AUTH/flowe/login?ticket=x`, { redirect: 'manual' });
    expect(res.status).toBe(404);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});
