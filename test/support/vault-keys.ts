import { createCipheriv, randomBytes } from 'node:crypto';
import type { VaultKey } from '../../src/config/vault.config.js';

/** A fresh random vault key; `env` is its TOKEN_VAULT_KEYS entry. */
export function makeKey(id: string): VaultKey & { env: string } {
  const secret = randomBytes(32);
  return { id, secret, env: `${id}:${secret.toString('base64')}` };
}

export const CANARY_ACCESS = 'canary-access-token-9f3a61c0';
export const CANARY_REFRESH = 'canary-refresh-token-2b7e44d1';

/**
 * A token sealed as the previous release wrote it (envelope v1: associated data binding only the
 * connection row and the column), for tests that old rows still open and are rotated to v2.
 */
export function sealV1(key: VaultKey, plaintext: string, connectionId: string, field: 'access_token' | 'refresh_token'): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(`v1.${key.id}|tpp-bff/v1/connections/${connectionId}/${field}`, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', key.id, iv.toString('base64url'), ciphertext.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}
