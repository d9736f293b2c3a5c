import { createHash, randomUUID } from 'node:crypto';
import request from 'supertest';
import { TokenVaultService } from '../../src/modules/token-vault/token-vault.service.js';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { startTestBff, freePort } from '../support/bff.js';
import { withClient } from '../support/database.js';
import { IBAN, paymentBody } from '../support/payment-fixtures.js';
import { admin, bankEnv, connectUser, startBankWorld, tokenCalls, type BankWorld, type Connected } from '../support/bank-world.js';
import { auth, bankRequests, validConsent } from '../ais/support.js';
import { scrape, until } from '../scheduler/support.js';

/*
 * A bank or configuration error never ends a user's grant: with the sandbox's configuration knobs
 * (rotated subscription key, expired client secret, login server 429, refused TLS handshake), a
 * burst of reads and token refreshes leaves every connection active with its refresh-token
 * ciphertext unchanged, every answer is a 5xx naming the bank, the metric names the cause, and
 * restoring the knob restores service without a new login. Also: the header spellings against each
 * strict mode, the exact token request bodies, and a payment that never reached the bank.
 */

const HALF_OPEN_MS = 300;

interface ConnectionRow {
  id: string;
  status: string;
  refresh_token_enc: string | null;
}

async function connections(world: BankWorld): Promise<ConnectionRow[]> {
  return withClient(
    world.bff.db.url,
    async (c) => (await c.query('SELECT id, status, refresh_token_enc FROM connections ORDER BY id')).rows as ConnectionRow[],
  );
}

async function expireAccessTokens(world: BankWorld): Promise<void> {
  await withClient(world.bff.db.url, (c) => c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE status = 'active'"));
}

/** The value of one `bank_errors_total` series, 0 when absent. */
function errorCount(metrics: string, labels: { aspsp: string; cause: string; operation?: string }): number {
  let total = 0;
  for (const line of metrics.split('\n')) {
    if (!line.startsWith('bank_errors_total{')) continue;
    if (!line.includes(`aspsp="${labels.aspsp}"`) || !line.includes(`cause="${labels.cause}"`)) continue;
    if (labels.operation && !line.includes(`operation="${labels.operation}"`)) continue;
    total += Number(line.split(' ').at(-1));
  }
  return total;
}

const sha12 = (value: string) => `sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}`;

describe('bank and configuration errors keep every grant', () => {
  let world: BankWorld;
  let alice: Connected;
  let bob: Connected;
  let aliceConsent: string;
  let bobConsent: string;

  beforeAll(async () => {
    world = await startBankWorld({
      env: { SCHEDULER_ENABLED: 'false', FLOWE_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS), CONNECTPAY_BREAKER_HALF_OPEN_MS: String(HALF_OPEN_MS) },
    });
    alice = await connectUser(world.bff.url, 'alice', 'flowe');
    bob = await connectUser(world.bff.url, 'bob', 'flowe');
    aliceConsent = await validConsent(world, alice);
    bobConsent = await validConsent(world, bob);
  });
  afterAll(async () => {
    await world.close();
  });
  afterEach(async () => {
    await admin(world.sandbox.httpUrl, 'config-faults', undefined, 'DELETE');
    await admin(world.sandbox.httpUrl, 'modes', undefined, 'DELETE');
  });
  // Whatever the previous case left, the circuits are closed again before the next one starts.
  beforeEach(() => servesAgain());

  const read = (c: Connected, consentId: string) => request(world.bff.url).get(`/api/v1/consents/${consentId}/accounts?refresh=true`).set(auth(c.token));

  /** Reads until the bank answers again: the knob is restored and the circuit has let a probe through. */
  async function servesAgain(): Promise<void> {
    await until(
      'service restored without a new login',
      async () => (await read(alice, aliceConsent)).status === 200 && (await read(bob, bobConsent)).status === 200,
      10_000,
      100,
    );
  }

  it.each([
    // [knob, forces token refreshes (the knob is on the token endpoint), status, cause]
    [{ subscriptionKeyRotated: true }, false, 502, 'subscription_key_refused', 'bank_error'],
    [{ clientSecretExpired: true }, true, 502, 'client_auth_failed', 'bank_error'],
    [{ loginServer429: true, loginServerRetryAfterSeconds: 7 }, true, 503, 'token_endpoint_rate_limited', 'bank_rate_limited'],
    [{ tls: 'refuse-handshake' }, true, 503, 'tls_refused', 'bank_unavailable'],
  ] as const)(
    '%j: a burst of reads and refreshes answers 5xx naming the bank, keeps every refresh token, and recovers',
    async (knob, refreshes, status, cause, code) => {
      const before = await connections(world);
      expect(before.every((c) => c.status === 'active' && c.refresh_token_enc)).toBe(true);
      const errorsBefore = errorCount(await scrape(world.bff.url), { aspsp: 'flowe', cause });
      await admin(world.sandbox.httpUrl, 'config-faults', { profile: 'flowe', ...knob });
      if (refreshes) await expireAccessTokens(world);

      const burst = await Promise.all(Array.from({ length: 24 }, (_, i) => read(i % 2 ? alice : bob, i % 2 ? aliceConsent : bobConsent)));
      for (const res of burst) {
        expect([502, 503]).toContain(res.status);
        expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
        expect(res.body).toMatchObject({ aspspId: 'flowe' });
        expect(res.body.detail).toMatch(/^flowe: /);
      }
      // The first calls carry the cause; once the circuit is open the rest fail fast, with Retry-After.
      expect(burst.some((res) => res.status === status && res.body.code === code && res.body.bankErrorCause === cause)).toBe(true);
      // Retry-After where it is known: the bank's own, or the circuit's pause.
      for (const res of burst.filter((r) => ['circuit_open', 'token_endpoint_rate_limited'].includes(r.body.bankErrorCause)))
        expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      expect(errorCount(await scrape(world.bff.url), { aspsp: 'flowe', cause })).toBeGreaterThan(errorsBefore);

      const after = await connections(world);
      expect(after.map((c) => c.status)).toEqual(before.map(() => 'active'));
      // Not erased, not overwritten: the very same ciphertext (no refresh succeeded while the knob was on).
      expect(after.map((c) => c.refresh_token_enc)).toEqual(before.map((c) => c.refresh_token_enc));

      await admin(world.sandbox.httpUrl, 'config-faults', undefined, 'DELETE');
      await servesAgain();
      expect((await connections(world)).every((c) => c.status === 'active')).toBe(true);
    },
  );

  it('reads a token refused again right after a refresh as a configuration error, never a lost grant', async () => {
    // A partial ConnectPay grant the bank does not describe: the PSU ticked AIS only and the token
    // answer has no `scope` (RFC 6749: then it is what was asked for), so the connection believes it
    // has PIS and every PIS call is 401 TOKEN_INVALID, before and after a refresh. The grant stands
    // (AIS works); the connection must not end.
    await admin(world.sandbox.httpUrl, 'token-quirks', { profile: 'connectpay', omitScope: true });
    const token = await sandboxLogin(world.bff.url, 'alice');
    const flow = await startConnect(world.bff.url, token, 'connectpay', { username: 'alice', scopes: ['psd2-ais'] });
    expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
    await admin(world.sandbox.httpUrl, 'token-quirks', { profile: 'connectpay' });
    const pay = () =>
      request(world.bff.url)
        .post(`/api/v1/connections/${flow.connectionId}/payments`)
        .set(auth(token))
        .set('Idempotency-Key', randomUUID())
        .send(paymentBody({ debtorAccount: { iban: IBAN.aliceConnectPay } }));
    const first = await pay();
    expect(first.status).toBe(502);
    expect(first.body).toMatchObject({
      code: 'bank_error',
      aspspId: 'connectpay',
      bankErrorKind: 'misconfigured',
      bankErrorCause: 'token_refused_after_refresh',
    });
    const refreshes = await tokenCalls(world.sandbox.httpUrl, 'connectpay', 'refresh_token');
    // Refreshing again would not help: the next refusal skips the refresh and fails at once.
    expect((await pay()).body).toMatchObject({ bankErrorCause: 'token_refused_after_refresh' });
    expect(await tokenCalls(world.sandbox.httpUrl, 'connectpay', 'refresh_token')).toBe(refreshes);
    const row = await withClient(
      world.bff.db.url,
      async (c) => (await c.query('SELECT status, refresh_token_enc FROM connections WHERE id = $1', [flow.connectionId])).rows[0],
    );
    expect(row.status).toBe('active');
    expect(row.refresh_token_enc).toMatch(/^v2\./);
  });

  it.each([
    ['subscriptionKeyHeader', 'PO-APIKey'],
    ['subscriptionKeyHeader', 'P0-APIKey'],
    ['psuIpHeader', 'PSU-IP-Address'],
    ['psuIpHeader', 'PSU-IpAddress'],
  ] as const)('works against the strict %s mode %s: reads are attended, payments go through', async (mode, value) => {
    await admin(world.sandbox.httpUrl, 'modes', { profile: 'flowe', [mode]: value });
    const seqBefore = Math.max(0, ...(await bankRequests(world.sandbox.httpUrl, { profile: 'flowe' })).map((r) => r.seq));
    await read(alice, aliceConsent).expect(200);
    const paid = await request(world.bff.url)
      .post(`/api/v1/connections/${alice.connectionId}/payments`)
      .set(auth(alice.token))
      .set('Idempotency-Key', randomUUID())
      .send(paymentBody());
    expect(paid.status).toBe(201);
    const sent = (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe' })).filter((r) => r.seq > seqBefore);
    const reads = sent.filter((r) => r.route === 'accounts');
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((r) => r.psuIpPresent && r.status === 200)).toBe(true);
    expect(sent.filter((r) => r.route === 'payments').map((r) => [r.status, r.psuIpPresent])).toEqual([[201, true]]);
  });
});

describe('exact token requests', () => {
  let world: BankWorld;
  beforeAll(async () => {
    world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
  });
  afterAll(async () => {
    await world.close();
  });

  interface TokenEntry {
    grantType: string;
    form: Record<string, string>;
    query: Record<string, string>;
    clientAuth: string;
    clientCertVerified: boolean;
    status: number;
  }
  const tokenRequests = async (profile: string): Promise<TokenEntry[]> =>
    ((await fetch(`${world.sandbox.httpUrl}/admin/requests?profile=${profile}&route=token`).then((r) => r.json())) as { requests: TokenEntry[] }).requests;

  async function refreshTokenOf(connectionId: string): Promise<string> {
    const row = await withClient(
      world.bff.db.url,
      async (c) =>
        (await c.query('SELECT refresh_token_enc, user_id, aspsp_id FROM connections WHERE id = $1', [connectionId])).rows[0] as {
          refresh_token_enc: string;
          user_id: string;
          aspsp_id: string;
        },
    );
    return world.bff.app
      .get(TokenVaultService)
      .open(row.refresh_token_enc, { connectionId, userId: row.user_id, aspspId: row.aspsp_id, field: 'refresh_token' });
  }

  it.each([
    [
      'flowe',
      (code: string, redirect: string) => ({
        grant_type: 'authorization_code',
        code: sha12(code),
        scope: 'offline_access https://sandbox.flowe.local/psd2/user_impersonation https://sandbox.flowe.local/psd2/aisp https://sandbox.flowe.local/psd2/pisp',
        // Repeated from the authorize request (RFC 6749 4.1.3), so a code minted for another client's redirect is refused.
        redirect_uri: redirect,
        client_id: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c',
        client_secret: sha12('flowe-sandbox-secret'),
      }),
      (refresh: string) => ({
        grant_type: 'refresh_token',
        refresh_token: sha12(refresh),
        scope: 'offline_access https://sandbox.flowe.local/psd2/user_impersonation https://sandbox.flowe.local/psd2/aisp https://sandbox.flowe.local/psd2/pisp',
        client_id: 'b6d4c1e2-7a3f-4e9b-8c21-0f5e6d7a8b9c',
        client_secret: sha12('flowe-sandbox-secret'),
      }),
      { p: 'B2C_1A_Psd2_SignIn' },
    ],
    [
      'connectpay',
      (code: string, redirect: string) => ({
        grant_type: 'authorization_code',
        code: sha12(code),
        redirect_url: redirect,
        client_id: '3f0c7a52-8d6e-4b8e-9a51-1c2d3e4f5a6b',
        client_secret: sha12('connectpay-sandbox-secret'),
      }),
      (refresh: string) => ({
        grant_type: 'refresh_token',
        refresh_token: sha12(refresh),
        client_id: '3f0c7a52-8d6e-4b8e-9a51-1c2d3e4f5a6b',
        client_secret: sha12('connectpay-sandbox-secret'),
      }),
      {},
    ],
  ] as const)('%s: the code exchange and the refresh send exactly these fields, over mutual TLS', async (bank, exchange, refresh, query) => {
    const token = await sandboxLogin(world.bff.url, 'alice');
    const flow = await startConnect(world.bff.url, token, bank, { username: 'alice' });
    const callback = new URL(flow.callbackUrl);
    expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
    const redirect = `${callback.origin}${callback.pathname}`;
    const refreshToken = await refreshTokenOf(flow.connectionId);
    await withClient(world.bff.db.url, (c) =>
      c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [flow.connectionId]),
    );
    const consent = await request(world.bff.url).post(`/api/v1/connections/${flow.connectionId}/consents`).set(auth(token)).send({});
    expect(consent.status).toBe(201);

    const [first, second, ...rest] = await tokenRequests(bank);
    expect(rest).toEqual([]);
    const expectedExchange = exchange(callback.searchParams.get('code')!, redirect) as Record<string, string>;
    const expectedRefresh = refresh(refreshToken) as Record<string, string>;
    // Exactly these fields, in this order; secrets appear only as the sandbox's masked hashes.
    expect(Object.entries(first!.form)).toEqual(Object.entries(expectedExchange));
    expect(Object.entries(second!.form)).toEqual(Object.entries(expectedRefresh));
    for (const entry of [first!, second!]) expect(entry).toMatchObject({ query, clientAuth: 'body', clientCertVerified: true, status: 200 });
  });
});

describe('a payment that never reached the bank', () => {
  it('is failed and retryable, and a retry with its key creates exactly one payment (TLS handshake refused)', async () => {
    const world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
    try {
      const alice = await connectUser(world.bff.url, 'alice', 'flowe');
      const key = randomUUID();
      const pay = () =>
        request(world.bff.url)
          .post(`/api/v1/connections/${alice.connectionId}/payments`)
          .set(auth(alice.token))
          .set('Idempotency-Key', key)
          .send(paymentBody());
      await admin(world.sandbox.httpUrl, 'config-faults', { profile: 'flowe', tls: 'refuse-handshake' });
      const refused = await pay();
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({
        code: 'bank_unavailable',
        bankErrorKind: 'unreachable',
        bankErrorCause: 'tls_refused',
        paymentStatus: 'failed',
        retryable: true,
      });
      const paymentId = refused.body.paymentId as string;
      const shown = await request(world.bff.url).get(`/api/v1/payments/${paymentId}`).set(auth(alice.token)).expect(200);
      expect(shown.body.status).toBe('failed');
      // A retry while the bank is still unreachable tries again, and fails the same way.
      expect((await pay()).body).toMatchObject({ paymentId, paymentStatus: 'failed', retryable: true });

      await admin(world.sandbox.httpUrl, 'config-faults', undefined, 'DELETE');
      const retried = await pay();
      expect(retried.status).toBe(201);
      expect(retried.body).toMatchObject({ id: paymentId, status: 'RCVD' });
      const replayed = await pay();
      expect(replayed.status).toBe(201);
      expect(replayed.headers['idempotent-replayed']).toBe('true');
      const atBank = (await bankRequests(world.sandbox.httpUrl, { profile: 'flowe', route: 'payments' })).filter((r) => r.status === 201);
      expect(atBank).toHaveLength(1);
      const history = await request(world.bff.url).get(`/api/v1/payments/${paymentId}`).set(auth(alice.token)).expect(200);
      expect(history.body.statusHistory.map((h: { status: string }) => h.status)).toEqual(['failed', 'pending', 'failed', 'pending', 'RCVD']);
    } finally {
      await world.close();
    }
  });

  it('is failed with connection_refused when the bank URL is a closed port', async () => {
    const world = await startBankWorld({ env: { SCHEDULER_ENABLED: 'false' } });
    const closed = await freePort();
    const broken = await startTestBff({
      ...bankEnv(world.sandbox),
      SCHEDULER_ENABLED: 'false',
      CONNECTPAY_PIS_BASE_URL: `https://127.0.0.1:${closed}/connectpay/psd2/v1`,
    });
    try {
      const bob = await connectUser(broken.url, 'bob', 'connectpay');
      const res = await request(broken.url)
        .post(`/api/v1/connections/${bob.connectionId}/payments`)
        .set(auth(bob.token))
        .set('Idempotency-Key', randomUUID())
        .send(paymentBody({ debtorAccount: { iban: IBAN.bobConnectPay }, creditorAccount: { iban: IBAN.aliceConnectPay } }));
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({
        aspspId: 'connectpay',
        bankErrorKind: 'unreachable',
        bankErrorCause: 'connection_refused',
        paymentStatus: 'failed',
        retryable: true,
      });
      expect(await bankRequests(world.sandbox.httpUrl, { route: 'payments' })).toEqual([]);
    } finally {
      await broken.close();
      await world.close();
    }
  });
});
