import request from 'supertest';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { admin, startBankWorld, type BankWorld } from '../support/bank-world.js';

/** GET /api/v1/aspsps: the frontend's bank list, with rules, health and filters; the logos it links. */
describe('the bank list', () => {
  let world: BankWorld;
  let token: string;

  beforeAll(async () => {
    // One refused token request opens Flowe's login circuit, so health can be seen to change.
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false', FLOWE_BREAKER_THRESHOLD: '1', FLOWE_BREAKER_HALF_OPEN_MS: '600000' } });
    token = await sandboxLogin(world.bff.url, 'alice');
  });
  afterAll(async () => {
    await world.close();
  });

  const list = (query = '') => request(world.bff.url).get(`/api/v1/aspsps${query}`).set('Authorization', `Bearer ${token}`);

  it('describes each bank: country, BIC, logo, consent rules, re-login period and health', async () => {
    const res = await list().expect(200);
    expect(res.body.aspsps).toEqual([
      {
        id: 'connectpay',
        name: 'ConnectPay',
        services: ['ais', 'pis'],
        country: 'LT',
        bic: 'SBXCLT21',
        logoUrl: '/aspsps/connectpay/logo',
        consentRules: { maxValidityDays: 90, maxFrequencyPerDay: 4, budgetCounting: 'per_call' },
        health: { status: 'available', login: 'closed', api: 'closed' },
      },
      {
        id: 'flowe',
        name: 'Flowe',
        services: ['ais', 'pis'],
        country: 'IT',
        bic: 'SBXFIT21',
        logoUrl: '/aspsps/flowe/logo',
        consentRules: { maxValidityDays: 90, maxFrequencyPerDay: 4, budgetCounting: 'per_call' },
        reloginAfterDays: 90,
        health: { status: 'available', login: 'closed', api: 'closed' },
      },
    ]);
  });

  it('filters by country and by a piece of the id, name or BIC, in any case', async () => {
    const ids = async (query: string) => ((await list(query).expect(200)).body.aspsps as { id: string }[]).map((a) => a.id);
    expect(await ids('?country=it')).toEqual(['flowe']);
    expect(await ids('?country=LT')).toEqual(['connectpay']);
    expect(await ids('?country=DE')).toEqual([]);
    expect(await ids('?q=PAY')).toEqual(['connectpay']);
    expect(await ids('?q=sbxfit')).toEqual(['flowe']);
    expect(await ids('?q=o&country=IT')).toEqual(['flowe']);
    const bad = await list('?country=Italy').expect(400);
    expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(bad.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'country' })] });
  });

  it('serves each logo without a user token, as an image that can run no script', async () => {
    const res = await request(world.bff.url).get('/aspsps/flowe/logo').expect(200);
    expect(res.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(String(res.body)).toContain('<svg');
    const unknown = await request(world.bff.url).get('/aspsps/nobank/logo').expect(404);
    expect(unknown.body).toMatchObject({ code: 'not_found' });
  });

  it('shows a bank whose login server keeps failing as unavailable, the other as available', async () => {
    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'token', errorRate: 1, errorStatus: 500, times: 1 });
    const flow = await startConnect(world.bff.url, token, 'flowe');
    expect(await finishConnect(flow)).toMatchObject({ result: 'error', error: 'exchange_failed' });
    const health = Object.fromEntries(((await list().expect(200)).body.aspsps as { id: string; health: unknown }[]).map((a) => [a.id, a.health]));
    expect(health).toEqual({
      connectpay: { status: 'available', login: 'closed', api: 'closed' },
      flowe: { status: 'unavailable', login: 'open', api: 'closed' },
    });
  });
});
