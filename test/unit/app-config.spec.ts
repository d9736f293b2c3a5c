import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appConfig, banksConfig, databaseConfig, validateConfiguration, vaultConfig } from '../../src/config/index.js';
import { ConfigError } from '../../src/config/define-config.js';
import { PRODUCTION_ENV } from '../support/env.js';

const PRODUCTION_BANK = {
  ...PRODUCTION_ENV,
  AUTH_JWKS_URL: 'https://login.tpp.example/.well-known/jwks.json',
  DATABASE_URL: 'postgres://tpp@db.internal:5432/tpp',
};

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('starts with defaults in sandbox mode, with the demo page on the return-URL allow-list', () => {
    const app = appConfig.parse({});
    expect(app).toMatchObject({ mode: 'sandbox', port: 3000, bodyLimit: '100kb', secureCookies: false });
    expect(app.frontendReturnUrls).toEqual(['http://localhost:3000/']);
    const { banks } = banksConfig.parse({});
    expect(banks.map((b) => b.id)).toEqual(['connectpay', 'flowe']);
    const flowe = banks.find((b) => b.id === 'flowe')!;
    expect(flowe).toMatchObject({
      adapter: 'flowe',
      redirectUri: 'http://localhost:3000/auth/flowe/callback',
      // Both spellings of Flowe's guide, for the key and for the PSU's IP: safe against either reading.
      subscriptionKey: { headers: ['PO-APIKey', 'P0-APIKey'], value: 'flowe-sandbox-subscription-key' },
      psuIp: { headers: ['PSU-IP-Address', 'PSU-IpAddress'], format: 'ipv4' },
      chargeBearer: 'DEBT',
      currencies: ['EUR'],
      statusMinIntervalMs: 1000,
    });
    expect(banks.find((b) => b.id === 'connectpay')).toMatchObject({ psuIp: { headers: ['PSU-IP-Address'], format: 'ipv4' } });
    expect(banks.find((b) => b.id === 'connectpay')!.subscriptionKey).toBeUndefined();
  });

  it('takes the header spellings, the PSU IP format and its IPv6 fallback per bank', () => {
    const { banks } = banksConfig.parse({
      FLOWE_SUBSCRIPTION_KEY_HEADERS: 'P0-APIKey',
      FLOWE_PSU_IP_HEADERS: 'PSU-IpAddress',
      FLOWE_PSU_IP_FORMAT: 'ipv4-or-ipv6',
      CONNECTPAY_PSU_IP_FALLBACK: '203.0.113.7',
      CONNECTPAY_SUBSCRIPTION_KEY: 'k',
    });
    const byId = Object.fromEntries(banks.map((b) => [b.id, b]));
    expect(byId.flowe).toMatchObject({ subscriptionKey: { headers: ['P0-APIKey'] }, psuIp: { headers: ['PSU-IpAddress'], format: 'ipv4-or-ipv6' } });
    expect(byId.connectpay).toMatchObject({
      subscriptionKey: { headers: ['Subscription-Key'], value: 'k' },
      psuIp: { format: 'ipv4', ipv6Fallback: '203.0.113.7' },
    });
    expect(configError(() => validateConfiguration({ FLOWE_PSU_IP_FORMAT: 'ipv5', CONNECTPAY_PSU_IP_FALLBACK: '::1' })).problems).toEqual([
      'CONNECTPAY_PSU_IP_FALLBACK must be an IPv4 address',
      'FLOWE_PSU_IP_FORMAT must be one of: ipv4, ipv4-or-ipv6',
    ]);
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT must be an integer between 1 and 65535'],
    [{ PORT: '70000' }, 'PORT must be an integer between 1 and 65535'],
    [{ PORT: '8080.5' }, 'PORT must be an integer between 1 and 65535'],
    [{ APP_MODE: 'demo' }, 'APP_MODE must be one of: sandbox, production'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL must be an absolute http(s) URL'],
    [{ FRONTEND_RETURN_URLS: 'https://ok.example/, javascript:alert(1)' }, 'FRONTEND_RETURN_URLS must be a comma-separated list of absolute http(s) URLs'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL must be a postgres:// URL'],
    [{ DATABASE_STARTUP_TIMEOUT_SECONDS: 'forever' }, 'DATABASE_STARTUP_TIMEOUT_SECONDS must be an integer between 0 and 3600'],
    [{ BODY_LIMIT: 'lots' }, 'BODY_LIMIT must be a size such as 100kb (b, kb or mb)'],
    [{ LOG_FORMAT: 'yaml' }, 'LOG_FORMAT must be one of: json, pretty'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace, silent'],
    [{ SCHEDULER_ENABLED: 'maybe' }, 'SCHEDULER_ENABLED must be true or false'],
    [{ SCHEDULER_BACKOFF_FACTOR: 'x2' }, 'SCHEDULER_BACKOFF_FACTOR must be a number between 1 and 10'],
    [{ FLOWE_TIMEOUT_MS: 'soon' }, 'FLOWE_TIMEOUT_MS must be an integer between 100 and 120000'],
    [{ CONNECTPAY_SERVICES: 'ais,loans' }, 'CONNECTPAY_SERVICES must list one or more of: ais, pis'],
    [{ FLOWE_CURRENCIES: 'EUR,euro' }, 'FLOWE_CURRENCIES must be ISO 4217 currency codes such as EUR'],
    [{ BANKS: 'flowe,Acme Bank' }, 'BANKS must be a comma-separated list of lower-case bank ids'],
    [{ DB_STATEMENT_TIMEOUT_MS: '50' }, 'DB_STATEMENT_TIMEOUT_MS must be an integer between 100 and 600000'],
    [{ DB_QUERY_TIMEOUT_MS: '1000', DB_STATEMENT_TIMEOUT_MS: '2000' }, 'DB_QUERY_TIMEOUT_MS must not be below DB_STATEMENT_TIMEOUT_MS'],
    [{ DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '0' }, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS must be an integer between 1000 and 3600000'],
    [{ DB_CONNECT_TIMEOUT_MS: 'soon' }, 'DB_CONNECT_TIMEOUT_MS must be an integer between 100 and 120000'],
    [{ DB_TCP_KEEPALIVE_SECONDS: '-1' }, 'DB_TCP_KEEPALIVE_SECONDS must be an integer between 0 and 7200'],
  ])('names the bad variable %p and says what is expected', (env, message) => {
    expect(configError(() => validateConfiguration(env)).problems).toEqual([message]);
  });

  it('says what TRUST_PROXY accepts instead of failing on the first request, and accepts what Express accepts', () => {
    expect(configError(() => validateConfiguration({ TRUST_PROXY: 'maybe' })).problems).toEqual([
      'TRUST_PROXY must be false, true, a hop count, or a comma-separated list of IP addresses, subnets (10.0.0.0/8) or loopback, linklocal, uniquelocal',
    ]);
    expect(configError(() => validateConfiguration({ TRUST_PROXY: 'loopback, 10.0.0.0/33' })).problems).toHaveLength(1);
    for (const [value, parsed] of [
      ['false', false],
      ['true', true],
      ['2', 2],
      ['loopback, 10.0.0.0/8, 192.168.1.7', 'loopback, 10.0.0.0/8, 192.168.1.7'],
    ] as const) {
      expect(appConfig.parse({ TRUST_PROXY: value }).trustProxy).toBe(parsed);
    }
  });

  it('lists every problem of every namespace in one error, each once, never a value', () => {
    const error = configError(() =>
      validateConfiguration({
        APP_MODE: 'demo',
        PORT: 'canary-port',
        FLOWE_TIMEOUT_MS: 'canary-soon',
        TOKEN_VAULT_KEYS: 'canary-not-a-key',
        SSE_HEARTBEAT_SECONDS: '0',
        AUTH_CLOCK_TOLERANCE_SECONDS: '-1',
      }),
    );
    // An invalid APP_MODE hides nothing else (the other namespaces are checked as in the default mode).
    expect(error.problems).toEqual([
      'APP_MODE must be one of: sandbox, production',
      'PORT must be an integer between 1 and 65535',
      'FLOWE_TIMEOUT_MS must be an integer between 100 and 120000',
      'TOKEN_VAULT_KEYS entry 1 must look like keyId:base64key',
      'AUTH_CLOCK_TOLERANCE_SECONDS must be an integer between 0 and 300',
      'SSE_HEARTBEAT_SECONDS must be an integer between 1 and 300',
    ]);
    expect(error.message).toBe(error.problems.join('\n'));
    expect(error.message).not.toContain('canary');
  });

  it('lists everything a production start with an empty environment lacks, in one run', () => {
    expect(configError(() => validateConfiguration({ APP_MODE: 'production' })).problems).toEqual([
      'FRONTEND_RETURN_URLS must list at least one URL in production mode',
      ...['CONNECTPAY', 'FLOWE'].flatMap((bank) => [
        ...['NAME', 'ADAPTER', 'SERVICES', 'AUTHORIZE_URL', 'TOKEN_URL', 'AIS_BASE_URL', 'PIS_BASE_URL', 'CLIENT_ID', 'SCOPES_AIS', 'SCOPES_PIS'].map(
          (v) => `${bank}_${v} is required`,
        ),
        `${bank}_CLIENT_SECRET or ${bank}_CLIENT_SECRET_FILE must be set`,
      ]),
      'TOKEN_VAULT_KEYS must be set in production mode',
      'AUTH_ISSUER must be set in production mode',
      'AUTH_AUDIENCE must be set in production mode',
      'AUTH_JWKS_URL or AUTH_PUBLIC_KEY (or AUTH_PUBLIC_KEY_FILE) must be set in production mode',
      'DATABASE_URL (or DATABASE_URL_FILE) is required in production mode (the embedded PostgreSQL is for development)',
    ]);
  });

  it('reports every bad vault key entry, numbered as written', () => {
    const good = `k1:${Buffer.alloc(32, 1).toString('base64')}`;
    expect(configError(() => validateConfiguration({ TOKEN_VAULT_KEYS: `bad,${good},k1:${Buffer.alloc(32, 2).toString('base64')},x:short` })).problems).toEqual(
      [
        'TOKEN_VAULT_KEYS entry 1 must look like keyId:base64key',
        'TOKEN_VAULT_KEYS entry 3 repeats the key id of entry 2',
        'TOKEN_VAULT_KEYS entry 4 must have a key of exactly 32 bytes (e.g. openssl rand -base64 32)',
      ],
    );
  });

  it('requires every bank variable in production mode and never prints a value', () => {
    const { FLOWE_TOKEN_URL: _omit, ...withoutTokenUrl } = PRODUCTION_BANK;
    expect(configError(() => validateConfiguration(withoutTokenUrl)).problems).toEqual(['FLOWE_TOKEN_URL is required']);
    const bad = configError(() => validateConfiguration({ ...PRODUCTION_BANK, FLOWE_AIS_BASE_URL: 'canary-client-secret-4711' }));
    expect(bad.message).toMatch(/^FLOWE_AIS_BASE_URL /);
    expect(bad.message).not.toContain('canary');
    expect(() => validateConfiguration(PRODUCTION_BANK)).not.toThrow();
  });

  it('is strict in production mode: https everywhere, Flowe with its certificate, key and subscription key, all in one run', () => {
    const {
      FLOWE_TLS_CERT_FILE: _c,
      FLOWE_TLS_KEY_FILE: _k,
      FLOWE_SUBSCRIPTION_KEY: _s,
      FLOWE_SUBSCRIPTION_KEY_HEADER: _h,
      ...withoutFloweCredentials
    } = PRODUCTION_BANK;
    expect(
      configError(() =>
        validateConfiguration({
          ...withoutFloweCredentials,
          PUBLIC_URL: 'http://bff.example',
          FRONTEND_RETURN_URLS: 'https://app.example/done,http://app.example/done',
          FLOWE_TOKEN_URL: 'http://idp.example/oauth2/v2.0/token',
          FLOWE_AIS_BASE_URL: 'http://api.example/openbankingais/v1',
          FLOWE_REDIRECT_URI: 'http://bff.example/auth/flowe/callback',
        }),
      ).problems,
    ).toEqual([
      'PUBLIC_URL must be an https URL in production mode (http only for localhost)',
      'FRONTEND_RETURN_URLS must list only https URLs in production mode (http only for localhost)',
      'FLOWE_TOKEN_URL must be an https URL in production mode',
      'FLOWE_AIS_BASE_URL must be an https URL in production mode',
      'FLOWE_REDIRECT_URI must be an https URL in production mode',
      "FLOWE_TLS_CERT_FILE must be set in production mode (Flowe requires mutual TLS with the TPP's eIDAS QWAC)",
      "FLOWE_TLS_KEY_FILE must be set in production mode (Flowe requires mutual TLS with the TPP's eIDAS QWAC)",
      "FLOWE_SUBSCRIPTION_KEY or FLOWE_SUBSCRIPTION_KEY_FILE must be set in production mode (Flowe's API gateway requires it)",
    ]);
    // A production-mode trial on one machine may use plain http on loopback for its own origin and frontend.
    expect(() =>
      validateConfiguration({ ...PRODUCTION_BANK, PUBLIC_URL: 'http://localhost:3001', FRONTEND_RETURN_URLS: 'http://127.0.0.1:8080/done' }),
    ).not.toThrow();
    // Sandbox mode keeps its http sandbox banks.
    expect(() => validateConfiguration({ FLOWE_TOKEN_URL: 'http://127.0.0.1:3100/flowe/idp/oauth2/v2.0/token' })).not.toThrow();
  });

  it('refuses a ConnectPay redirect URI with a query string or fragment, in any mode', () => {
    const connectpay = {
      ...PRODUCTION_BANK,
      BANKS: 'connectpay',
      ...Object.fromEntries(
        Object.entries(PRODUCTION_BANK)
          .filter(([k]) => k.startsWith('FLOWE_'))
          .map(([k, v]) => [k.replace(/^FLOWE_/, 'CONNECTPAY_'), v]),
      ),
      CONNECTPAY_ADAPTER: 'connectpay',
    };
    expect(() => validateConfiguration(connectpay)).not.toThrow();
    for (const redirect of ['https://bff.example/auth/connectpay/callback?x=1', 'https://bff.example/auth/connectpay/callback#top']) {
      expect(configError(() => validateConfiguration({ ...connectpay, CONNECTPAY_REDIRECT_URI: redirect })).problems).toEqual([
        'CONNECTPAY_REDIRECT_URI must not have a query string or fragment (ConnectPay refuses a callback URL with query parameters)',
      ]);
    }
    expect(configError(() => banksConfig.parse({ CONNECTPAY_REDIRECT_URI: 'http://localhost:3000/auth/connectpay/callback?a=b' })).problems).toHaveLength(1);
  });

  it('checks bank identities by default in production mode only, and either way when told', () => {
    expect(appConfig.parse({}).bankIdentityCheck).toBe(false);
    expect(appConfig.parse({ BANK_IDENTITY_CHECK: 'true' }).bankIdentityCheck).toBe(true);
    expect(appConfig.parse({ APP_MODE: 'production', FRONTEND_RETURN_URLS: 'https://app.example/done' }).bankIdentityCheck).toBe(true);
    expect(appConfig.parse({ APP_MODE: 'production', FRONTEND_RETURN_URLS: 'https://app.example/done', BANK_IDENTITY_CHECK: 'false' }).bankIdentityCheck).toBe(
      false,
    );
    expect(configError(() => appConfig.parse({ BANK_IDENTITY_CHECK: 'sometimes' })).problems).toEqual(['BANK_IDENTITY_CHECK must be true or false']);
  });

  it('refuses production mode without a frontend return URL', () => {
    expect(configError(() => appConfig.parse({ APP_MODE: 'production' })).message).toMatch(/^FRONTEND_RETURN_URLS /);
  });

  it('reads secrets from files and checks TLS material exists', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-config-'));
    writeFileSync(join(dir, 'secret'), 'from-file-secret\n');
    const { CLIENT_SECRET: _s, ...rest } = { ...PRODUCTION_BANK, CLIENT_SECRET: '' };
    const env = { ...rest, FLOWE_CLIENT_SECRET: '', FLOWE_CLIENT_SECRET_FILE: join(dir, 'secret') };
    expect(banksConfig.parse(env).banks[0].clientSecret).toBe('from-file-secret');
    expect(configError(() => banksConfig.parse({ ...env, FLOWE_CLIENT_SECRET_FILE: join(dir, 'missing') })).message).toMatch(/^FLOWE_CLIENT_SECRET_FILE /);
    expect(configError(() => banksConfig.parse({ ...env, FLOWE_TLS_CERT_FILE: join(dir, 'secret'), FLOWE_TLS_KEY_FILE: '' })).message).toMatch(
      /FLOWE_TLS_KEY_FILE/,
    );
    writeFileSync(join(dir, 'empty'), '\n');
    expect(
      configError(() =>
        banksConfig.parse({
          ...env,
          FLOWE_CLIENT_SECRET_FILE: join(dir, 'empty'),
          FLOWE_TLS_CERT_FILE: join(dir, 'nope'),
          FLOWE_TLS_KEY_FILE: join(dir, 'secret'),
        }),
      ).problems,
    ).toEqual(['FLOWE_CLIENT_SECRET_FILE points to an empty file', 'FLOWE_TLS_CERT_FILE points to a file that does not exist']);
  });

  it('uses DATABASE_URL when given and an embedded server on its own port otherwise', () => {
    expect(databaseConfig.parse({}).url).toBeUndefined();
    expect(databaseConfig.parse({}).embedded.port).not.toBe(5432);
    expect(databaseConfig.parse({ DATABASE_URL: 'postgres://u@h:5432/d' }).url).toBe('postgres://u@h:5432/d');
  });

  it('bounds every wait on the database, the client-side query timeout following the statement timeout unless set', () => {
    expect(databaseConfig.parse({}).limits).toEqual({
      statementTimeoutMs: 5000,
      queryTimeoutMs: 5500,
      idleInTransactionTimeoutMs: 15_000,
      connectTimeoutMs: 3000,
      keepAliveMs: 30_000,
    });
    expect(databaseConfig.parse({ DB_STATEMENT_TIMEOUT_MS: '2000' }).limits).toMatchObject({ statementTimeoutMs: 2000, queryTimeoutMs: 2500 });
    expect(databaseConfig.parse({ DB_STATEMENT_TIMEOUT_MS: '2000', DB_QUERY_TIMEOUT_MS: '2000', DB_TCP_KEEPALIVE_SECONDS: '0' }).limits).toMatchObject({
      queryTimeoutMs: 2000,
      keepAliveMs: 0,
    });
  });

  it('reads the database URL and the vault keys from mounted secret files, never printing them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tpp-config-'));
    const key = Buffer.alloc(32, 7).toString('base64');
    writeFileSync(join(dir, 'database_url'), 'postgres://tpp:canary-db-password@db:5432/tpp\n');
    writeFileSync(join(dir, 'vault_keys'), `k1:${key}\n`);
    writeFileSync(join(dir, 'bad_url'), 'mysql://tpp:canary-db-password@db/tpp\n');
    const files = { DATABASE_URL_FILE: join(dir, 'database_url'), TOKEN_VAULT_KEYS_FILE: join(dir, 'vault_keys') };
    expect(databaseConfig.parse(files).url).toBe('postgres://tpp:canary-db-password@db:5432/tpp');
    expect(vaultConfig.parse({ APP_MODE: 'production', ...files }).currentKeyId).toBe('k1');
    expect(() => validateConfiguration({ ...PRODUCTION_BANK, DATABASE_URL: '', TOKEN_VAULT_KEYS: '', ...files })).not.toThrow();

    const error = configError(() =>
      validateConfiguration({ DATABASE_URL: 'postgres://x@y/z', DATABASE_URL_FILE: join(dir, 'database_url'), TOKEN_VAULT_KEYS_FILE: join(dir, 'missing') }),
    );
    expect(error.problems).toEqual(['DATABASE_URL and DATABASE_URL_FILE must not both be set', 'TOKEN_VAULT_KEYS_FILE points to a file that does not exist']);
    const bad = configError(() => databaseConfig.parse({ DATABASE_URL_FILE: join(dir, 'bad_url') }));
    expect(bad.problems).toEqual(['DATABASE_URL_FILE must hold a postgres:// URL']);
    expect(bad.message + error.message).not.toContain('canary');
  });
});
