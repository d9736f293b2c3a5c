import { DataSource } from 'typeorm';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { typeormOptions } from '../../src/database/typeorm-options.js';
import { ConnectionsStore } from '../../src/modules/connections/connections.store.js';
import { OutboxStore } from '../../src/modules/events/outbox.store.js';
import { rotateVault } from '../../src/modules/connections/vault-rotation.js';
import { TokenVaultService } from '../../src/modules/token-vault/token-vault.service.js';
import { finishConnect, sandboxLogin, startConnect } from '../support/bank-login.js';
import { startTestBff, type TestBff } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { accessTokenOf, admin, bankEnv, startSandbox, testCerts, tokenCalls, VAULT_K1, VAULT_K2 } from '../support/bank-world.js';

const DAY = 86_400;

async function connect(bff: TestBff, user: string, aspspId: string): Promise<string> {
  const token = await sandboxLogin(bff.url, user);
  const flow = await startConnect(bff.url, token, aspspId, { username: user });
  expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
  return flow.connectionId;
}

async function accessTokenVia(bff: TestBff, connectionId: string): Promise<string> {
  return accessTokenOf(bff, connectionId);
}

async function expireAccessToken(db: TestDatabase, connectionId: string): Promise<void> {
  await withClient(db.url, (c) => c.query("UPDATE connections SET access_token_expires_at = now() - interval '1 minute' WHERE id = $1", [connectionId]));
}

/** Every text value of every table, as a pg_dump would show it. */
async function dumpAllText(url: string): Promise<string> {
  return withClient(url, async (c) => {
    const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename as string);
    const parts: string[] = [];
    for (const table of tables) parts.push(JSON.stringify((await c.query(`SELECT * FROM "${table}"`)).rows));
    return parts.join('\n');
  });
}

describe('bank tokens: vault, refresh and mutual TLS', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  let bff: TestBff;

  beforeAll(async () => {
    sandbox = await startSandbox();
    db = await createTestDatabase();
    bff = await startTestBff(bankEnv(sandbox), { db });
  });
  afterAll(async () => {
    await bff.close();
    await db.drop();
    await sandbox.close();
  });

  it('stores tokens only as vault ciphertext bound to their row', async () => {
    const id = await connect(bff, 'alice', 'flowe');
    const plaintext = await accessTokenVia(bff, id);
    expect(plaintext.length).toBeGreaterThan(10);
    const dump = await dumpAllText(db.url);
    expect(dump).not.toContain(plaintext);
    const row = await withClient(
      db.url,
      async (c) => (await c.query('SELECT access_token_enc, refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0],
    );
    expect(row.access_token_enc).toMatch(/^v2\.k1\./);
    expect(row.refresh_token_enc).toMatch(/^v2\.k1\./);
  });

  it('refuses a ciphertext copied from another connection: the copy is not usable, nothing leaks', async () => {
    const a = await connect(bff, 'alice', 'flowe');
    const b = await connect(bff, 'bob', 'flowe');
    await withClient(db.url, (c) =>
      c.query('UPDATE connections SET access_token_enc = (SELECT access_token_enc FROM connections WHERE id = $1) WHERE id = $2', [a, b]),
    );
    await expect(accessTokenVia(bff, b)).rejects.toMatchObject({ code: 'reauth_required', extensions: { reauthRequired: true } });
    const status = await withClient(db.url, async (c) => (await c.query('SELECT status, failure_reason FROM connections WHERE id = $1', [b])).rows[0]);
    expect(status).toEqual({ status: 'reauth_required', failure_reason: 'vault_error' });
    await expect(accessTokenVia(bff, a)).resolves.toEqual(expect.any(String));
  });

  it('refreshes an expired access token once, for 20 concurrent callers on two replicas, storing the rotated refresh token', async () => {
    const id = await connect(bff, 'alice', 'flowe');
    const replica = await startTestBff(bankEnv(sandbox), { db });
    try {
      const before = await withClient(
        db.url,
        async (c) => (await c.query('SELECT refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0].refresh_token_enc,
      );
      await expireAccessToken(db, id);
      const refreshesBefore = await tokenCalls(sandbox.httpUrl, 'flowe', 'refresh_token');
      const tokens = await Promise.all(Array.from({ length: 20 }, (_, i) => accessTokenVia(i % 2 ? replica : bff, id)));
      expect(await tokenCalls(sandbox.httpUrl, 'flowe', 'refresh_token')).toBe(refreshesBefore + 1);
      expect(new Set(tokens).size).toBe(1);
      const after = await withClient(
        db.url,
        async (c) => (await c.query('SELECT refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0].refresh_token_enc,
      );
      expect(after).not.toBe(before);
    } finally {
      await replica.close();
    }
  });

  it('keeps the old refresh token when the token endpoint fails during a refresh', async () => {
    const id = await connect(bff, 'alice', 'connectpay');
    const before = await withClient(
      db.url,
      async (c) => (await c.query('SELECT refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0].refresh_token_enc,
    );
    await expireAccessToken(db, id);
    await admin(sandbox.httpUrl, 'faults', { profile: 'connectpay', route: 'token', errorRate: 1, errorStatus: 500 });
    try {
      await expect(accessTokenVia(bff, id)).rejects.toMatchObject({
        name: 'BankError',
        aspspId: 'connectpay',
        kind: expect.stringMatching(/^(transient|unavailable)$/),
      });
    } finally {
      await admin(sandbox.httpUrl, 'faults', undefined, 'DELETE');
    }
    const row = await withClient(db.url, async (c) => (await c.query('SELECT status, refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0]);
    expect(row).toEqual({ status: 'active', refresh_token_enc: before });
    await expect(accessTokenVia(bff, id)).resolves.toEqual(expect.any(String));
  });

  it('moves a Flowe connection to reauth_required once the bank refuses refreshes after 90 days', async () => {
    const id = await connect(bff, 'alice', 'flowe');
    await admin(sandbox.httpUrl, 'clock', { advanceSeconds: 91 * DAY });
    try {
      await expireAccessToken(db, id);
      await expect(accessTokenVia(bff, id)).rejects.toMatchObject({ extensions: { reauthRequired: true } });
      const refreshes = await tokenCalls(sandbox.httpUrl, 'flowe', 'refresh_token');
      await expect(accessTokenVia(bff, id)).rejects.toMatchObject({ extensions: { reauthRequired: true } });
      expect(await tokenCalls(sandbox.httpUrl, 'flowe', 'refresh_token')).toBe(refreshes); // no further refresh
      const row = await withClient(db.url, async (c) => (await c.query('SELECT status, refresh_token_enc FROM connections WHERE id = $1', [id])).rows[0]);
      expect(row).toEqual({ status: 'reauth_required', refresh_token_enc: null });
    } finally {
      await admin(sandbox.httpUrl, 'reset?state=true');
    }
  });

  it('rotates vault keys: every connection stays usable after the old key is removed', async () => {
    const ids = [await connect(bff, 'alice', 'flowe'), await connect(bff, 'bob', 'connectpay')];
    const tokensBefore = await Promise.all(ids.map((id) => accessTokenVia(bff, id)));
    const rotatedApp = await startTestBff({ ...bankEnv(sandbox), TOKEN_VAULT_KEYS: `${VAULT_K2},${VAULT_K1}` }, { db });
    const dataSource = new DataSource(typeormOptions(db.url, 2));
    await dataSource.initialize();
    try {
      const counts = await rotateVault(new ConnectionsStore(dataSource, new OutboxStore(dataSource)), rotatedApp.app.get(TokenVaultService));
      expect(counts.failed).toBe(0);
      expect(counts.rotated).toBeGreaterThanOrEqual(ids.length);
    } finally {
      await dataSource.destroy();
      await rotatedApp.close();
    }
    const onlyNew = await startTestBff({ ...bankEnv(sandbox), TOKEN_VAULT_KEYS: VAULT_K2 }, { db });
    try {
      const rows = await withClient(db.url, async (c) => (await c.query('SELECT access_token_enc FROM connections WHERE id = ANY($1)', [ids])).rows);
      for (const row of rows) expect(row.access_token_enc).toMatch(/^v2\.k2\./);
      expect(await Promise.all(ids.map((id) => accessTokenVia(onlyNew, id)))).toEqual(tokensBefore);
    } finally {
      await onlyNew.close();
    }
  });
});

describe('token exchange over mutual TLS', () => {
  it('presents the configured client certificate to Flowe and refuses a bank certificate from an unknown CA', async () => {
    const certs = testCerts();
    const sandbox = await startSandbox({ tls: { port: 0, cert: certs.server.cert, key: certs.server.key, ca: certs.ca.cert }, requireMtls: true });
    const flowe = (base: string) => ({
      FLOWE_TOKEN_URL: `${base}/flowe/idp/oauth2/v2.0/token`,
      FLOWE_AIS_BASE_URL: `${base}/flowe/openbankingais/v1`,
      FLOWE_PIS_BASE_URL: `${base}/flowe/openbankingpis/v1`,
      FLOWE_TLS_CERT_FILE: certs.client.certFile,
      FLOWE_TLS_KEY_FILE: certs.client.keyFile,
    });
    const bff = await startTestBff({ ...bankEnv(sandbox), ...flowe(sandbox.httpsUrl!), FLOWE_TLS_CA_FILE: certs.ca.certFile });
    const distrusting = await startTestBff({ ...bankEnv(sandbox), ...flowe(sandbox.httpsUrl!), FLOWE_TLS_CA_FILE: certs.rogueCa.certFile });
    try {
      const alice = await sandboxLogin(bff.url, 'alice');
      const flow = await startConnect(bff.url, alice, 'flowe');
      expect(await finishConnect(flow)).toMatchObject({ result: 'success' });
      const res = await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe&route=token`);
      const calls = ((await res.json()) as { requests: { clientCertVerified: boolean; status: number }[] }).requests;
      expect(calls).toEqual([expect.objectContaining({ clientCertVerified: true, status: 200 })]);

      // A BFF that does not trust the bank's CA refuses the handshake before sending anything.
      const token = await sandboxLogin(distrusting.url, 'alice');
      const refused = await startConnect(distrusting.url, token, 'flowe');
      expect(await finishConnect(refused)).toMatchObject({ result: 'error', error: 'exchange_failed' });
      expect(await tokenCalls(sandbox.httpUrl, 'flowe')).toBe(1);
    } finally {
      await bff.close();
      await distrusting.close();
      await sandbox.close();
    }
  });
});
