import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { appConfig, banksConfig, databaseConfig, validateConfiguration } from '../../src/config/index.js';
import { ConfigError } from '../../src/config/define-config.js';
import { PRODUCTION_ENV } from '../support/env.js';

const PRODUCTION_BANK = { ...PRODUCTION_ENV, AUTH_JWKS_URL: 'https://login.tpp.example/.well-known/jwks.json' };

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
      subscriptionKey: { header: 'PO-APIKey', value: 'flowe-sandbox-subscription-key' },
      chargeBearer: 'DEBT',
      currencies: ['EUR'],
    });
  });

  it.each([
    [{ PORT: 'abc' }, /^PORT /],
    [{ PORT: '70000' }, /^PORT /],
    [{ APP_MODE: 'demo' }, /^APP_MODE /],
    [{ PUBLIC_URL: 'not a url' }, /^PUBLIC_URL /],
    [{ FRONTEND_RETURN_URLS: 'https://ok.example/, javascript:alert(1)' }, /^FRONTEND_RETURN_URLS /],
    [{ DATABASE_URL: 'mysql://x' }, /^DATABASE_URL /],
    [{ BODY_LIMIT: 'lots' }, /^BODY_LIMIT /],
    [{ FLOWE_TIMEOUT_MS: 'soon' }, /^FLOWE_TIMEOUT_MS /],
    [{ CONNECTPAY_SERVICES: 'ais,loans' }, /^CONNECTPAY_SERVICES\b/],
  ])('names the bad variable %p', (env, message) => {
    expect(configError(() => validateConfiguration(env)).message).toMatch(message);
  });

  it('requires every bank variable in production mode and never prints a value', () => {
    const { FLOWE_TOKEN_URL: _omit, ...withoutTokenUrl } = PRODUCTION_BANK;
    expect(configError(() => validateConfiguration(withoutTokenUrl)).message).toMatch(/^FLOWE_TOKEN_URL /);
    const bad = configError(() => validateConfiguration({ ...PRODUCTION_BANK, FLOWE_AIS_BASE_URL: 'canary-client-secret-4711' }));
    expect(bad.message).toMatch(/^FLOWE_AIS_BASE_URL /);
    expect(bad.message).not.toContain('canary');
    expect(() => validateConfiguration(PRODUCTION_BANK)).not.toThrow();
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
    expect(configError(() => banksConfig.parse({ ...env, FLOWE_TLS_CERT_FILE: join(dir, 'secret') })).message).toMatch(/FLOWE_TLS_KEY_FILE/);
  });

  it('uses DATABASE_URL when given and an embedded server on its own port otherwise', () => {
    expect(databaseConfig.parse({}).url).toBeUndefined();
    expect(databaseConfig.parse({}).embedded.port).not.toBe(5432);
    expect(databaseConfig.parse({ DATABASE_URL: 'postgres://u@h:5432/d' }).url).toBe('postgres://u@h:5432/d');
  });
});
