import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { accountsOf, advanceClock, bgClient, call, connectPayTokens, consentBody, floweTokens, PSU_IP, setModes, startSandbox } from './helpers.js';

/**
 * "TPP can now start polling with a reasonable frequency (no more than 1/sec)" (Flowe guide 4.1 step 5,
 * 4.2 step 3): consent status, payment status and both SCA status endpoints answer 429 to a second
 * request for the same resource within the bank's statusPollMinIntervalMs.
 */
describe('status polling rate', () => {
  let sandbox: SandboxApp;
  let base: string;
  let flowe: string;
  let connectpay: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ modes: { flowe: { statusPollMinIntervalMs: 1000 } } });
    base = sandbox.httpUrl;
    flowe = (await floweTokens(base)).access;
    connectpay = (await connectPayTokens(base)).access;
  });
  afterAll(() => sandbox.close());

  it('answers 429 ACCESS_EXCEEDED with Retry-After on AIS, per resource, and again after a second of sandbox time', async () => {
    const api = bgClient(base, 'flowe', flowe);
    const [a, b] = [await api.post('/consents', consentBody()), await api.post('/consents', consentBody())];
    const statusOf = (id: string) => api.get(`/consents/${id}/status`);
    expect((await statusOf(a.body.consentId)).status).toBe(200);
    const early = await statusOf(a.body.consentId);
    expect(early.status).toBe(429);
    expect(early.headers.get('retry-after')).toBe('1');
    expect(early.body.tppMessages[0].code).toBe('ACCESS_EXCEEDED');
    assertBerlinGroupResponse('GET', '/v1/consents/{consentId}/status', 429, early.body);
    // Another consent, the SCA status of the same consent and the consent itself are other resources.
    expect((await statusOf(b.body.consentId)).status).toBe(200);
    const scaStatus = `/consents/${a.body.consentId}/authorisations/${(await api.get(`/consents/${a.body.consentId}/authorisations`)).body.authorisationIds[0]}`;
    expect((await api.get(scaStatus)).status).toBe(200);
    expect((await api.get(scaStatus)).status).toBe(429);
    expect((await api.get(`/consents/${a.body.consentId}`)).status).toBe(200);
    expect((await api.get(`/consents/${a.body.consentId}`)).status).toBe(200);
    // A refused request does not move the window.
    await advanceClock(base, 1);
    expect((await statusOf(a.body.consentId)).status).toBe(200);
  });

  it('answers 429 without a body on PIS (the spec defines none), for payment and SCA status', async () => {
    const debtor = (await accountsOf(base, 'alice', 'connectpay'))[0]!.iban;
    const api = bgClient(base, 'connectpay', connectpay);
    const created = await api.post(
      '/payments/sepa-credit-transfers',
      {
        debtorAccount: { iban: debtor },
        creditorAccount: { iban: 'DE89370400440532013000' },
        creditorName: 'M',
        instructedAmount: { currency: 'EUR', amount: '1.00' },
      },
      { 'PSU-IP-Address': PSU_IP },
    );
    for (const href of [created.body._links.status.href, created.body._links.scaStatus.href]) {
      expect((await api.get(href)).status).toBe(200);
      const early = await api.get(href);
      expect(early.status).toBe(429);
      expect(early.text).toBe('');
    }
  });

  it('does not limit when statusPollMinIntervalMs is 0', async () => {
    await setModes(base, 'flowe', { statusPollMinIntervalMs: 0 });
    try {
      const api = bgClient(base, 'flowe', flowe);
      const created = await api.post('/consents', consentBody());
      for (let i = 0; i < 5; i++) expect((await api.get(`/consents/${created.body.consentId}/status`)).status).toBe(200);
    } finally {
      await call(`${base}/admin/modes`, { method: 'DELETE' });
    }
  });
});
