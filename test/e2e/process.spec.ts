import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase } from '../support/database.js';
import { PRODUCTION_ENV } from '../support/env.js';
import { isUp, runBuilt, waitFor } from '../support/process.js';

// These run the built service (`npm test` builds first) exactly as `npm start` does.
const MAIN = 'dist/src/main.js';

/** A loopback port nothing listens on (it was free a moment ago). */
function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function postgresProcessesFor(dir: string): string[] {
  try {
    return execFileSync('pgrep', ['-af', dir]).toString().trim().split('\n').filter(Boolean);
  } catch {
    return []; // pgrep exits 1 when nothing matches
  }
}

describe('the service as a process', () => {
  it('exits 1 with one line naming a bad variable and what is expected', async () => {
    const run = runBuilt(MAIN, { PORT: 'abc' });
    await expect(run.exited).resolves.toBe(1);
    expect(run.output().trim().split('\n')).toEqual(['Configuration error: PORT must be an integer between 1 and 65535']);
  });

  it('lists every missing or bad variable of a production start in one run, never a value', async () => {
    const canaries = { PORT: 'canary-port', TRUST_PROXY: 'canary-proxy', TOKEN_VAULT_KEYS: 'canary-vault-key', FLOWE_CLIENT_SECRET: 'canary-client-secret' };
    const run = runBuilt(MAIN, { APP_MODE: 'production', ...canaries });
    await expect(run.exited).resolves.toBe(1);
    const lines = run.output().trim().split('\n');
    expect(lines).toEqual(
      [
        'PORT must be an integer between 1 and 65535',
        'TRUST_PROXY must be false, true, a hop count, or a comma-separated list of IP addresses, subnets (10.0.0.0/8) or loopback, linklocal, uniquelocal',
        'FRONTEND_RETURN_URLS must list at least one URL in production mode',
        ...['CONNECTPAY', 'FLOWE'].flatMap((bank) => [
          ...['NAME', 'ADAPTER', 'SERVICES', 'AUTHORIZE_URL', 'TOKEN_URL', 'AIS_BASE_URL', 'PIS_BASE_URL', 'CLIENT_ID', 'SCOPES_AIS', 'SCOPES_PIS'].map(
            (v) => `${bank}_${v} is required`,
          ),
          ...(bank === 'CONNECTPAY' ? ['CONNECTPAY_CLIENT_SECRET or CONNECTPAY_CLIENT_SECRET_FILE must be set'] : []),
        ]),
        'TOKEN_VAULT_KEYS entry 1 must look like keyId:base64key',
        'AUTH_ISSUER must be set in production mode',
        'AUTH_AUDIENCE must be set in production mode',
        'AUTH_JWKS_URL or AUTH_PUBLIC_KEY (or AUTH_PUBLIC_KEY_FILE) must be set in production mode',
        'DATABASE_URL (or DATABASE_URL_FILE) is required in production mode (the embedded PostgreSQL is for development)',
      ].map((problem) => `Configuration error: ${problem}`),
    );
    expect(run.output()).not.toContain('canary');
  });

  it.each([
    ['an http bank URL', { FLOWE_TOKEN_URL: 'http://idp.example/oauth2/v2.0/token' }, ['FLOWE_TOKEN_URL must be an https URL in production mode']],
    [
      'no Flowe client certificate',
      { FLOWE_TLS_CERT_FILE: '' },
      ['FLOWE_TLS_CERT_FILE must be set when FLOWE_TLS_KEY_FILE is (a client certificate and its key go together)'],
    ],
    [
      'no Flowe client key',
      { FLOWE_TLS_KEY_FILE: '' },
      ['FLOWE_TLS_KEY_FILE must be set when FLOWE_TLS_CERT_FILE is (a client certificate and its key go together)'],
    ],
    [
      'neither, nor a subscription key, and an http public URL',
      { FLOWE_TLS_CERT_FILE: '', FLOWE_TLS_KEY_FILE: '', FLOWE_SUBSCRIPTION_KEY: '', FLOWE_SUBSCRIPTION_KEY_HEADER: '', PUBLIC_URL: 'http://bff.example' },
      [
        'PUBLIC_URL must be an https URL in production mode (http only for localhost)',
        "FLOWE_TLS_CERT_FILE must be set in production mode (Flowe requires mutual TLS with the TPP's eIDAS QWAC)",
        "FLOWE_TLS_KEY_FILE must be set in production mode (Flowe requires mutual TLS with the TPP's eIDAS QWAC)",
        "FLOWE_SUBSCRIPTION_KEY or FLOWE_SUBSCRIPTION_KEY_FILE must be set in production mode (Flowe's API gateway requires it)",
      ],
    ],
  ])('a production start with %s exits 1 naming the variable', async (_case, change, problems) => {
    const run = runBuilt(MAIN, {
      ...PRODUCTION_ENV,
      AUTH_JWKS_URL: 'https://login.tpp.example/.well-known/jwks.json',
      DATABASE_URL: 'postgres://tpp@127.0.0.1:1/tpp',
      DATABASE_STARTUP_TIMEOUT_SECONDS: '1',
      ...change,
    });
    await expect(run.exited).resolves.toBe(1);
    expect(run.output().trim().split('\n')).toEqual(problems.map((problem) => `Configuration error: ${problem}`));
  });

  it('names the database host and why it is unreachable, retries with backoff, then exits 1', async () => {
    const port = await closedPort();
    const started = Date.now();
    const run = runBuilt(MAIN, { DATABASE_URL: `postgres://tpp:canary-password@127.0.0.1:${port}/tpp`, DATABASE_STARTUP_TIMEOUT_SECONDS: '2' });
    await expect(run.exited).resolves.toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
    const lines = jsonLines(run.output());
    const retries = lines.filter((line) => line.level === 40);
    expect(retries.length).toBeGreaterThanOrEqual(2);
    for (const line of retries)
      expect(line.msg).toMatch(
        new RegExp(
          `^cannot connect to the database at 127\\.0\\.0\\.1:${port}/tpp \\(DATABASE_URL\\): connection refused \\(ECONNREFUSED\\); retrying in \\d+\\.\\d s$`,
        ),
      );
    const last = lines.at(-1)!;
    expect(last).toMatchObject({
      level: 60,
      msg: expect.stringMatching(
        new RegExp(
          `^cannot connect to the database at 127\\.0\\.0\\.1:${port}/tpp \\(DATABASE_URL\\): connection refused \\(ECONNREFUSED\\); gave up after \\d`,
        ),
      ),
    });
    // It kept trying for the configured window, and not for much longer.
    const waited = Number(/gave up after ([\d.]+) s/.exec(last.msg as string)![1]);
    expect(waited).toBeGreaterThanOrEqual(2);
    expect(waited).toBeLessThan(2 + 5 + 1);
    expect(run.output()).not.toMatch(/canary|tpp:|at .*\.js:\d+/);
  });

  it('says when the database refuses the credentials', async () => {
    const url = new URL(process.env.TEST_DATABASE_URL!);
    url.username = 'canary_no_such_role';
    url.password = 'canary-password';
    const run = runBuilt(MAIN, { DATABASE_URL: url.toString(), DATABASE_STARTUP_TIMEOUT_SECONDS: '0' });
    await expect(run.exited).resolves.toBe(1);
    const [line] = jsonLines(run.output());
    expect(line).toMatchObject({
      level: 60,
      msg: expect.stringMatching(
        /^cannot connect to the database at .* \(DATABASE_URL\): (authentication refused|password authentication failed)\b.*\(SQLSTATE 28(000|P01)\); gave up after/,
      ),
    });
    expect(run.output()).not.toContain('canary');
  });

  it('runs on DATABASE_URL, migrates idempotently, and drains on SIGTERM', async () => {
    const db = await createTestDatabase();
    const port = await closedPort();
    try {
      const env = { DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1' };
      for (const expected of [/migrations applied|schema is up to date/, /schema is up to date/]) {
        const run = runBuilt(MAIN, env);
        try {
          await waitFor(() => isUp(`http://127.0.0.1:${port}/health/ready`), 30_000, 'readiness');
          expect(run.output()).toMatch(expected);
          // Not a terminal: JSON lines, and Nest's module and route narration only at debug level.
          expect(jsonLines(run.output()).length).toBe(run.output().trim().split('\n').length);
          expect(run.output()).not.toMatch(/RouterExplorer|RoutesResolver|InstanceLoader/);
        } finally {
          run.child.kill('SIGTERM');
        }
        await expect(run.exited).resolves.toBe(0);
        expect(run.output()).toContain('"msg":"stopped"');
      }
    } finally {
      await db.drop();
    }
  }, 90_000);

  it('starts an embedded PostgreSQL without DATABASE_URL and leaves no postgres behind on SIGINT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-embedded-'));
    const [port, pgPort] = [await closedPort(), await closedPort()];
    const run = runBuilt(MAIN, { PORT: String(port), HOST: '127.0.0.1', EMBEDDED_PG_DIR: dir, EMBEDDED_PG_PORT: String(pgPort) });
    try {
      await waitFor(() => isUp(`http://127.0.0.1:${port}/health/ready`), 60_000, 'readiness on embedded PostgreSQL');
      expect(run.output()).toContain('DATABASE_URL is not set: starting embedded PostgreSQL');
      expect(postgresProcessesFor(dir).length).toBeGreaterThan(0);
    } finally {
      run.child.kill('SIGINT');
    }
    await expect(run.exited).resolves.toBe(0);
    await waitFor(() => postgresProcessesFor(dir).length === 0, 10_000, 'postgres to stop');
    expect(postgresProcessesFor(dir)).toEqual([]);
  }, 90_000);

  it('npm start: one readable stream with the sandbox labelled, the banner last, and SIGINT stopping both', async () => {
    const db = await createTestDatabase();
    const [port, sandboxPort] = [await closedPort(), await closedPort()];
    const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
    const run = runBuilt('dist/src/cli/start.js', {
      DATABASE_URL: db.url,
      PORT: String(port),
      HOST: '127.0.0.1',
      SANDBOX_PORT: String(sandboxPort),
      SANDBOX_URL: sandboxUrl,
      // What a terminal gets; the test's pipe would otherwise get JSON.
      LOG_FORMAT: 'pretty',
      SCHEDULER_ENABLED: 'false',
    });
    try {
      await waitFor(() => run.output().includes('Ctrl-C stops everything.'), 60_000, 'the banner');
      const lines = run.output().trimEnd().split('\n');
      const logLines = lines.filter((line) => /^\[\d\d:\d\d:\d\d\.\d{3}\] [A-Z]+: /.test(line));
      expect(lines.filter((line) => line.startsWith('{'))).toEqual([]);
      expect(logLines.filter((line) => line.includes('] INFO: sandbox ')).length).toBeGreaterThanOrEqual(3);
      expect(logLines).toContainEqual(expect.stringMatching(/ INFO: tpp-bff tpp-bff is listening \{"url":/));
      expect(run.output()).not.toMatch(/Mapped \{|RouterExplorer|InstanceLoader/);
      // The banner is the last thing printed: after it come only its own lines.
      const banner = lines.findIndex((line) => line.includes(`tpp-bff is running at http://localhost:${port}`));
      expect(banner).toBeGreaterThan(lines.indexOf(logLines.at(-1)!));
      expect(lines.slice(banner).join('\n')).toMatch(/Demo page: .*\n.*alice or bob.*\n.*\/psu/);
      expect(await isUp(`${sandboxUrl}/admin/clock`)).toBe(true);
    } finally {
      run.child.kill('SIGINT');
      await expect(run.exited).resolves.toBe(0);
      await db.drop();
    }
    await waitFor(async () => !(await isUp(`${sandboxUrl}/admin/clock`)), 10_000, 'the sandbox to stop');
  }, 90_000);
});
