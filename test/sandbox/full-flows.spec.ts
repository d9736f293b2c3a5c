import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dispatcher } from 'undici';
import { generateSandboxCerts, type SandboxCertificates } from '../../src/sandbox/certs.js';
import type { Profile } from '../../src/sandbox/config.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupRequest, assertBerlinGroupResponse, berlinGroupSpecPath } from '../support/berlin-group-openapi.js';
import {
  advanceClock,
  bgClient,
  call,
  connectPayLogin,
  connectPayToken,
  consentBody,
  CP_REDIRECT,
  decide,
  floweLogin,
  floweToken,
  mtlsAgent,
  PSU_IP,
  startSandbox,
  type HttpResult,
} from './helpers.js';

/**
 * The whole demo flow for each bank, over real HTTP: authorize → login form → code → token → consent →
 * PSU approval → accounts → balances → every transaction page → payment → PSU approval → ACSP → ACSC.
 * Every Berlin Group request and response body is checked against the OpenAPI definition.
 */
async function runFlow(sandbox: SandboxApp, base: string, profile: Profile, tokens: { access: string }, dispatcher?: Dispatcher): Promise<void> {
  const api = bgClient(base, profile, tokens.access, { dispatcher });
  // Status endpoints answer one request per second per resource: step the sandbox clock as a polling client waits.
  const poll = async (href: string): Promise<HttpResult> => {
    await advanceClock(sandbox.httpUrl, 1);
    return api.get(href);
  };
  const checked = (method: string, res: HttpResult, path: string): HttpResult => {
    const template = berlinGroupSpecPath(path);
    if (template === undefined) throw new Error(`no spec path for ${path}`);
    assertBerlinGroupResponse(method, template, res.status, res.body);
    expect(res.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    return res;
  };

  const consentRequest = consentBody();
  assertBerlinGroupRequest('POST', '/v1/consents', consentRequest);
  const created = await api.post('/consents', consentRequest);
  // Flowe answers as its guide's sample (200, only `_links.status` written /v1/…); the body is the spec's 201 body.
  const guide = profile === 'flowe';
  expect(created.status).toBe(guide ? 200 : 201);
  assertBerlinGroupResponse('POST', '/v1/consents', 201, created.body);
  expect(created.body.consentStatus).toBe('received');
  const consentId = created.body.consentId as string;
  const links = { ...(created.body._links as Record<string, { href: string }>) };
  if (guide) {
    expect(links).toEqual({ status: { href: `/v1/consents/${consentId}/status` } });
    links.status = { href: `/flowe/openbankingais${links.status!.href}` };
    const authorisations = checked('GET', await api.get(`/consents/${consentId}/authorisations`), `/v1/consents/${consentId}/authorisations`);
    links.scaStatus = { href: `/flowe/openbankingais/v1/consents/${consentId}/authorisations/${authorisations.body.authorisationIds[0]}` };
  }
  expect(links.status!.href).toBe(`${profile === 'flowe' ? '/flowe/openbankingais' : '/connectpay/psd2'}/v1/consents/${consentId}/status`);

  const beforeApproval = checked('GET', await api.get(links.status!.href), links.status!.href);
  expect(beforeApproval.body).toEqual({ consentStatus: 'received' });
  checked('GET', await api.get(links.scaStatus!.href), links.scaStatus!.href);

  const pending = await call(`${sandbox.httpUrl}/psu/api/pending?username=alice`);
  expect(pending.body.consents.map((c: { id: string }) => c.id)).toContain(consentId);
  expect((await decide(sandbox.httpUrl, 'consent', consentId)).body).toMatchObject({ status: 'valid', scaStatus: 'finalised' });
  expect(checked('GET', await poll(links.status!.href), links.status!.href).body.consentStatus).toBe('valid');
  expect(checked('GET', await poll(links.scaStatus!.href), links.scaStatus!.href).body.scaStatus).toBe('finalised');
  checked('GET', await api.get(`/consents/${consentId}`), `/v1/consents/${consentId}`);

  const withConsent = { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP };
  const accounts = checked('GET', await api.get('/accounts', withConsent), '/v1/accounts');
  expect(accounts.status).toBe(200);
  const account = accounts.body.accounts[0];
  checked('GET', await api.get(`/accounts/${account.resourceId}`, withConsent), `/v1/accounts/${account.resourceId}`);
  const balances = checked('GET', await api.get(account._links.balances.href, withConsent), account._links.balances.href);
  expect(balances.body.balances[0].balanceType).toBe('closingBooked');
  expect(typeof balances.body.balances[0].balanceAmount.amount).toBe('string');

  const dateFrom = new Date(Date.now() - 400 * 86_400_000).toISOString().slice(0, 10);
  let next: string | undefined = `${account._links.transactions.href}?bookingStatus=both&dateFrom=${dateFrom}`;
  let pages = 0;
  const ids = new Set<string>();
  // Attended, as a PSU scrolling back would be: Flowe counts every unattended page as a use of the consent.
  while (next !== undefined) {
    const page = checked('GET', await api.get(next, withConsent), next);
    expect(page.status).toBe(200);
    for (const t of [...page.body.transactions.booked, ...page.body.transactions.pending]) ids.add(t.transactionId);
    next = page.body.transactions._links.next?.href;
    pages++;
  }
  expect(pages).toBeGreaterThanOrEqual(6);
  expect(ids.size).toBeGreaterThan(250);

  const paymentRequest = {
    debtorAccount: { iban: account.iban },
    creditorAccount: { iban: 'DE89370400440532013000' },
    creditorName: 'Mario Verdi',
    instructedAmount: { currency: 'EUR', amount: '42.50' },
    chargeBearer: 'DEBT',
    remittanceInformationUnstructured: 'Dinner',
  };
  assertBerlinGroupRequest('POST', '/v1/{payment-service}/{payment-product}', paymentRequest);
  const payment = checked(
    'POST',
    await api.post('/payments/sepa-credit-transfers', paymentRequest, { 'PSU-IP-Address': PSU_IP }),
    '/v1/payments/sepa-credit-transfers',
  );
  expect(payment.status).toBe(201);
  expect(payment.body).toMatchObject({ transactionStatus: 'RCVD', transactionFeeIndicator: false });
  const paymentLinks = payment.body._links as Record<string, { href: string }>;
  expect(paymentLinks.scaStatus!.href).toMatch(/\/payments\/sepa-credit-transfers\/[^/]+\/authorisations\/[^/]+$/);
  const statusHref = paymentLinks.status!.href;
  expect(checked('GET', await api.get(statusHref), statusHref).body.transactionStatus).toBe('RCVD');
  expect(checked('GET', await api.get(paymentLinks.scaStatus!.href), paymentLinks.scaStatus!.href).body.scaStatus).toBe('received');

  expect((await decide(sandbox.httpUrl, 'payment', payment.body.paymentId)).body).toMatchObject({ status: 'ACSP', scaStatus: 'finalised' });
  expect(checked('GET', await poll(statusHref), statusHref).body.transactionStatus).toBe('ACSP');
  expect(checked('GET', await poll(paymentLinks.scaStatus!.href), paymentLinks.scaStatus!.href).body.scaStatus).toBe('finalised');
  // Settlement, then the next cut-off (Flowe clears every minute of the sandbox clock): a minute more covers both.
  await advanceClock(sandbox.httpUrl, sandbox.config.settlementSeconds + 60);
  expect(checked('GET', await poll(statusHref), statusHref).body.transactionStatus).toBe('ACSC');
  const full = checked('GET', await api.get(paymentLinks.self!.href), paymentLinks.self!.href);
  expect(full.body).toMatchObject({ ...paymentRequest, transactionStatus: 'ACSC' });

  // The settled payment shows on the account.
  const latest = checked('GET', await api.get(`${account._links.transactions.href}?bookingStatus=booked`, withConsent), account._links.transactions.href);
  expect(latest.body.transactions.booked[0]).toMatchObject({ transactionId: payment.body.paymentId, transactionAmount: { currency: 'EUR', amount: '-42.50' } });
}

describe('full ConnectPay flow (plain HTTP)', () => {
  let sandbox: SandboxApp;
  beforeAll(async () => {
    sandbox = await startSandbox();
  });
  afterAll(() => sandbox.close());

  it('runs from authorize to a settled payment, every body valid per the Berlin Group definition', async () => {
    const base = sandbox.httpUrl;
    const callback = await connectPayLogin(base, { username: 'alice' });
    expect(callback).toEqual({ code: expect.any(String), state: expect.any(String), flowid: 'GetPSD2AuthCode' });
    const token = await connectPayToken(base, { grant_type: 'authorization_code', code: callback.code!, redirect_url: CP_REDIRECT });
    expect(token.status).toBe(200);
    expect(token.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
      scope: 'psd2-ais psd2-pis',
    });
    await runFlow(sandbox, base, 'connectpay', { access: token.body.access_token });
  });
});

describe('full Flowe flow over mutual TLS', () => {
  let sandbox: SandboxApp;
  let certs: SandboxCertificates;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sandbox-certs-'));
    certs = generateSandboxCerts(dir);
    sandbox = await startSandbox({ requireMtls: true, tls: { port: 0, cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert } });
  });
  afterAll(async () => {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs from authorize to a settled payment with a client certificate on every server call', async () => {
    const agent = mtlsAgent({ ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key });
    const base = sandbox.httpsUrl!;
    // The browser part (authorize, login) needs no client certificate.
    const callback = await floweLogin(sandbox.httpUrl, { username: 'alice' });
    expect(Object.keys(callback).sort()).toEqual(['code', 'state']);
    const token = await floweToken(base, { grant_type: 'authorization_code', code: callback.code! }, agent);
    expect(token.status).toBe(200);
    expect(token.body).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      refresh_token: expect.any(String),
      refresh_token_expires_in: 90 * 86_400,
      scope: expect.stringContaining('offline_access'),
    });
    await runFlow(sandbox, base, 'flowe', { access: token.body.access_token }, agent);
    const log = await call(`${sandbox.httpUrl}/admin/requests?profile=flowe`);
    const serverCalls = log.body.requests.filter((r: { kind: string }) => r.kind !== 'authorize');
    expect(serverCalls.length).toBeGreaterThan(10);
    expect(serverCalls.every((r: { clientCertVerified: boolean }) => r.clientCertVerified)).toBe(true);
    await agent.close();
  });
});
