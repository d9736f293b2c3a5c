import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateSandboxCerts, type SandboxCertificates } from '../../src/sandbox/certs.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { bgClient, call, connectPayAuthorizeUrl, consentBody, floweAuthorizeUrl, floweLogin, floweToken, mtlsAgent, startSandbox } from './helpers.js';

let dir: string;
let certs: SandboxCertificates;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sandbox-mtls-'));
  certs = generateSandboxCerts(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tlsOptions = () => ({ port: 0, cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert });

describe('requireMtls: true', () => {
  let sandbox: SandboxApp;
  beforeAll(async () => {
    sandbox = await startSandbox({ requireMtls: true, tls: tlsOptions() });
  });
  afterAll(() => sandbox.close());

  const trusted = () => mtlsAgent({ ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
  const rogue = () => mtlsAgent({ ca: certs.ca.cert, cert: certs.rogueClient.cert, key: certs.rogueClient.key });
  const noCert = () => mtlsAgent({ ca: certs.ca.cert });

  async function floweCode(): Promise<string> {
    return (await floweLogin(sandbox.httpUrl)).code!;
  }

  it('serves the browser pages without a client certificate', async () => {
    expect((await call(floweAuthorizeUrl(sandbox.httpUrl))).status).toBe(302);
    expect((await call(connectPayAuthorizeUrl(sandbox.httpsUrl!), { dispatcher: noCert() })).status).toBe(301);
    expect((await call(`${sandbox.httpUrl}/psu`)).status).toBe(200);
  });

  it('refuses the token endpoint without a client certificate (401 invalid_client), over HTTP and HTTPS', async () => {
    const code = await floweCode();
    for (const [url, dispatcher] of [
      [sandbox.httpUrl, undefined],
      [sandbox.httpsUrl!, noCert()],
    ] as const) {
      const res = await floweToken(url, { grant_type: 'authorization_code', code }, dispatcher);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_client', error_description: expect.stringContaining('no client certificate') });
    }
    // The code was not used up by the refused calls.
    expect((await floweToken(sandbox.httpsUrl!, { grant_type: 'authorization_code', code }, trusted())).status).toBe(200);
  });

  it('refuses a client certificate from an unknown CA', async () => {
    const res = await floweToken(sandbox.httpsUrl!, { grant_type: 'authorization_code', code: await floweCode() }, rogue());
    expect(res.status).toBe(401);
    expect(res.body.error_description).toMatch(/not issued by a trusted CA/);
  });

  it('refuses API calls without a verified certificate: 401 CERTIFICATE_INVALID', async () => {
    const token = await floweToken(sandbox.httpsUrl!, { grant_type: 'authorization_code', code: await floweCode() }, trusted());
    const access = token.body.access_token as string;
    for (const dispatcher of [noCert(), rogue()]) {
      const res = await bgClient(sandbox.httpsUrl!, 'flowe', access, { dispatcher }).post('/consents', consentBody());
      expect(res.status).toBe(401);
      expect(res.body.tppMessages[0].code).toBe('CERTIFICATE_INVALID');
      assertBerlinGroupResponse('POST', '/v1/consents', 401, res.body);
    }
    expect((await bgClient(sandbox.httpUrl, 'flowe', access).post('/consents', consentBody())).body.tppMessages[0].code).toBe('CERTIFICATE_INVALID');
    expect((await bgClient(sandbox.httpsUrl!, 'flowe', access, { dispatcher: trusted() }).post('/consents', consentBody())).status).toBe(200);
    const log = await call(`${sandbox.httpUrl}/admin/requests?route=consents`);
    expect(log.body.requests.map((r: { clientCert: string; status: number }) => [r.clientCert, r.status])).toEqual([
      ['none', 401],
      ['unverified', 401],
      ['none', 401],
      ['verified', 200],
    ]);
  });
});

describe('requireMtls: false (default)', () => {
  it('accepts calls without a client certificate over HTTPS and records whether one was verified', async () => {
    const sandbox = await startSandbox({ tls: tlsOptions() });
    try {
      const code = (await floweLogin(sandbox.httpUrl)).code!;
      const res = await floweToken(sandbox.httpsUrl!, { grant_type: 'authorization_code', code }, mtlsAgent({ ca: certs.ca.cert }));
      expect(res.status).toBe(200);
      const log = await call(`${sandbox.httpUrl}/admin/requests?route=token`);
      expect(log.body.requests[0]).toMatchObject({ clientCert: 'none', clientCertVerified: false });
    } finally {
      await sandbox.close();
    }
  });

  it('lets a client that trusts only the sandbox CA refuse a bank certificate from the rogue CA', async () => {
    const sandbox = await startSandbox({ tls: { port: 0, cert: certs.rogueServer.cert, key: certs.rogueServer.key, ca: certs.ca.cert } });
    try {
      await expect(call(`${sandbox.httpsUrl}/admin/clock`, { dispatcher: mtlsAgent({ ca: certs.ca.cert }) })).rejects.toThrow();
    } finally {
      await sandbox.close();
    }
  });
});
