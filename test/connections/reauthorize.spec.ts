import request from 'supertest';
import { Housekeeping } from '../../src/modules/scheduler/housekeeping.service.js';
import { auth, validConsent } from '../ais/support.js';
import { SseClient } from '../events/sse-client.js';
import { eventsUrl } from '../events/support.js';
import { confirmationForm, cookieHeader, finishConnect, hop, loginAtBank, sandboxLogin, type BankLoginOptions } from '../support/bank-login.js';
import { accessTokenOf, admin, connectUser, startBankWorld, type BankWorld, type Connected } from '../support/bank-world.js';
import { withClient } from '../support/database.js';

const DAY_MS = 86_400_000;

/**
 * Reconnect in place: a connection whose bank login ended (Flowe refuses every refresh 90 days
 * after the login) is logged in again through POST /connections/{id}/reauthorize and comes back
 * `active` under the same id, with its consents and stored data; the frontend hears of it.
 */
describe('reauthorizing a connection in place', () => {
  let world: BankWorld;

  beforeAll(async () => {
    // The scheduler stays off: the test runs housekeeping itself, at the time it chooses.
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await world.close();
  });
  // Each test starts at the sandbox's real time (its clock only moves forward otherwise).
  beforeEach(() => admin(world.sandbox.httpUrl, 'reset?state=true'));

  const api = () => request(world.bff.url);
  const connectionOf = async (c: Connected) => (await api().get(`/api/v1/connections/${c.connectionId}`).set(auth(c.token)).expect(200)).body;
  const outbox = (type: string, connectionId: string) =>
    withClient(
      world.bff.db.url,
      async (client) =>
        (await client.query("SELECT id::text, payload FROM outbox_events WHERE type = $1 AND payload->>'connectionId' = $2 ORDER BY id", [type, connectionId]))
          .rows,
    );

  /** The BFF's side of time passing: the connection's reauthBy is `days` from now, as it is 90 − `days` days after the login. */
  const reauthByIn = (c: Connected, days: number) =>
    withClient(world.bff.db.url, (client) =>
      client.query('UPDATE connections SET reauth_by = now() + make_interval(days => $2) WHERE id = $1', [c.connectionId, days]),
    );

  /** The sandbox's clock past Flowe's 90 days and the access token due: the next use asks for a refresh, which Flowe refuses. */
  async function pastFlowesDeadline(c: Connected): Promise<void> {
    await admin(world.sandbox.httpUrl, 'clock', { advanceSeconds: 91 * 86_400 });
    await withClient(world.bff.db.url, (client) =>
      client.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [c.connectionId]),
    );
    await expect(accessTokenOf(world.bff, c.connectionId)).rejects.toMatchObject({ code: 'reauth_required' });
  }

  /** POST …/reauthorize from the web app's browser; then that browser (start cookie) goes to the bank and the PSU answers there. */
  async function reauthorizeAtBank(c: Connected, login: BankLoginOptions): Promise<Record<string, string>> {
    const res = await api().post(`/api/v1/connections/${c.connectionId}/reauthorize`).set(auth(c.token)).send({}).expect(200);
    expect(res.body).toMatchObject({ id: c.connectionId, authorizationUrl: expect.stringMatching(/^\/auth\/flowe\/login\?ticket=/) });
    const start = await hop(new URL(res.body.authorizationUrl as string, world.bff.url).toString(), {
      headers: { cookie: cookieHeader(res.headers['set-cookie'] as unknown as string[]) },
    });
    expect(start.status).toBe(302);
    const callbackUrl = await loginAtBank(start.location!, login);
    return finishConnect({ callbackUrl, cookie: cookieHeader(start.setCookies) });
  }

  it('brings a Flowe connection past its 90 days back to active under the same id, consents and stored accounts kept, announced over SSE', async () => {
    const alice = await connectUser(world.bff.url, 'alice', 'flowe');
    const consentId = await validConsent(world, alice);
    const stored = (await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200)).body;
    expect(stored.accounts.length).toBeGreaterThan(0);
    await api().patch(`/api/v1/connections/${alice.connectionId}`).set(auth(alice.token)).send({ externalReference: 'cust-alice' }).expect(200);
    const before = await connectionOf(alice);
    expect(before).toMatchObject({ status: 'active', expiresSoon: false, externalReference: 'cust-alice' });

    const sse = await SseClient.open(eventsUrl(world.bff), alice.token);
    try {
      // Day 87: three days before reauthBy, housekeeping warns, once however often it runs.
      await reauthByIn(alice, 3);
      const warned = await connectionOf(alice);
      expect(warned).toMatchObject({ status: 'active', expiresSoon: true });
      const housekeeping = world.bff.app.get(Housekeeping);
      await housekeeping.run();
      await housekeeping.run();
      const expiring = await sse.waitFor('connection.expiring', (e) => e.event === 'connection.expiring');
      expect(sse.json(expiring)).toMatchObject({ connectionId: alice.connectionId, aspspId: 'flowe', reauthBy: warned.reauthBy });
      expect(await outbox('connection.expiring', alice.connectionId)).toHaveLength(1);

      // Day 91: Flowe refuses the refresh; the connection needs a new login, and the frontend hears so.
      await pastFlowesDeadline(alice);
      expect(await connectionOf(alice)).toMatchObject({ id: alice.connectionId, status: 'reauth_required', expiresSoon: true });
      const lapsed = await sse.waitFor('connection.status reauth_required', (e) => e.event === 'connection.status' && sse.json(e).status === 'reauth_required');
      expect(sse.json(lapsed)).toMatchObject({ connectionId: alice.connectionId, previousStatus: 'active', reason: 'refresh_refused' });

      expect(await reauthorizeAtBank(alice, { username: 'alice' })).toEqual({ connectionId: alice.connectionId, result: 'success' });

      const after = await connectionOf(alice);
      expect(after).toMatchObject({ id: alice.connectionId, status: 'active', expiresSoon: false, externalReference: 'cust-alice' });
      expect(after).not.toHaveProperty('failureReason');
      expect(Date.parse(after.reauthBy as string) - Date.now()).toBeGreaterThan(89 * DAY_MS);
      const back = await sse.waitFor('connection.status active', (e) => e.event === 'connection.status' && sse.json(e).status === 'active');
      expect(sse.json(back)).toMatchObject({ connectionId: alice.connectionId, previousStatus: 'reauth_required', reauthBy: after.reauthBy });
      // The warning came first, then the lapse, then the return, in stream order.
      expect(BigInt(expiring.id!) < BigInt(lapsed.id!) && BigInt(lapsed.id!) < BigInt(back.id!)).toBe(true);

      // Same consents, same stored accounts, and tokens the bank accepts again.
      const consents = (await api().get(`/api/v1/connections/${alice.connectionId}/consents`).set(auth(alice.token)).expect(200)).body;
      expect(JSON.stringify(consents)).toContain(consentId);
      expect((await api().get(`/api/v1/consents/${consentId}/accounts`).set(auth(alice.token)).expect(200)).body.accounts).toEqual(stored.accounts);
      await expect(accessTokenOf(world.bff, alice.connectionId)).resolves.toEqual(expect.any(String));
      const row = await withClient(
        world.bff.db.url,
        async (client) =>
          (await client.query('SELECT access_token_enc, refresh_token_enc, expiry_warned_at FROM connections WHERE id = $1', [alice.connectionId])).rows[0],
      );
      expect(row.access_token_enc).toMatch(/^v2\./);
      expect(row.refresh_token_enc).toMatch(/^v2\./);
      // The new login's end will be announced again.
      expect(row.expiry_warned_at).toBeNull();
    } finally {
      await sse.close();
    }
  });

  it('leaves the connection reauth_required, with its consents, when the PSU denies the new login at the bank', async () => {
    const bob = await connectUser(world.bff.url, 'bob', 'flowe');
    const consentId = await validConsent(world, bob);
    await pastFlowesDeadline(bob);
    const before = await connectionOf(bob);

    const outcome = await reauthorizeAtBank(bob, { username: 'bob', decision: 'deny' });
    expect(outcome).toEqual({ connectionId: bob.connectionId, result: 'error', error: 'access_denied' });
    expect(await connectionOf(bob)).toEqual(before);
    expect(JSON.stringify((await api().get(`/api/v1/connections/${bob.connectionId}/consents`).set(auth(bob.token)).expect(200)).body)).toContain(consentId);
    await expect(accessTokenOf(world.bff, bob.connectionId)).rejects.toMatchObject({ code: 'reauth_required' });
    // Reauthorizing stays possible.
    await api().post(`/api/v1/connections/${bob.connectionId}/reauthorize`).set(auth(bob.token)).send({}).expect(200);
  });

  it("answers 404 to another user's reauthorize, and keeps the link bound to its user's browser", async () => {
    const carol = await connectUser(world.bff.url, 'alice', 'flowe', undefined, await sandboxLogin(world.bff.url, 'carol'));
    await pastFlowesDeadline(carol);
    const mallory = await sandboxLogin(world.bff.url, 'mallory');

    const refused = await api().post(`/api/v1/connections/${carol.connectionId}/reauthorize`).set(auth(mallory)).send({}).expect(404);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.body).toMatchObject({ code: 'not_found' });

    // carol's link opened in another browser (no start cookie): the confirmation page naming carol, not the bank.
    const res = await api().post(`/api/v1/connections/${carol.connectionId}/reauthorize`).set(auth(carol.token)).send({}).expect(200);
    const elsewhere = await hop(new URL(res.body.authorizationUrl as string, world.bff.url).toString());
    expect(elsewhere.status).toBe(200);
    expect(elsewhere.text).toContain('carol');
    expect(confirmationForm(elsewhere).confirmation).toBeTruthy();
    expect(await connectionOf(carol)).toMatchObject({ status: 'reauth_required' });
  });

  it('refuses with 409 connection_not_reauthorizable a connection a new login cannot help', async () => {
    const dave = await connectUser(world.bff.url, 'alice', 'flowe', undefined, await sandboxLogin(world.bff.url, 'dave'));
    // Active, its reauthBy 90 days away.
    const active = await api().post(`/api/v1/connections/${dave.connectionId}/reauthorize`).set(auth(dave.token)).send({}).expect(409);
    expect(active.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(active.body).toMatchObject({ code: 'connection_not_reauthorizable', connectionStatus: 'active' });

    // Within EXPIRY_WARNING_DAYS of its reauthBy it may log in early, to a return URL on the allow-list only.
    await reauthByIn(dave, 3);
    expect(await connectionOf(dave)).toMatchObject({ status: 'active', expiresSoon: true });
    const badReturn = await api()
      .post(`/api/v1/connections/${dave.connectionId}/reauthorize`)
      .set(auth(dave.token))
      .send({ returnUrl: 'https://evil.example/' })
      .expect(400);
    expect(badReturn.body).toMatchObject({ code: 'validation_failed', errors: [expect.objectContaining({ field: 'returnUrl' })] });
    await api().post(`/api/v1/connections/${dave.connectionId}/reauthorize`).set(auth(dave.token)).send({}).expect(200);

    await api().delete(`/api/v1/connections/${dave.connectionId}`).set(auth(dave.token)).expect(204);
    const revoked = await api().post(`/api/v1/connections/${dave.connectionId}/reauthorize`).set(auth(dave.token)).send({}).expect(409);
    expect(revoked.body).toMatchObject({ code: 'connection_not_reauthorizable', connectionStatus: 'revoked' });
    // Every move was announced: the first login, then the deletion.
    expect((await outbox('connection.status', dave.connectionId)).map((r) => [r.payload.previousStatus, r.payload.status])).toEqual([
      ['pending', 'active'],
      ['active', 'revoked'],
    ]);
  });

  it('warns once about a consent whose last day is near, and shows it as expiring', async () => {
    const erin = await connectUser(world.bff.url, 'alice', 'flowe', undefined, await sandboxLogin(world.bff.url, 'erin'));
    const soon = new Date(Date.now() + 3 * DAY_MS).toISOString().slice(0, 10);
    const consentId = await validConsent(world, erin, { validUntil: soon });
    expect((await api().get(`/api/v1/consents/${consentId}`).set(auth(erin.token)).expect(200)).body).toMatchObject({ validUntil: soon, expiresSoon: true });

    const sse = await SseClient.open(eventsUrl(world.bff), erin.token);
    try {
      await world.bff.app.get(Housekeeping).run(new Date());
      await world.bff.app.get(Housekeeping).run(new Date());
      const warned = await sse.waitFor('consent.expiring', (e) => e.event === 'consent.expiring');
      expect(sse.json(warned)).toMatchObject({ consentId, connectionId: erin.connectionId, validUntil: soon });
      const rows = await withClient(
        world.bff.db.url,
        async (client) =>
          (await client.query("SELECT count(*)::int AS n FROM outbox_events WHERE type = 'consent.expiring' AND payload->>'consentId' = $1", [consentId]))
            .rows[0].n,
      );
      expect(rows).toBe(1);
    } finally {
      await sse.close();
    }
  });
});
