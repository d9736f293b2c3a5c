import { createHash } from 'node:crypto';
import { IsOptional, IsString } from 'class-validator';
import { APP_MODES, type AppMode } from './app.config.js';
import { ConfigProblems, defineConfig, pickEnv, validateEnv } from './define-config.js';
import { valueOrFile } from './files.js';
import { OneOf } from './rules.js';

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
  @OneOf(APP_MODES)
  APP_MODE: AppMode = 'sandbox';

  @IsOptional()
  @IsString()
  TOKEN_VAULT_KEYS?: string;

  /** The same list from a mounted secret file. */
  @IsOptional()
  @IsString()
  TOKEN_VAULT_KEYS_FILE?: string;
}

/**
 * `TOKEN_VAULT_KEYS=2025-06:<base64 32 bytes>,2024-12:<base64 32 bytes>` (e.g. `openssl rand -base64 32`).
 * Rotation: put the new key first and keep the old ones, deploy, run `npm run vault:rotate`, then
 * drop the old keys. Errors name the variable and the entry's position, never an id or key text
 * (a swapped `key:id` pair would otherwise print the key).
 */
export const vaultConfig = defineConfig('vault', (env, problems): VaultConfig => {
  const raw = validateEnv(VaultEnv, pickEnv(env, ['APP_MODE', 'TOKEN_VAULT_KEYS', 'TOKEN_VAULT_KEYS_FILE']), problems);
  const before = problems.list.length;
  const value = valueOrFile(raw.TOKEN_VAULT_KEYS, raw.TOKEN_VAULT_KEYS_FILE, 'TOKEN_VAULT_KEYS', problems);
  if (problems.list.length > before) problems.throwIfAny();
  if (value === undefined) {
    if (raw.APP_MODE === 'production') problems.add('TOKEN_VAULT_KEYS must be set in production mode', 'TOKEN_VAULT_KEYS');
    problems.throwIfAny();
    const dev = vaultKey(DEVELOPMENT_KEY_ID, developmentSecret());
    return { keys: [dev], currentKeyId: dev.id, isDevelopmentKey: true };
  }
  const keys = parseKeys(value, problems);
  if (raw.APP_MODE === 'production' && keys.some((k) => k.id === DEVELOPMENT_KEY_ID || k.secret.equals(developmentSecret()))) {
    problems.add('TOKEN_VAULT_KEYS must not contain the public sandbox development key in production mode', 'TOKEN_VAULT_KEYS');
  }
  problems.throwIfAny();
  return { keys, currentKeyId: keys[0].id, isDevelopmentKey: false };
});

/** Every bad entry is one problem; the valid ones are returned. */
function parseKeys(value: string, problems: ConfigProblems): VaultKey[] {
  const keys: VaultKey[] = [];
  /** Key id → the entry number it first appeared in. */
  const seen = new Map<string, number>();
  value.split(',').forEach((raw, index) => {
    const entry = raw.trim();
    const problem = entryProblem(entry, seen);
    if (problem) return problems.add(`TOKEN_VAULT_KEYS entry ${index + 1} ${problem}`, 'TOKEN_VAULT_KEYS');
    const colon = entry.indexOf(':');
    const id = entry.slice(0, colon);
    seen.set(id, index + 1);
    keys.push(vaultKey(id, Buffer.from(entry.slice(colon + 1), 'base64')));
  });
  return keys;
}

function entryProblem(entry: string, seen: ReadonlyMap<string, number>): string | undefined {
  const colon = entry.indexOf(':');
  if (colon < 0) return 'must look like keyId:base64key';
  const id = entry.slice(0, colon);
  const encoded = entry.slice(colon + 1);
  if (!KEY_ID.test(id)) return 'must have a key id of 1-32 characters from A-Z a-z 0-9 _ -';
  if (!BASE64.test(encoded)) return 'must have a base64-encoded key';
  if (Buffer.from(encoded, 'base64').length !== KEY_BYTES) return `must have a key of exactly ${KEY_BYTES} bytes (e.g. openssl rand -base64 32)`;
  const first = seen.get(id);
  return first === undefined ? undefined : `repeats the key id of entry ${first}`;
}

function vaultKey(id: string, secret: Buffer): VaultKey {
  const key = { id } as { id: string; secret: Buffer };
  Object.defineProperty(key, 'secret', { value: secret, enumerable: false });
  return Object.freeze(key);
}

function developmentSecret(): Buffer {
  return createHash('sha256').update(DEVELOPMENT_KEY_SEED).digest();
}
