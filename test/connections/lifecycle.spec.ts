import request from 'supertest';
import { admin, auth, connect, startAisWorld, validConsent, type AisWorld } from '../ais/support.js';
import { sandboxRequests, tokenCalls } from '../support/bank-world.js';

describe('connections with bank resources', () => {
  let world: AisWorld;

  beforeAll(async () => {
    world = await startAisWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('terminates the open consents at the bank before forgetting the tokens', async () => {
    const c = await connect(world.bff.url, 'alice', 'flowe');
    const consentId = await validConsent(world, c);
    const deletesBefore = (await sandboxRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'consent-delete' })).length;
    await request(world.bff.url).delete(`/api/v1/connections/${c.connectionId}`).set(auth(c.token)).expect(204);
    const deletes = await sandboxRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'consent-delete' });
    expect(deletes.length).toBe(deletesBefore + 1);
    expect(deletes.at(-1)!.status).toBe(204);
    const consent = await request(world.bff.url).get(`/api/v1/consents/${consentId}`).set(auth(c.token)).expect(200);
    expect(consent.body.status).toBe('terminatedByTpp');
    const connection = await request(world.bff.url).get(`/api/v1/connections/${c.connectionId}`).set(auth(c.token)).expect(200);
    expect(connection.body.status).toBe('revoked');
  });

  it('answers a bank 401 with one refresh and one retry', async () => {
    const c = await connect(world.bff.url, 'bob', 'flowe');
    const consentId = await validConsent(world, c);
    await admin(world.sandbox.httpUrl, 'tokens/expire', { profile: 'flowe' });
    const refreshes = await tokenCalls(world.sandbox.httpUrl, 'flowe', 'refresh_token');
    const res = await request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(c.token)).expect(200);
    expect(res.body.accounts.length).toBeGreaterThan(0);
    expect(await tokenCalls(world.sandbox.httpUrl, 'flowe', 'refresh_token')).toBe(refreshes + 1);
    const accountReads = (await sandboxRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'accounts' })).slice(-2).map((r) => r.status);
    expect(accountReads).toEqual([401, 200]);
  });
});

describe('one failing bank', () => {
  let world: AisWorld;

  beforeAll(async () => {
    world = await startAisWorld();
  });
  afterAll(async () => {
    await world.close();
  });

  it('opens that bank’s circuit (503 with Retry-After, naming the bank) while another bank keeps working', async () => {
    const flowe = await connect(world.bff.url, 'alice', 'flowe');
    const flowConsent = await validConsent(world, flowe);
    const cp = await connect(world.bff.url, 'bob', 'connectpay');
    const cpConsent = await validConsent(world, cp);

    await admin(world.sandbox.httpUrl, 'faults', { profile: 'flowe', route: 'accounts', errorRate: 1, errorStatus: 503 });
    try {
      const answers: request.Response[] = [];
      for (let i = 0; i < 4; i++)
        answers.push(await request(world.bff.url).get(`/api/v1/consents/${flowConsent}/accounts?refresh=true`).set(auth(flowe.token)));
      for (const res of answers) expect(res.status).toBe(503);
      const open = answers.at(-1)!;
      expect(open.headers['content-type']).toContain('application/problem+json');
      expect(open.body).toMatchObject({ code: 'bank_unavailable', aspspId: 'flowe', bankErrorKind: 'unavailable' });
      expect(Number(open.headers['retry-after'])).toBeGreaterThan(0);
      // Once open, the circuit keeps calls off the failing bank.
      const reachedBank = (await sandboxRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'accounts' })).length;
      await request(world.bff.url).get(`/api/v1/consents/${flowConsent}/accounts?refresh=true`).set(auth(flowe.token)).expect(503);
      expect((await sandboxRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'accounts' })).length).toBe(reachedBank);

      const other = await request(world.bff.url).get(`/api/v1/consents/${cpConsent}/accounts?refresh=true`).set(auth(cp.token)).expect(200);
      expect(other.body.accounts.length).toBeGreaterThan(0);
    } finally {
      await admin(world.sandbox.httpUrl, 'faults', undefined, 'DELETE');
    }
  });
});
