import { createHash } from 'node:crypto';
import { IsIn, IsOptional, IsString } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { ConfigError, defineConfig, pickEnv, validateEnv } from './define-config.js';

/** A token-vault key. `secret` is non-enumerable, so logging or serialising the config never prints it. */
export interface VaultKey {
  readonly id: string;
  readonly secret: Buffer;
}

export interface VaultConfig {
  /** Every key that may decrypt; the first one encrypts. */
  readonly keys: readonly VaultKey[];
  readonly currentKeyId: string;
  /** True when running on the built-in sandbox key: the app should warn loudly. */
  readonly isDevelopmentKey: boolean;
}

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;
const KEY_BYTES = 32;

/**
 * The key `npm start` uses on a fresh machine when TOKEN_VAULT_KEYS is unset in sandbox mode. It is
 * public (derived from this constant), so it protects nothing: it is refused in production mode.
 */
export const DEVELOPMENT_KEY_ID = 'sandbox-dev';
const DEVELOPMENT_KEY_SEED = 'tpp-bff sandbox development token-vault key: NOT SECRET, never use in production';

class VaultEnv {
  @IsIn(APP_MODES)
  APP_MODE: AppMode = 'sandbox';

  @IsOptional()
  @IsString()
  TOKEN_VAULT_KEYS?: string;
}

/**
 * `TOKEN_VAULT_KEYS=2025-06:<base64 32 bytes>,2024-12:<base64 32 bytes>` (e.g. `openssl rand -base64 32`).
 * Rotation: put the new key first and keep the old ones, deploy, run `npm run vault:rotate`, then
 * drop the old keys. Errors name the variable and the entry's position, never an id or key text
 * (a swapped `key:id` pair would otherwise print the key).
 */
export const vaultConfig = defineConfig('vault', (env): VaultConfig => {
  const raw = validateEnv(VaultEnv, pickEnv(env, ['APP_MODE', 'TOKEN_VAULT_KEYS']));
  if (raw.TOKEN_VAULT_KEYS === undefined) {
    if (raw.APP_MODE === 'production') throw new ConfigError('TOKEN_VAULT_KEYS must be set in production mode');
    const dev = vaultKey(DEVELOPMENT_KEY_ID, developmentSecret());
    return { keys: [dev], currentKeyId: dev.id, isDevelopmentKey: true };
  }
  const keys = parseKeys(raw.TOKEN_VAULT_KEYS);
  if (raw.APP_MODE === 'production' && keys.some((k) => k.id === DEVELOPMENT_KEY_ID || k.secret.equals(developmentSecret()))) {
    throw new ConfigError('TOKEN_VAULT_KEYS must not contain the public sandbox development key in production mode');
  }
  return { keys, currentKeyId: keys[0].id, isDevelopmentKey: false };
});

function parseKeys(value: string): VaultKey[] {
  const keys: VaultKey[] = [];
  const entries = value.split(',').map((entry) => entry.trim());
  entries.forEach((entry, index) => {
    const where = `TOKEN_VAULT_KEYS entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new ConfigError(`${where} must look like keyId:base64key`);
    const id = entry.slice(0, colon);
    const encoded = entry.slice(colon + 1);
    if (!KEY_ID.test(id)) throw new ConfigError(`${where} must have a key id of 1-32 characters from A-Z a-z 0-9 _ -`);
    if (!BASE64.test(encoded)) throw new ConfigError(`${where} must have a base64-encoded key`);
    const secret = Buffer.from(encoded, 'base64');
    if (secret.length !== KEY_BYTES) throw new ConfigError(`${where} must have a key of exactly ${KEY_BYTES} bytes (e.g. openssl rand -base64 32)`);
    const first = keys.findIndex((k) => k.id === id);
    if (first >= 0) throw new ConfigError(`${where} repeats the key id of entry ${first + 1}`);
    keys.push(vaultKey(id, secret));
  });
  return keys;
}

function vaultKey(id: string, secret: Buffer): VaultKey {
  const key = { id } as { id: string; secret: Buffer };
  Object.defineProperty(key, 'secret', { value: secret, enumerable: false });
  return Object.freeze(key);
}

function developmentSecret(): Buffer {
  return createHash('sha256').update(DEVELOPMENT_KEY_SEED).digest();
}
