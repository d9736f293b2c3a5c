import { TokenCipher } from '../../src/modules/token-vault/token-cipher.js';
import type { SandboxApp } from '../../src/sandbox/sandbox-app.js';
import { hop, sandboxLogin, startConnect } from '../support/bank-login.js';
import { freePort } from '../support/bff.js';
import { createTestDatabase, withClient, type TestDatabase } from '../support/database.js';
import { isUp, runBuilt, waitFor, type RunningProcess } from '../support/process.js';
import { bankEnv, startSandbox } from '../support/bank-world.js';

const CANARY = {
  clientSecret: 'canary-client-secret-5d41402abc',
  subscriptionKey: 'canary-subscription-key-7e2b91',
};
const VAULT_KEY = Buffer.alloc(32, 9);

/**
 * Secrets never leave the server: with unique canary values for the client secret and subscription key, and the
 * real access and refresh tokens of a completed login, none of them appears in any response, in
 * the service's logs (at debug level) or anywhere in the database.
 */
describe('secrets never leave the server', () => {
  let sandbox: SandboxApp;
  let db: TestDatabase;
  let bff: RunningProcess;
  let url: string;

  beforeAll(async () => {
    sandbox = await startSandbox({ flowe: { clientSecret: CANARY.clientSecret, subscriptionKey: CANARY.subscriptionKey } });
    db = await createTestDatabase();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    bff = runBuilt('dist/src/main.js', {
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_URL: url,
      // The banks over mutual TLS, as everywhere else (the client key must not leak either).
      ...bankEnv(sandbox),
      LOG_LEVEL: 'debug',
      FLOWE_CLIENT_SECRET: CANARY.clientSecret,
      FLOWE_SUBSCRIPTION_KEY: CANARY.subscriptionKey,
      TOKEN_VAULT_KEYS: `k9:${VAULT_KEY.toString('base64')}`,
    });
    await waitFor(() => isUp(`${url}/health/ready`), 30_000, 'the BFF');
  }, 60_000);

  afterAll(async () => {
    bff.child.kill('SIGTERM');
    await bff.exited;
    await db.drop();
    await sandbox.close();
  });

  it('finds no secret, code or token in responses, logs or the database after a login', async () => {
    const userToken = await sandboxLogin(url, 'alice');
    const flow = await startConnect(url, userToken, 'flowe');
    const code = new URL(flow.callbackUrl).searchParams.get('code')!;
    const state = new URL(flow.callbackUrl).searchParams.get('state')!;
    const back = await hop(flow.callbackUrl, { headers: { cookie: flow.cookie } });
    expect(new URL(back.location!).searchParams.get('result')).toBe('success');
    const seen: string[] = [back.location!, ...back.setCookies, back.text];
    const listed = await fetch(`${url}/api/v1/connections`, { headers: { authorization: `Bearer ${userToken}` } });
    seen.push(await listed.text());

    const cipher = new TokenCipher([{ id: 'k9', secret: VAULT_KEY }]);
    const row = await withClient(
      db.url,
      async (c) => (await c.query('SELECT id, user_id, aspsp_id, access_token_enc, refresh_token_enc FROM connections')).rows[0],
    );
    const binding = { connectionId: row.id, userId: row.user_id, aspspId: row.aspsp_id };
    const accessToken = cipher.decrypt(row.access_token_enc, { ...binding, field: 'access_token' });
    const refreshToken = cipher.decrypt(row.refresh_token_enc, { ...binding, field: 'refresh_token' });

    const dump = await withClient(db.url, async (c) => {
      const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r) => r.tablename as string);
      return (await Promise.all(tables.map(async (t) => JSON.stringify((await c.query(`SELECT * FROM "${t}"`)).rows)))).join('\n');
    });
    await new Promise((r) => setTimeout(r, 200)); // let the last log lines flush
    const logs = bff.output();
    expect(logs).toContain('bank call'); // the token call was logged…
    expect(logs).toContain('/auth/flowe/callback?');

    const secrets = { ...CANARY, accessToken, refreshToken, code, state };
    for (const [name, value] of Object.entries(secrets)) {
      expect({ name, inLogs: logs.includes(value) }).toEqual({ name, inLogs: false });
      expect({ name, inResponses: seen.some((s) => s.includes(value)) }).toEqual({ name, inResponses: false });
      expect({ name, inDatabase: dump.includes(value) }).toEqual({ name, inDatabase: false });
    }
  });

  it('sends a fresh X-Request-ID on every bank call and logs it with that call', async () => {
    const userToken = await sandboxLogin(url, 'bob');
    const flow = await startConnect(url, userToken, 'flowe', { username: 'bob' });
    const back = await hop(flow.callbackUrl, { headers: { cookie: flow.cookie } });
    expect(new URL(back.location!).searchParams.get('result')).toBe('success');
    const consent = await fetch(`${url}/api/v1/connections/${flow.connectionId}/consents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${userToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(consent.status).toBe(201);
    await new Promise((r) => setTimeout(r, 200));

    const received = ((await (await fetch(`${sandbox.httpUrl}/admin/requests?profile=flowe`)).json()) as { requests: { route: string; xRequestId?: string }[] })
      .requests;
    const fromBff = received.filter((r) => r.route === 'token' || r.route === 'consents');
    expect(fromBff.map((r) => r.route)).toEqual(expect.arrayContaining(['token', 'consents']));
    const ids = fromBff.map((r) => r.xRequestId);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    const bankCallLines = bff
      .output()
      .split('\n')
      .filter((line) => line.includes('"msg":"bank call"'));
    for (const id of ids) expect(bankCallLines.some((line) => line.includes(`"xRequestId":"${id}"`))).toBe(true);
  });
});
