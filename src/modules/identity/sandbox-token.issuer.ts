import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type CryptoKey, type JWK } from 'jose';
import { authConfig, SANDBOX_TOKEN_ALGORITHM } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { SigningKeyStore } from './signing-key.store.js';

/** The name the demo key is stored under. */
const KEY_NAME = 'sandbox-demo-login';

export const SANDBOX_TOKEN_TTL_SECONDS = 3600;

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  /** Seconds until the token expires. */
  expiresIn: number;
}

/**
 * The demo login of sandbox mode (docs/design.md, "The frontend contract"): signs `{sub: userId}`
 * with a key pair kept in the database, so every replica verifies every other's tokens and a
 * restart signs nobody out. The first process to start makes the key. It is stored as it is: it
 * can only mint demo tokens, which the demo login hands to anyone for any user id anyway, and
 * production mode (no demo login, see IdentityModule) never makes, reads or accepts it.
 */
@Injectable()
export class SandboxTokenIssuer implements OnModuleInit {
  private keys?: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };

  constructor(
    @Inject(authConfig.KEY) private readonly config: ConfigOf<typeof authConfig>,
    private readonly store: SigningKeyStore,
  ) {}

  async onModuleInit(): Promise<void> {
    // With an identity provider configured the demo login is off: no key to make or share.
    if (this.config.keySource.kind !== 'sandbox') return;
    const candidate = await generateKeyPair(SANDBOX_TOKEN_ALGORITHM, { extractable: true });
    const stored = await this.store.loadOrCreate(KEY_NAME, await exportJWK(candidate.privateKey));
    const { d: _private, ...publicJwk } = stored;
    this.keys = {
      privateKey: (await importJWK(stored, SANDBOX_TOKEN_ALGORITHM)) as CryptoKey,
      publicKey: (await importJWK(publicJwk as JWK, SANDBOX_TOKEN_ALGORITHM)) as CryptoKey,
      kid: await calculateJwkThumbprint(publicJwk as JWK),
    };
  }

  /** The key UserTokenVerifier checks demo tokens with when no other key source is configured. */
  get publicKey(): CryptoKey {
    return this.ready().publicKey;
  }

  async issue(userId: string): Promise<IssuedToken> {
    const { privateKey, kid } = this.ready();
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: SANDBOX_TOKEN_ALGORITHM, typ: 'JWT', kid })
      .setSubject(userId)
      .setIssuer(this.config.issuer)
      .setAudience(this.config.audience)
      .setIssuedAt()
      .setExpirationTime(`${SANDBOX_TOKEN_TTL_SECONDS}s`)
      .sign(privateKey);
    return { token, tokenType: 'Bearer', expiresIn: SANDBOX_TOKEN_TTL_SECONDS };
  }

  private ready(): NonNullable<SandboxTokenIssuer['keys']> {
    if (!this.keys) throw new Error('SandboxTokenIssuer used before module init');
    return this.keys;
  }
}
