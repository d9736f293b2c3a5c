import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { vaultConfig, type VaultConfig } from '../../config/vault.config.js';
import { TokenCipher, type VaultBinding } from './token-cipher.js';

/**
 * The only way tokens go into or come out of the database. Seal before writing a token column,
 * open after reading it, always with the row and column it belongs to (see {@link TokenCipher}).
 * `open` throws {@link VaultError} when a stored token is unusable; treat that like a revoked grant.
 */
@Injectable()
export class TokenVaultService implements OnModuleInit {
  private readonly cipher: TokenCipher;

  constructor(@Inject(vaultConfig.KEY) private readonly config: VaultConfig) {
    this.cipher = new TokenCipher(config.keys);
  }

  onModuleInit(): void {
    if (this.config.isDevelopmentKey) {
      new Logger('TokenVault').warn('TOKEN_VAULT_KEYS is unset: tokens are encrypted with the public sandbox development key');
    }
  }

  /** The key new ciphertexts are written under (the first of TOKEN_VAULT_KEYS). */
  get currentKeyId(): string {
    return this.cipher.currentKeyId;
  }

  seal(plaintext: string, binding: VaultBinding): string {
    return this.cipher.encrypt(plaintext, binding);
  }

  open(envelope: string, binding: VaultBinding): string {
    return this.cipher.decrypt(envelope, binding);
  }

  /** Throws VaultError('malformed') if `envelope` is not a vault envelope. */
  keyIdOf(envelope: string): string {
    return this.cipher.keyIdOf(envelope);
  }

  /** True when `envelope` is under an older key and `vault:rotate` should rewrite it. */
  needsRotation(envelope: string): boolean {
    return this.cipher.needsRotation(envelope);
  }
}

export { TOKEN_FIELDS, type TokenField, type VaultBinding } from './token-cipher.js';
export { VaultError, type VaultErrorKind } from './vault-error.js';
