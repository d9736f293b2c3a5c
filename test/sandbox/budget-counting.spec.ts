import type { Profile } from '../../src/sandbox/config.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { assertBerlinGroupResponse } from '../support/berlin-group-openapi.js';
import { accountsOf, advanceClock, bgClient, call, connectPayTokens, floweTokens, PSU_IP, startSandbox, validConsent, type HttpResult } from './helpers.js';

/**
 * `per_call` (Flowe guide 4.1: "the Consent-ID cannot be used more than frequencyPerDay in 24 hours for
 * unattended requests"): every unattended request carrying the Consent-ID is one use, whatever it reads.
 */
describe('unattended access budget, per_call counting', () => {
  let sandbox: SandboxApp;
  let base: string;
  beforeEach(async () => {
    sandbox = await startSandbox({
      accessTokenTtlSeconds: 3 * 86_400,
      modes: { flowe: { budgetCounting: 'per_call' }, connectpay: { budgetCounting: 'per_call' } },
    });
    base = sandbox.httpUrl;
  });
  afterEach(() => sandbox.close());

  async function world(profile: Profile, frequencyPerDay: number) {
    const token = profile === 'flowe' ? (await floweTokens(base)).access : (await connectPayTokens(base)).access;
    const consentId = await validConsent(
      base,
      profile,
      token,
      profile === 'flowe' ? { frequencyPerDay } : { frequencyPerDay, access: { allPsd2: 'allAccounts' } },
    );
    const accounts = await accountsOf(base, 'alice', profile);
    const api = bgClient(base, profile, token);
    return { consentId, accounts, get: (path: string, headers: Record<string, string> = {}) => api.get(path, { 'Consent-ID': consentId, ...headers }), api };
  }

  const exceeded = (res: HttpResult) => {
    expect(res.status).toBe(429);
    expect(res.body.tppMessages[0]).toMatchObject({ category: 'ERROR', code: 'ACCESS_EXCEEDED' });
    assertBerlinGroupResponse('GET', '/v1/accounts', 429, res.body);
  };

  it('counts every unattended request on the Consent-ID across resources: use frequencyPerDay + 1 is 429 ACCESS_EXCEEDED', async () => {
    const { get, accounts } = await world('flowe', 3);
    const id = accounts[0]!.resourceId;
    expect((await get('/accounts')).status).toBe(200);
    expect((await get(`/accounts/${id}/balances`)).status).toBe(200);
    expect((await get(`/accounts/${id}/transactions?bookingStatus=booked`)).status).toBe(200);
    exceeded(await get(`/accounts/${id}`));
    exceeded(await get('/accounts'));
  });

  it('counts each _links.next page as a new use', async () => {
    const { get, accounts } = await world('flowe', 2);
    const first = await get(`/accounts/${accounts[0]!.resourceId}/transactions?bookingStatus=both&dateFrom=2000-01-01`);
    expect(first.status).toBe(200);
    const second = await get(first.body.transactions._links.next.href);
    expect(second.status).toBe(200);
    exceeded(await get(second.body.transactions._links.next.href));
  });

  it('counts a request that then fails (unknown account, bad query) and never counts a refused one', async () => {
    const { get, accounts } = await world('flowe', 2);
    expect((await get('/accounts/NOT-AN-ACCOUNT')).status).toBe(404);
    expect((await get(`/accounts/${accounts[0]!.resourceId}/transactions?bookingStatus=nope`)).status).toBe(400);
    exceeded(await get('/accounts'));
    exceeded(await get('/accounts'));
    await advanceClock(base, 24 * 3600);
    expect((await get('/accounts')).status).toBe(200);
  });

  it("never counts attended requests, the consent's own endpoints, or another consent's uses; the window rolls after 24 h", async () => {
    const { get, consentId, api } = await world('flowe', 1);
    for (let i = 0; i < 3; i++) expect((await get('/accounts', { 'PSU-IP-Address': PSU_IP })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      await advanceClock(base, 1);
      expect((await api.get(`/consents/${consentId}/status`)).status).toBe(200);
    }
    expect((await api.get(`/consents/${consentId}`)).status).toBe(200);
    expect((await get('/accounts')).status).toBe(200);
    exceeded(await get('/accounts'));
    const other = await world('flowe', 1);
    expect((await other.get('/accounts')).status).toBe(200);
    await advanceClock(base, 24 * 3600 - 60);
    exceeded(await get('/accounts'));
    await advanceClock(base, 60);
    expect((await get('/accounts')).status).toBe(200);
  });

  it('fits a refresh of N accounts in 1 + N uses: accounts?withBalance=true, then one transactions read per account', async () => {
    const { get, accounts } = await world('connectpay', 3);
    expect(accounts).toHaveLength(2);
    const list = await get('/accounts?withBalance=true');
    expect(list.status).toBe(200);
    assertBerlinGroupResponse('GET', '/v1/accounts', 200, list.body);
    for (const account of list.body.accounts) {
      expect(account.balances.map((b: { balanceType: string }) => b.balanceType)).toEqual(['closingBooked', 'expected']);
      expect(
        (
          await get(
            `/accounts/${account.resourceId}/transactions?bookingStatus=booked&dateFrom=${new Date(Date.now() - 86_400_000).toISOString().slice(0, 10)}`,
          )
        ).status,
      ).toBe(200);
    }
    exceeded(await get('/accounts'));
    const log = await call(`${base}/admin/requests?profile=connectpay`);
    expect(
      log.body.requests.filter((r: { kind: string; route: string; status: number }) => r.kind === 'ais' && r.status === 200 && r.route !== 'consents'),
    ).toHaveLength(3);
  });
});

describe('withBalance', () => {
  it('is a boolean: withBalance=false lists without balances, anything else is 400 FORMAT_ERROR', async () => {
    const sandbox = await startSandbox();
    try {
      const token = (await floweTokens(sandbox.httpUrl)).access;
      const consentId = await validConsent(sandbox.httpUrl, 'flowe', token);
      const api = bgClient(sandbox.httpUrl, 'flowe', token);
      const headers = { 'Consent-ID': consentId, 'PSU-IP-Address': PSU_IP };
      expect((await api.get('/accounts?withBalance=true', headers)).body.accounts[0].balances).toHaveLength(2);
      expect((await api.get('/accounts?withBalance=false', headers)).body.accounts[0].balances).toBeUndefined();
      const bad = await api.get('/accounts?withBalance=yes', headers);
      expect(bad.status).toBe(400);
      expect(bad.body.tppMessages[0]).toMatchObject({ code: 'FORMAT_ERROR', path: 'withBalance' });
      // Mode `withBalance: ignored`: a bank that does not support the parameter answers without balances (Berlin Group allows it).
      await call(`${sandbox.httpUrl}/admin/modes`, { json: { profile: 'flowe', withBalance: 'ignored' } });
      const ignored = await api.get('/accounts?withBalance=true', headers);
      expect(ignored.status).toBe(200);
      expect(ignored.body.accounts[0].balances).toBeUndefined();
      expect((await api.get(`/accounts/${ignored.body.accounts[0].resourceId}?withBalance=true`, headers)).body.account.balances).toBeUndefined();
    } finally {
      await sandbox.close();
    }
  });
});
