import { randomUUID } from 'node:crypto';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { advanceClock, bgClient, call, connectPayTokens, consentBody, FL, floweTokens, startSandbox } from './helpers.js';

let sandbox: SandboxApp;
let base: string;
let flowe: { access: string };
let connectpay: { access: string };
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
  flowe = await floweTokens(base);
  connectpay = await connectPayTokens(base);
});
afterAll(() => sandbox.close());

const code = (res: { body: { tppMessages?: { code: string }[] } }) => res.body.tppMessages?.[0]?.code;

describe('every Berlin Group request', () => {
  it('needs an X-Request-ID UUID (400 FORMAT_ERROR) and gets it echoed', async () => {
    const api = bgClient(base, 'connectpay', connectpay.access);
    const missing = await api.post('/consents', consentBody(), { 'X-Request-ID': '' });
    expect(missing.status).toBe(400);
    expect(code(missing)).toBe('FORMAT_ERROR');
    assertBerlinGroupResponse('POST', '/v1/consents', 400, missing.body);
    const notUuid = await api.post('/consents', consentBody(), { 'X-Request-ID': 'abc' });
    expect(notUuid.status).toBe(400);
    expect(notUuid.headers.get('x-request-id')).toBe('abc');
    const id = randomUUID();
    const ok = await api.post('/consents', consentBody(), { 'X-Request-ID': id });
    expect(ok.status).toBe(201);
    expect(ok.headers.get('x-request-id')).toBe(id);
  });

  it("needs a Bearer token: missing → TOKEN_INVALID, unknown → TOKEN_UNKNOWN, other bank's → TOKEN_UNKNOWN", async () => {
    const missing = await bgClient(base, 'flowe', '').get('/consents/x/status', { Authorization: '' });
    expect(missing.status).toBe(401);
    expect(code(missing)).toBe('TOKEN_INVALID');
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);
    assertBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 401, missing.body);
    const unknown = await bgClient(base, 'flowe', 'not-a-token').get('/consents/x/status');
    expect(code(unknown)).toBe('TOKEN_UNKNOWN');
    const crossBank = await bgClient(base, 'connectpay', flowe.access).get('/consents/x/status');
    expect(crossBank.status).toBe(401);
    expect(code(crossBank)).toBe('TOKEN_UNKNOWN');
  });

  it('refuses a malformed PSU-IP-Address', async () => {
    const res = await bgClient(base, 'flowe', flowe.access).get('/accounts', { 'PSU-IP-Address': 'localhost' });
    expect(res.status).toBe(400);
    expect(res.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'PSU-IP-Address' });
  });

  it('answers unknown API paths with a Berlin Group 404', async () => {
    const res = await bgClient(base, 'flowe', flowe.access).get('/card-accounts');
    expect(res.status).toBe(404);
    expect(code(res)).toBe('RESOURCE_UNKNOWN');
  });

  it('refuses a body that is not JSON with 415 and malformed JSON with 400 FORMAT_ERROR', async () => {
    const headers = { 'X-Request-ID': randomUUID(), Authorization: `Bearer ${flowe.access}`, 'PO-APIKey': FL.subscriptionKey };
    const text = await fetch(`${base}/flowe/openbankingais/v1/consents`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: 'hello',
    });
    expect(text.status).toBe(415);
    const broken = await fetch(`${base}/flowe/openbankingais/v1/consents`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: '{"access":',
    });
    expect(broken.status).toBe(400);
    expect(((await broken.json()) as { tppMessages: { code: string }[] }).tppMessages[0]!.code).toBe('FORMAT_ERROR');
  });
});

describe('Flowe subscription key', () => {
  it("is required on every API call (401 with the API gateway's message)", async () => {
    // bgClient adds the key unless a PO-/P0-APIKey header is given; an empty one is dropped before sending.
    const res = await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody(), { 'PO-APIKey': '' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: expect.stringContaining('missing subscription key') });
  });

  it('must be the right key', async () => {
    const res = await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody(), { 'PO-APIKey': 'wrong' });
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/invalid subscription key/);
  });

  it("is accepted under the guide's other spelling P0-APIKey (zero)", async () => {
    const res = await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody(), { 'P0-APIKey': FL.subscriptionKey });
    expect(res.status).toBe(200);
  });

  it('is not needed for ConnectPay', async () => {
    const res = await bgClient(base, 'connectpay', connectpay.access).post('/consents', consentBody());
    expect(res.status).toBe(201);
  });
});

describe('access token expiry', () => {
  it('answers TOKEN_EXPIRED after POST /admin/tokens/expire, for that bank only', async () => {
    const own = await startSandbox();
    try {
      const f = await floweTokens(own.httpUrl);
      const c = await connectPayTokens(own.httpUrl);
      const expired = await call(`${own.httpUrl}/admin/tokens/expire`, { json: { profile: 'flowe' } });
      expect(expired.body.expired).toBeGreaterThanOrEqual(1);
      const res = await bgClient(own.httpUrl, 'flowe', f.access).post('/consents', consentBody());
      expect(res.status).toBe(401);
      expect(code(res)).toBe('TOKEN_EXPIRED');
      expect((await bgClient(own.httpUrl, 'connectpay', c.access).post('/consents', consentBody())).status).toBe(201);
    } finally {
      await own.close();
    }
  });

  it('answers TOKEN_EXPIRED once expires_in has passed on the sandbox clock', async () => {
    const own = await startSandbox({ accessTokenTtlSeconds: 120 });
    try {
      const c = await connectPayTokens(own.httpUrl);
      await advanceClock(own.httpUrl, 119);
      expect((await bgClient(own.httpUrl, 'connectpay', c.access).post('/consents', consentBody())).status).toBe(201);
      await advanceClock(own.httpUrl, 1);
      expect(code(await bgClient(own.httpUrl, 'connectpay', c.access).post('/consents', consentBody()))).toBe('TOKEN_EXPIRED');
    } finally {
      await own.close();
    }
  });
});
