import { Module } from '@nestjs/common';
import { appConfig } from '../../config/app.config.js';
import { authConfig } from '../../config/auth.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { FairnessModule } from '../fairness/fairness.module.js';
import { MeController } from './me.controller.js';
import { SandboxTokenIssuer } from './sandbox-token.issuer.js';
import { SigningKeyStore } from './signing-key.store.js';
import { UserAuthGuard } from './user-auth.guard.js';
import { UserTokenVerifier } from './user-token.verifier.js';

/**
 * Who the frontend's user is. Every module whose controllers carry `@Authenticated()` imports
 * this one (the guard resolves its verifier from the importing module). The demo signer exists
 * only in sandbox mode: in production mode its provider is `undefined`, so no key pair is made or
 * read (`identity_signing_keys`, owned by `SigningKeyStore`) and nothing can mint a user token; the demo login route lives in `SandboxLoginModule`, which
 * AppModule imports in sandbox mode only. Needs the `app` and `auth` config namespaces. It
 * re-exports `FairnessModule`: `@Authenticated()` applies the per-user rate limit after the user guard.
 */
@Module({
  imports: [FairnessModule],
  controllers: [MeController],
  providers: [
    UserTokenVerifier,
    UserAuthGuard,
    SigningKeyStore,
    {
      provide: SandboxTokenIssuer,
      inject: [appConfig.KEY, authConfig.KEY, SigningKeyStore],
      useFactory: (app: ConfigOf<typeof appConfig>, auth: ConfigOf<typeof authConfig>, keys: SigningKeyStore) =>
        app.mode === 'sandbox' ? new SandboxTokenIssuer(auth, keys) : undefined,
    },
  ],
  exports: [UserTokenVerifier, UserAuthGuard, SandboxTokenIssuer, FairnessModule],
})
export class IdentityModule {}
