import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { authConfig, SANDBOX_TOKEN_ALGORITHM } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';

export const SANDBOX_TOKEN_TTL_SECONDS = 3600;

export interface IssuedToken {
  token: string;
  tokenType: 'Bearer';
  /** Seconds until the token expires. */
  expiresIn: number;
}

/**
 * The demo login of sandbox mode (docs/design.md, "The frontend contract"): signs `{sub: userId}` with a key pair made
 * at boot, so a restart logs every demo user out and no private key ever sits on disk. Registered
 * only in sandbox mode (see IdentityModule): production has no way to mint a user token.
 */
@Injectable()
export class SandboxTokenIssuer implements OnModuleInit {
  private keys?: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };

  constructor(@Inject(authConfig.KEY) private readonly config: ConfigOf<typeof authConfig>) {}

  async onModuleInit(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair(SANDBOX_TOKEN_ALGORITHM);
    this.keys = { privateKey, publicKey, kid: await calculateJwkThumbprint(await exportJWK(publicKey)) };
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
