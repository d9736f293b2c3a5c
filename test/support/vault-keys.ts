import { randomBytes } from 'node:crypto';
import type { VaultKey } from '../../src/config/vault.config.js';

/** A fresh random vault key; `env` is its TOKEN_VAULT_KEYS entry. */
export function makeKey(id: string): VaultKey & { env: string } {
  const secret = randomBytes(32);
  return { id, secret, env: `${id}:${secret.toString('base64')}` };
}

export const CANARY_ACCESS = 'canary-access-token-9f3a61c0';
export const CANARY_REFRESH = 'canary-refresh-token-2b7e44d1';
