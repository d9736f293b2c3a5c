import { Module } from '@nestjs/common';
import { IdentityModule } from './identity.module.js';
import { SandboxLoginController } from './sandbox-login.controller.js';

/** The demo login route. AppModule imports this module in sandbox mode only, so production has no such route. */
@Module({ imports: [IdentityModule], controllers: [SandboxLoginController] })
export class SandboxLoginModule {}
