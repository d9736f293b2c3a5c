import { Module, type DynamicModule, type Provider, type Type } from '@nestjs/common';
import type { AppMode } from '../../config/app.config.js';
import { MeController } from './me.controller.js';
import { SandboxLoginController } from './sandbox-login.controller.js';
import { SandboxTokenIssuer } from './sandbox-token.issuer.js';
import { UserAuthGuard } from './user-auth.guard.js';
import { UserTokenVerifier } from './user-token.verifier.js';

export interface IdentityModuleOptions {
  mode: AppMode;
}

/**
 * Who the frontend's user is. Global, so any controller can carry `@Authenticated()` without
 * importing this module (the guard's verifier resolves from here). The demo login and its key
 * exist only in sandbox mode: in production mode neither the route nor the signer is registered.
 * Needs the `auth` config namespace (`authConfig`) loaded by ConfigModule.
 */
@Module({})
export class IdentityModule {
  static forRoot({ mode }: IdentityModuleOptions): DynamicModule {
    const sandbox = mode === 'sandbox';
    const controllers: Type[] = sandbox ? [MeController, SandboxLoginController] : [MeController];
    const providers: Provider[] = sandbox ? [UserTokenVerifier, UserAuthGuard, SandboxTokenIssuer] : [UserTokenVerifier, UserAuthGuard];
    return { module: IdentityModule, global: true, controllers, providers, exports: [UserTokenVerifier, UserAuthGuard] };
  }
}
