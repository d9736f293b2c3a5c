import { createHash, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { ConfigError } from '../../src/config/define-config.js';
import { DEVELOPMENT_KEY_ID, vaultConfig } from '../../src/config/vault.config.js';
import { makeKey } from '../support/vault-keys.js';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const K1 = makeKey('2025-06');
const K2 = makeKey('2024-12');
/** Key-shaped text that must never be echoed back in an error. */
const CANARY_KEY = Buffer.from('canary-vault-key-material-000000').toString('base64');

describe('vault configuration (TOKEN_VAULT_KEYS)', () => {
  it('refuses to start in production mode without keys', () => {
    expect(configError(() => vaultConfig.parse({ APP_MODE: 'production' })).message).toBe('TOKEN_VAULT_KEYS must be set in production mode');
    expect(configError(() => vaultConfig.parse({ APP_MODE: 'production', TOKEN_VAULT_KEYS: '  ' })).message).toMatch(/^TOKEN_VAULT_KEYS /);
  });

  it('falls back to a fixed, flagged development key in sandbox mode', () => {
    const config = vaultConfig.parse({});
    expect(config).toMatchObject({ currentKeyId: DEVELOPMENT_KEY_ID, isDevelopmentKey: true });
    expect(config.keys).toHaveLength(1);
    expect(config.keys[0].id).toBe('sandbox-dev');
    expect(config.keys[0].secret).toHaveLength(32);
    // Stable across restarts, so tokens stored by one `npm start` open in the next.
    expect(vaultConfig.parse({ APP_MODE: 'sandbox' }).keys[0].secret.equals(config.keys[0].secret)).toBe(true);
  });

  it('never accepts the public development key in production mode', () => {
    const dev = vaultConfig.parse({}).keys[0].secret.toString('base64');
    expect(configError(() => vaultConfig.parse({ APP_MODE: 'production', TOKEN_VAULT_KEYS: `prod:${dev}` })).message).toMatch(
      /^TOKEN_VAULT_KEYS .*development key/,
    );
    expect(configError(() => vaultConfig.parse({ APP_MODE: 'production', TOKEN_VAULT_KEYS: `sandbox-dev:${K1.secret.toString('base64')}` })).message).toMatch(
      /^TOKEN_VAULT_KEYS /,
    );
  });

  it('reads several keys: the first encrypts, all decrypt', () => {
    const config = vaultConfig.parse({ APP_MODE: 'production', TOKEN_VAULT_KEYS: ` ${K1.env} , ${K2.env}` });
    expect(config.currentKeyId).toBe('2025-06');
    expect(config.isDevelopmentKey).toBe(false);
    expect(config.keys.map((k) => k.id)).toEqual(['2025-06', '2024-12']);
    expect(config.keys[1].secret.equals(K2.secret)).toBe(true);
    const urlSafe = randomBytes(32);
    expect(vaultConfig.parse({ TOKEN_VAULT_KEYS: `u:${urlSafe.toString('base64url')}` }).keys[0].secret.equals(urlSafe)).toBe(true);
  });

  it('keeps key material out of logs and serialised config', () => {
    const config = vaultConfig.parse({ TOKEN_VAULT_KEYS: `${K1.env},${K2.env}` });
    for (const text of [JSON.stringify(config), inspect(config, { depth: 10 })]) {
      expect(text).toContain('2025-06');
      expect(text).not.toContain(K1.secret.toString('base64'));
      expect(text).not.toContain(K1.secret.toString('hex'));
      expect(text).not.toMatch(/<Buffer/);
    }
  });

  it.each([
    ['a short key', `k1:${randomBytes(16).toString('base64')}`, /exactly 32 bytes/],
    ['a long key', `k1:${randomBytes(33).toString('base64')}`, /exactly 32 bytes/],
    ['a key that is not base64', 'k1:canary-vault-key-material-not-base64!!', /base64/],
    ['a hex key', `k1:${createHash('sha256').update('x').digest('hex')}`, /exactly 32 bytes/],
    ['a missing key id', CANARY_KEY, /keyId:base64key/],
    ['an empty key id', `:${CANARY_KEY}`, /key id/],
    ['a key id that is too long', `${'k'.repeat(33)}:${CANARY_KEY}`, /key id/],
    ['a key id with a dot', `k.1:${CANARY_KEY}`, /key id/],
    ['an empty entry', `${K1.env},`, /entry 2 must look like keyId:base64key/],
    ['a duplicate key id', `${K1.env},${K1.id}:${K2.secret.toString('base64')}`, /entry 2 repeats the key id of entry 1/],
    ['a swapped pair', `${K1.secret.toString('base64')}:${K1.id}`, /key id/],
  ])('refuses %s, naming the variable but never the key', (_what, value, message) => {
    const error = configError(() => vaultConfig.parse({ APP_MODE: 'production', TOKEN_VAULT_KEYS: value }));
    expect(error.message).toMatch(/^TOKEN_VAULT_KEYS /);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('canary');
    for (const secret of [K1.secret.toString('base64'), K2.secret.toString('base64'), CANARY_KEY, value.split(':').at(-1)!]) {
      expect(error.message).not.toContain(secret);
    }
  });

  it('validates APP_MODE like the app namespace does', () => {
    expect(configError(() => vaultConfig.parse({ APP_MODE: 'demo' })).message).toMatch(/^APP_MODE /);
  });
});
