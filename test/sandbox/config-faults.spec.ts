import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSandboxCerts, type SandboxCertificates } from '../../src/sandbox/certs.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import {
  bgClient,
  call,
  connectPayToken,
  connectPayTokens,
  consentBody,
  floweAuthorizeUrl,
  floweLogin,
  floweToken,
  floweTokens,
  mtlsAgent,
  setConfigFaults,
  setModes,
  startSandbox,
} from './helpers.js';

/**
 * Configuration faults: the TPP's or the bank's set-up is wrong, the PSU's grant is not touched. Each
 * knob refuses what it should, leaves everything else alone, and service returns when it is restored
 * with the same tokens.
 */
describe('configuration faults (plain HTTP)', () => {
  let sandbox: SandboxApp;
  let base: string;
  beforeAll(async () => {
    sandbox = await startSandbox();
    base = sandbox.httpUrl;
  });
  afterAll(() => sandbox.close());
  afterEach(async () => {
    await call(`${base}/admin/reset`, { method: 'POST' });
  });

  it("rotated subscription key: every Flowe API call gets APIM's 401 without tppMessages; restoring it restores service", async () => {
    const { access } = await floweTokens(base);
    await setConfigFaults(base, 'flowe', { subscriptionKeyRotated: true });
    const refused = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    expect(refused.status).toBe(401);
    expect(refused.body).toEqual({ statusCode: 401, message: expect.stringContaining('invalid subscription key') });
    expect(refused.headers.get('www-authenticate')).toBeNull();
    // The IdP has no subscription key: token calls are unaffected; ConnectPay has no key at all.
    expect((await floweTokens(base)).access).toBeDefined();
    expect((await bgClient(base, 'connectpay', (await connectPayTokens(base)).access).post('/consents', consentBody())).status).toBe(201);
    expect((await call(`${base}/admin/config-faults`, { json: { profile: 'flowe', subscriptionKeyRotated: false } })).status).toBe(200);
    expect((await bgClient(base, 'flowe', access).post('/consents', consentBody())).status).toBe(200);
  });

  it('expired client secret: both grants get 401 invalid_client, the refresh token is not spent', async () => {
    await setModes(base, 'flowe', { refreshTokens: 'rotate' });
    const flowe = await floweTokens(base);
    const { code } = await floweLogin(base);
    await setConfigFaults(base, 'flowe', { clientSecretExpired: true });
    const forms: Record<string, string>[] = [
      { grant_type: 'refresh_token', refresh_token: flowe.refresh },
      { grant_type: 'authorization_code', code: code! },
    ];
    for (const form of forms) {
      const res = await floweToken(base, form);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.stringContaining('AADSTS7000222') });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    // Access tokens already issued keep working; only the token endpoint refuses the client.
    expect((await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody())).status).toBe(200);
    await call(`${base}/admin/config-faults?profile=flowe`, { method: 'DELETE' });
    expect((await floweToken(base, { grant_type: 'refresh_token', refresh_token: flowe.refresh })).status).toBe(200);
    expect((await floweToken(base, { grant_type: 'authorization_code', code: code! })).status).toBe(200);
  });

  it('expired client secret at ConnectPay: invalid_client with its own description', async () => {
    const { refresh } = await connectPayTokens(base);
    await setConfigFaults(base, 'connectpay', { clientSecretExpired: true });
    const res = await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: refresh });
    expect(res.body).toEqual({ error: 'invalid_client', error_description: 'the client secret has expired' });
    await setConfigFaults(base, 'connectpay', { clientSecretExpired: false });
    expect((await connectPayToken(base, { grant_type: 'refresh_token', refresh_token: refresh })).status).toBe(200);
  });

  it('login server 429: the token endpoint throttles with Retry-After; the API and the other bank answer', async () => {
    const flowe = await floweTokens(base);
    await setConfigFaults(base, 'flowe', { loginServer429: true, loginServerRetryAfterSeconds: 30 });
    const res = await floweToken(base, { grant_type: 'refresh_token', refresh_token: flowe.refresh });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(res.body.error).toBe('temporarily_unavailable');
    expect((await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody())).status).toBe(200);
    expect((await connectPayTokens(base)).access).toBeDefined();
    await setConfigFaults(base, 'flowe', { loginServer429: false });
    expect((await floweToken(base, { grant_type: 'refresh_token', refresh_token: flowe.refresh })).status).toBe(200);
  });

  it('refused certificate: 401 invalid_client on token calls and 401 CERTIFICATE_INVALID on the API, authorize untouched', async () => {
    const flowe = await floweTokens(base);
    await setConfigFaults(base, 'flowe', { tls: 'refuse-certificate' });
    const token = await floweToken(base, { grant_type: 'refresh_token', refresh_token: flowe.refresh });
    expect(token.status).toBe(401);
    expect(token.body.error).toBe('invalid_client');
    const api = await bgClient(base, 'flowe', flowe.access).post('/consents', consentBody());
    expect(api.status).toBe(401);
    expect(api.body.tppMessages[0].code).toBe('CERTIFICATE_INVALID');
    assertBerlinGroupResponse('POST', '/v1/consents', 401, api.body);
    expect((await call(floweAuthorizeUrl(base))).status).toBe(302);
    await setConfigFaults(base, 'flowe', { tls: 'ok' });
    expect((await floweToken(base, { grant_type: 'refresh_token', refresh_token: flowe.refresh })).status).toBe(200);
  });

  it('lists, validates and clears the knobs; reset clears them too', async () => {
    await setConfigFaults(base, 'flowe', { clientSecretExpired: true });
    expect((await call(`${base}/admin/config-faults`)).body.configFaults.flowe).toEqual({
      subscriptionKeyRotated: false,
      clientSecretExpired: true,
      loginServer429: false,
      tls: 'ok',
    });
    for (const bad of [
      { profile: 'connectpay', subscriptionKeyRotated: true },
      { profile: 'flowe', tls: 'maybe' },
      { profile: 'flowe', expired: true },
      { profile: 'bank' },
    ]) {
      expect((await call(`${base}/admin/config-faults`, { json: bad })).status).toBe(400);
    }
    await call(`${base}/admin/reset`, { method: 'POST' });
    expect((await call(`${base}/admin/config-faults`)).body.configFaults.flowe.clientSecretExpired).toBe(false);
  });
});

describe('TLS refusal at the handshake', () => {
  let dir: string;
  let certs: SandboxCertificates;
  let sandbox: SandboxApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-tls-'));
    certs = generateSandboxCerts(dir);
    sandbox = await startSandbox({ tls: { port: 0, cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const agent = () => mtlsAgent({ ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });

  it("fails the handshake on the bank's own listener, drops the bank's calls on the shared ones, and recovers when restored", async () => {
    const urls = sandbox.bankHttpsUrls!;
    expect(new Set([urls.flowe, urls.connectpay, sandbox.httpsUrl]).size).toBe(3);
    const { code } = await floweLogin(sandbox.httpUrl);
    const client = agent();
    // A connection opened before the refusal is closed by it: the client has to shake hands again.
    expect((await call(`${urls.flowe}/admin/clock`, { dispatcher: client })).status).toBe(200);
    await setConfigFaults(sandbox.httpUrl, 'flowe', { tls: 'refuse-handshake' });
    await expect(floweToken(urls.flowe, { grant_type: 'authorization_code', code: code! }, client)).rejects.toThrow();
    // A fresh connection fails in the TLS layer itself: the server's alert, not a dropped HTTP request.
    const handshake = await call(`${urls.flowe}/admin/clock`, { dispatcher: agent() }).catch((error: Error) => error);
    expect(handshake).toBeInstanceOf(Error);
    expect(String((handshake as Error & { cause?: { code?: string } }).cause?.code)).toMatch(/^ERR_SSL_/);
    await expect(floweToken(sandbox.httpsUrl!, { grant_type: 'authorization_code', code: code! }, agent())).rejects.toThrow();
    await expect(floweToken(sandbox.httpUrl, { grant_type: 'authorization_code', code: code! })).rejects.toThrow();
    // ConnectPay's listener and the browser-facing pages are not affected.
    expect((await call(`${urls.connectpay}/admin/clock`, { dispatcher: agent() })).status).toBe(200);
    expect((await call(floweAuthorizeUrl(sandbox.httpUrl))).status).toBe(302);
    const log = await call(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=token`);
    expect(log.body.requests.map((r: { fault?: string; status: number }) => [r.fault, r.status])).toEqual([
      ['tls-refused', 0],
      ['tls-refused', 0],
    ]);

    await setConfigFaults(sandbox.httpUrl, 'flowe', { tls: 'ok' });
    const ok = await floweToken(urls.flowe, { grant_type: 'authorization_code', code: code! }, agent());
    expect(ok.status).toBe(200);
    await client.close();
  });
});
