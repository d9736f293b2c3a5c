import request from 'supertest';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { auth, bankConsentIdOf, createConsent, decide } from '../ais/support.js';
import { finishConnect, sandboxLogin, startConnect, type ConnectFlow } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { bankEnv, startSandbox, tokenCalls } from '../support/bank-world.js';
import { IBAN, paymentBody } from '../support/payment-fixtures.js';

/**
 * Authorization code injection: a code stolen from alice's held-back callback, redeemed in bob's
 * own login (his state, his browser). Flowe forbids PKCE, so the code is bound to the login that
 * asked for it by what each bank offers: the granted scope here; see also the bank identity check.
 */
describe('authorization code injection', () => {
  let sandbox: SandboxApp;
  let bff: TestBff;
  let alice: string;
  let bob: string;

  beforeAll(async () => {
    sandbox = await startSandbox();
    bff = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false', BANK_IDENTITY_CHECK: 'true' });
    alice = await sandboxLogin(bff.url, 'alice');
    bob = await sandboxLogin(bff.url, 'bob');
  });
  afterAll(async () => {
    await bff.close();
    await sandbox.close();
  });

  /** Bob's own callback, carrying alice's code instead of the one the bank gave him. */
  function injected(bobsFlow: ConnectFlow, alicesFlow: ConnectFlow): ConnectFlow {
    const url = new URL(bobsFlow.callbackUrl);
    url.searchParams.set('code', new URL(alicesFlow.callbackUrl).searchParams.get('code')!);
    return { ...bobsFlow, callbackUrl: url.toString() };
  }

  const securityEvents = async (event: string): Promise<number> => {
    const text = (await request(bff.url).get('/metrics').expect(200)).text;
    return Number(new RegExp(`security_events_total\\{[^}]*event="${event}"[^}]*\\} (\\d+)`).exec(text)?.[1] ?? 0);
  };

  it("ConnectPay: alice's code (AIS and PIS granted) in bob's AIS-only login is refused as a scope mismatch; bob's connection never holds alice's tokens", async () => {
    const alicesFlow = await startConnect(bff.url, alice, 'connectpay', { username: 'alice' }); // held back: never finished
    const bobsFlow = await startConnect(bff.url, bob, 'connectpay', { username: 'bob', services: ['ais'] });
    const before = await securityEvents('login_scope_mismatch');

    const outcome = await finishConnect(injected(bobsFlow, alicesFlow));
    expect(outcome).toEqual({ connectionId: bobsFlow.connectionId, result: 'error', error: 'scope_mismatch' });
    const connection = (await request(bff.url).get(`/api/v1/connections/${bobsFlow.connectionId}`).set('Authorization', `Bearer ${bob}`).expect(200)).body;
    expect(connection).toMatchObject({ status: 'failed', failureReason: 'scope_mismatch' });
    expect(await securityEvents('login_scope_mismatch')).toBe(before + 1);
    // The code was redeemed (and is now spent at the bank): alice's own callback fails, so she logs in again.
    const tokenCallsBefore = await tokenCalls(sandbox.httpUrl, 'connectpay');
    expect(await finishConnect(alicesFlow)).toMatchObject({ result: 'error', error: 'exchange_failed' });
    expect(await tokenCalls(sandbox.httpUrl, 'connectpay')).toBe(tokenCallsBefore + 1);
  });

  /** A consent the PSU approves in the bank app, read once so it is valid. */
  async function approvedConsent(token: string, connectionId: string): Promise<string> {
    const consent = await createConsent(bff.url, { token, connectionId });
    await decide(sandbox.httpUrl, 'consent', await bankConsentIdOf(bff.db, consent.id), 'approve');
    expect((await request(bff.url).get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(token)).expect(200)).body.status).toBe('valid');
    return consent.id;
  }

  it("Flowe (no PKCE, all-or-nothing scope): alice's code redeemed in bob's login is caught at the first account read, before bob sees any of alice's data", async () => {
    // Alice has connected Flowe and read her accounts: the BFF knows which accounts are hers.
    const alicesFirst = await startConnect(bff.url, alice, 'flowe', { username: 'alice' });
    expect(await finishConnect(alicesFirst)).toMatchObject({ result: 'success' });
    const alicesConsent = await approvedConsent(alice, alicesFirst.connectionId);
    await request(bff.url).get(`/api/v1/consents/${alicesConsent}/accounts?refresh=true`).set(auth(alice)).expect(200);

    // She logs in again (say, on her phone); the callback is held back and its code stolen.
    const alicesAgain = await startConnect(bff.url, alice, 'flowe', { username: 'alice' });
    const bobsFlow = await startConnect(bff.url, bob, 'flowe', { username: 'bob' });
    // The residual case: Flowe narrows the token to the scope we ask for, so the scope cannot tell
    // the logins apart, and the exchange succeeds with alice's grant.
    expect(await finishConnect(injected(bobsFlow, alicesAgain))).toEqual({ connectionId: bobsFlow.connectionId, result: 'success' });

    // First control: nothing is readable without a consent the PSU approves with SCA in her own
    // bank app, which names the TPP. Assume the worst: alice approves it.
    const bobsConsent = await approvedConsent(bob, bobsFlow.connectionId);
    const before = await securityEvents('bank_identity_conflict');

    // Second control: the first account read shows alice's accounts, which are another user's.
    const read = await request(bff.url).get(`/api/v1/consents/${bobsConsent}/accounts?refresh=true`).set(auth(bob)).expect(409);
    expect(read.body).toMatchObject({ code: 'bank_identity_conflict', aspspId: 'flowe', connectionStatus: 'failed' });
    expect(JSON.stringify(read.body)).not.toMatch(/IT16N3677201600000000410001/);
    expect(await securityEvents('bank_identity_conflict')).toBe(before + 1);
    const connection = (await request(bff.url).get(`/api/v1/connections/${bobsFlow.connectionId}`).set(auth(bob)).expect(200)).body;
    expect(connection).toMatchObject({ status: 'failed', failureReason: 'bank_identity_conflict' });
    // Nothing of alice's was stored for bob, and his connection holds no tokens any more.
    const stored = await withClient(bff.db.url, async (c) => ({
      accounts: (await c.query('SELECT count(*)::int AS n FROM ais_accounts WHERE user_id = $1', ['bob'])).rows[0].n as number,
      tokens: (await c.query('SELECT access_token_enc, refresh_token_enc FROM connections WHERE id = $1', [bobsFlow.connectionId])).rows[0],
    }));
    expect(stored).toEqual({ accounts: 0, tokens: { access_token_enc: null, refresh_token_enc: null } });
    await request(bff.url).get(`/api/v1/consents/${bobsConsent}/accounts?refresh=true`).set(auth(bob)).expect(409);

    // Alice's own connection is untouched.
    await request(bff.url).get(`/api/v1/consents/${alicesConsent}/accounts?refresh=true`).set(auth(alice)).expect(200);
  });

  it('the same accounts under the same user (a second connection of alice) are fine; a disconnected connection claims nothing', async () => {
    const second = await startConnect(bff.url, alice, 'connectpay', { username: 'alice' });
    expect(await finishConnect(second)).toMatchObject({ result: 'success' });
    const consent = await approvedConsent(alice, second.connectionId);
    await request(bff.url).get(`/api/v1/consents/${consent}/accounts?refresh=true`).set(auth(alice)).expect(200);
    const third = await startConnect(bff.url, alice, 'connectpay', { username: 'alice' });
    expect(await finishConnect(third)).toMatchObject({ result: 'success' });
    await request(bff.url)
      .get(`/api/v1/consents/${await approvedConsent(alice, third.connectionId)}/accounts?refresh=true`)
      .set(auth(alice))
      .expect(200);

    // Once alice disconnects both, another app user may connect the same ConnectPay customer.
    await request(bff.url).delete(`/api/v1/connections/${second.connectionId}`).set(auth(alice)).expect(204);
    await request(bff.url).delete(`/api/v1/connections/${third.connectionId}`).set(auth(alice)).expect(204);
    const carol = await sandboxLogin(bff.url, 'carol');
    const carols = await startConnect(bff.url, carol, 'connectpay', { username: 'alice' });
    expect(await finishConnect(carols)).toMatchObject({ result: 'success' });
    await request(bff.url)
      .get(`/api/v1/consents/${await approvedConsent(carol, carols.connectionId)}/accounts?refresh=true`)
      .set(auth(carol))
      .expect(200);
  });

  it('each bank gets the redirect URI back at its token endpoint, so a code issued for another redirect URI is refused there', async () => {
    const requests = async (profile: string) =>
      (
        (await (await fetch(`${sandbox.httpUrl}/admin/requests?profile=${profile}&route=token`)).json()) as {
          requests: { grantType?: string; form: Record<string, string> }[];
        }
      ).requests.filter((r) => r.grantType === 'authorization_code');
    const flowe = await startConnect(bff.url, alice, 'flowe', { username: 'alice' });
    expect(await finishConnect(flowe)).toMatchObject({ result: 'success' });
    expect((await requests('flowe')).at(-1)?.form).toMatchObject({ redirect_uri: `${bff.url}/auth/flowe/callback` });
    const connectpay = await startConnect(bff.url, alice, 'connectpay', { username: 'alice' });
    expect(await finishConnect(connectpay)).toMatchObject({ result: 'success' });
    expect((await requests('connectpay')).at(-1)?.form).toMatchObject({ redirect_url: `${bff.url}/auth/connectpay/callback` });
  });

  it("a PIS grant injected the same way cannot pay from alice's account: the debtor IBAN is another user's, refused before the bank is called", async () => {
    // (Alice's Flowe accounts are known from the test above.)
    const alicesAgain = await startConnect(bff.url, alice, 'flowe', { username: 'alice' });
    const bobsFlow = await startConnect(bff.url, bob, 'flowe', { username: 'bob' });
    expect(await finishConnect(injected(bobsFlow, alicesAgain))).toMatchObject({ result: 'success' });
    const before = (await (await fetch(`${sandbox.httpUrl}/admin/requests?route=payments`)).json()) as { requests: unknown[] };
    const res = await request(bff.url)
      .post(`/api/v1/connections/${bobsFlow.connectionId}/payments`)
      .set(auth(bob))
      .set('Idempotency-Key', 'injected-pis-1')
      .send(paymentBody({ debtorAccount: { iban: IBAN.aliceFlowe }, creditorAccount: { iban: IBAN.bobFlowe } }))
      .expect(409);
    expect(res.body).toMatchObject({ code: 'bank_identity_conflict', connectionStatus: 'failed' });
    const after = (await (await fetch(`${sandbox.httpUrl}/admin/requests?route=payments`)).json()) as { requests: unknown[] };
    expect(after.requests.length).toBe(before.requests.length);
    expect((await request(bff.url).get(`/api/v1/connections/${bobsFlow.connectionId}`).set(auth(bob)).expect(200)).body.status).toBe('failed');
  });

  it("naming someone else's account as a payment's debtor claims nothing: its owner can still connect it", async () => {
    const fresh = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false', BANK_IDENTITY_CHECK: 'true' });
    try {
      const frank = await sandboxLogin(fresh.url, 'frank');
      const franks = await startConnect(fresh.url, frank, 'flowe', { username: 'bob' });
      expect(await finishConnect(franks)).toMatchObject({ result: 'success' });
      const res = await request(fresh.url)
        .post(`/api/v1/connections/${franks.connectionId}/payments`)
        .set(auth(frank))
        .set('Idempotency-Key', 'not-my-account')
        .send(paymentBody({ debtorAccount: { iban: IBAN.aliceFlowe }, creditorAccount: { iban: IBAN.bobFlowe } }));
      expect(res.body.code).not.toBe('bank_identity_conflict');

      const grace = await sandboxLogin(fresh.url, 'grace');
      const graces = await startConnect(fresh.url, grace, 'flowe', { username: 'alice' });
      expect(await finishConnect(graces)).toMatchObject({ result: 'success' });
      const consent = await createConsent(fresh.url, { token: grace, connectionId: graces.connectionId });
      await decide(sandbox.httpUrl, 'consent', await bankConsentIdOf(fresh.db, consent.id), 'approve');
      await request(fresh.url).get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(grace)).expect(200);
      await request(fresh.url).get(`/api/v1/consents/${consent.id}/accounts?refresh=true`).set(auth(grace)).expect(200);
    } finally {
      await fresh.close();
    }
  });

  it('is off by default in sandbox mode, where every app user logs in as one of the sandbox PSUs', async () => {
    const demo = await startTestBff({ ...bankEnv(sandbox), SCHEDULER_ENABLED: 'false' });
    try {
      for (const user of ['demo-1', 'demo-2']) {
        const token = await sandboxLogin(demo.url, user);
        const flow = await startConnect(demo.url, token, 'flowe', { username: 'alice' });
        expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
        const consent = await createConsent(demo.url, { token, connectionId: flow.connectionId });
        await decide(sandbox.httpUrl, 'consent', await bankConsentIdOf(demo.db, consent.id), 'approve');
        await request(demo.url).get(`/api/v1/consents/${consent.id}?refresh=true`).set(auth(token)).expect(200);
        await request(demo.url).get(`/api/v1/consents/${consent.id}/accounts?refresh=true`).set(auth(token)).expect(200);
      }
    } finally {
      await demo.close();
    }
  });
});
