import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { bgClient, call, consentBody, floweTokens, startSandbox } from './helpers.js';

let sandbox: SandboxApp;
let base: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
});
afterAll(() => sandbox.close());

describe('PSU app page', () => {
  it('lists pending consents with Approve / Reject forms that decide them', async () => {
    const { access } = await floweTokens(base);
    const consent = await bgClient(base, 'flowe', access).post('/consents', consentBody());
    const id = consent.body.consentId as string;
    const page = await call(`${base}/psu?username=alice`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(id);
    expect(page.text).toContain('action="/psu/decisions"');
    expect(page.text).toContain('name="decision" value="approve"');
    expect(page.text).toContain('name="decision" value="reject"');
    expect((await call(`${base}/psu?username=bob`)).text).not.toContain(id);

    const decided = await call(`${base}/psu/decisions`, { form: { kind: 'consent', id, decision: 'approve', username: 'alice' } });
    expect(decided.status).toBe(303);
    expect(decided.location).toMatch(/^\/psu\?notice=.*valid.*&username=alice$/);
    expect((await bgClient(base, 'flowe', access).get(`/consents/${id}/status`)).body.consentStatus).toBe('valid');
    expect((await call(`${base}/psu/api/pending?username=alice`)).body).toEqual({ consents: [], payments: [] });
  });

  it('escapes what the TPP sent', async () => {
    const { access } = await floweTokens(base);
    const account = (await call(`${base}/admin/users`)).body.users[0].customers.find((c: { profile: string }) => c.profile === 'flowe').accounts[0];
    await bgClient(base, 'flowe', access).post(
      '/payments/sepa-credit-transfers',
      {
        debtorAccount: { iban: account.iban },
        creditorAccount: { iban: 'DE89370400440532013000' },
        creditorName: '<script>alert(1)</script>',
        instructedAmount: { currency: 'EUR', amount: '1.00' },
      },
      { 'PSU-IP-Address': '198.51.100.1' },
    );
    const page = await call(`${base}/psu`);
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('&lt;script&gt;');
  });
});

describe('browser access for a local demo page', () => {
  it('allows CORS from local origins on the PSU API, not from others and not on bank APIs', async () => {
    const preflight = await call(`${base}/psu/api/decisions`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://localhost:3000');
    const pending = await call(`${base}/psu/api/pending`, { headers: { origin: 'http://127.0.0.1:5173' } });
    expect(pending.headers.get('access-control-allow-origin')).toBe('http://127.0.0.1:5173');
    expect((await call(`${base}/psu/api/pending`, { headers: { origin: 'https://evil.example' } })).headers.get('access-control-allow-origin')).toBeNull();
    expect(
      (await call(`${base}/flowe/openbankingais/v1/accounts`, { headers: { origin: 'http://localhost:3000' } })).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });

  it('has a home page listing the endpoints and the demo accounts', async () => {
    const home = await call(`${base}/`);
    expect(home.status).toBe(200);
    expect(home.text).toContain(`${base}/flowe/idp/oauth2/v2.0/authorize`);
    expect(home.text).toMatch(/<code>LT\d{18}<\/code>/);
    expect(home.text).toMatch(/<code>IT\d{2}[A-Z]\d{22}<\/code>/);
  });
});
