import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { accountsOf, bgClient, call, connectPayTokens, FL, floweTokens, PSU_IP, setModes, startSandbox, validConsent } from './helpers.js';

let sandbox: SandboxApp;
let base: string;
let flowe: string;
let connectpay: string;
beforeAll(async () => {
  sandbox = await startSandbox();
  base = sandbox.httpUrl;
  flowe = (await floweTokens(base)).access;
  connectpay = (await connectPayTokens(base)).access;
});
afterAll(() => sandbox.close());
afterEach(async () => {
  await call(`${base}/admin/reset`, { method: 'POST' });
});

let probes = 0;
/**
 * The gateway's answer to a consent-status read with exactly these key headers (bgClient adds none
 * when one is given); another unknown consent each time, so the one-status-read-per-second rule
 * never answers first.
 */
const withKeys = (headers: Record<string, string>) => bgClient(base, 'flowe', flowe).get(`/consents/UNKNOWN${++probes}/status`, headers);

describe('Flowe subscription-key spelling (prose PO-APIKey, samples P0-APIKey)', () => {
  // 403 CONSENT_UNKNOWN: the key was accepted and the request reached the Berlin Group layer.
  it.each([
    ['PO-APIKey', 'PO-APIKey'],
    ['P0-APIKey', 'P0-APIKey'],
    ['either', 'PO-APIKey'],
    ['either', 'P0-APIKey'],
  ])('in %s mode, accepts the key under %s', async (mode, header) => {
    await setModes(base, 'flowe', { subscriptionKeyHeader: mode });
    expect((await withKeys({ [header]: FL.subscriptionKey })).status).toBe(403);
  });

  it.each([
    ['PO-APIKey', 'P0-APIKey'],
    ['P0-APIKey', 'PO-APIKey'],
  ])('in %s mode, treats the key under %s as missing (APIM 401)', async (mode, header) => {
    await setModes(base, 'flowe', { subscriptionKeyHeader: mode });
    const res = await withKeys({ [header]: FL.subscriptionKey });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      statusCode: 401,
      message: expect.stringContaining(`missing subscription key. Make sure to include subscription key (header ${mode})`),
    });
  });

  it('accepts a request carrying both spellings in every mode (what a client safe against both readings sends)', async () => {
    for (const mode of ['PO-APIKey', 'P0-APIKey', 'either']) {
      await setModes(base, 'flowe', { subscriptionKeyHeader: mode });
      expect((await withKeys({ 'PO-APIKey': FL.subscriptionKey, 'P0-APIKey': FL.subscriptionKey })).status).toBe(403);
    }
  });

  it('logs which spellings came, never the key', async () => {
    await withKeys({ 'P0-APIKey': FL.subscriptionKey });
    const log = await call(`${base}/admin/requests?profile=flowe&route=consent-status`);
    expect(log.body.requests[0].subscriptionKeyHeaders).toEqual(['P0-APIKey']);
    expect(log.text).not.toContain(FL.subscriptionKey);
  });
});

describe('PSU IP header spelling (Berlin Group PSU-IP-Address, Flowe prose PSU-IpAddress)', () => {
  async function unattendedAfterOneRead(header: string): Promise<number> {
    const consentId = await validConsent(base, 'flowe', flowe, { frequencyPerDay: 1 });
    const read = () => bgClient(base, 'flowe', flowe).get('/accounts', { 'Consent-ID': consentId, [header]: PSU_IP });
    await read();
    return (await read()).status;
  }

  it.each([
    ['PSU-IP-Address', 'PSU-IP-Address', 200],
    ['PSU-IP-Address', 'PSU-IpAddress', 429],
    ['PSU-IpAddress', 'PSU-IpAddress', 200],
    ['PSU-IpAddress', 'PSU-IP-Address', 429],
    ['either', 'PSU-IP-Address', 200],
    ['either', 'PSU-IpAddress', 200],
  ])('in %s mode, a second read with frequencyPerDay 1 and only %s answers %i (an unrecognised spelling is unattended)', async (mode, header, status) => {
    await setModes(base, 'flowe', { psuIpHeader: mode });
    expect(await unattendedAfterOneRead(header)).toBe(status);
  });

  it('logs the spellings sent and whether the bank took the request as attended', async () => {
    await setModes(base, 'flowe', { psuIpHeader: 'PSU-IpAddress' });
    const consentId = await validConsent(base, 'flowe', flowe);
    await bgClient(base, 'flowe', flowe).get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP });
    const entry = (await call(`${base}/admin/requests?profile=flowe&route=accounts`)).body.requests[0];
    expect(entry).toMatchObject({ psuIpHeaders: ['PSU-IP-Address'], psuIpPresent: false });
    expect(entry.psuIp).toBeUndefined();
  });

  it('requires the recognised spelling on payment initiation (400 FORMAT_ERROR naming it)', async () => {
    await setModes(base, 'flowe', { psuIpHeader: 'PSU-IpAddress' });
    const debtor = (await accountsOf(base, 'alice', 'flowe'))[0]!.iban;
    const body = {
      debtorAccount: { iban: debtor },
      creditorAccount: { iban: 'DE89370400440532013000' },
      creditorName: 'Mario Verdi',
      instructedAmount: { currency: 'EUR', amount: '1.00' },
    };
    const api = bgClient(base, 'flowe', flowe);
    const refused = await api.post('/payments/sepa-credit-transfers', body, { 'PSU-IP-Address': PSU_IP });
    expect(refused.status).toBe(400);
    expect(refused.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'PSU-IpAddress' });
    assertBerlinGroupResponse('POST', '/v1/{payment-service}/{payment-product}', 400, refused.body);
    expect((await api.post('/payments/sepa-credit-transfers', body, { 'PSU-IpAddress': PSU_IP })).status).toBe(201);
  });

  it('recognises only PSU-IP-Address at ConnectPay by default (its document is silent: Berlin Group)', async () => {
    const consentId = await validConsent(base, 'connectpay', connectpay, { frequencyPerDay: 1, access: { allPsd2: 'allAccounts' } });
    const read = (headers: Record<string, string>) => bgClient(base, 'connectpay', connectpay).get('/accounts', { 'Consent-ID': consentId, ...headers });
    expect((await read({ 'PSU-IpAddress': PSU_IP })).status).toBe(200);
    expect((await read({ 'PSU-IpAddress': PSU_IP })).status).toBe(429);
    expect((await read({ 'PSU-IP-Address': PSU_IP })).status).toBe(200);
  });
});

describe('PSU IP format (the OpenAPI file: format ipv4)', () => {
  const read = async (ip: string) => {
    const consentId = await validConsent(base, 'flowe', flowe);
    return bgClient(base, 'flowe', flowe).get('/accounts', { 'Consent-ID': consentId, 'PSU-IP-Address': ip });
  };

  it.each(['2001:db8::7', '::ffff:203.0.113.7', '203.0.113.07', '203.0.113', 'localhost'])(
    'refuses %s in the default ipv4 mode (400 FORMAT_ERROR)',
    async (ip) => {
      const res = await read(ip);
      expect(res.status).toBe(400);
      expect(res.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'PSU-IP-Address' });
    },
  );

  it('accepts an IPv6 literal in ipv4-or-ipv6 mode, never a zone index', async () => {
    await setModes(base, 'flowe', { psuIpFormat: 'ipv4-or-ipv6' });
    expect((await read('2001:db8::7')).status).toBe(200);
    expect((await read('::ffff:203.0.113.7')).status).toBe(200);
    expect((await read('fe80::1%eth0')).status).toBe(400);
    expect((await read('203.0.113.7')).status).toBe(200);
  });
});
