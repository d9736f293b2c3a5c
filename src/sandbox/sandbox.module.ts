import { Module, type DynamicModule } from '@nestjs/common';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { AdminModule } from './admin/admin.module.js';
import { BerlinGroupModule } from './berlin-group/berlin-group.module.js';
import type { SandboxConfig } from './config.js';
import { SandboxCoreModule } from './core.module.js';
import { GatewayGuard } from './gateway/gateway.guard.js';
import { SandboxExceptionFilter } from './gateway/sandbox-exception.filter.js';
import { OAuthModule } from './oauth/oauth.module.js';
import { PsuModule } from './psu/psu.module.js';

/** Root of the simulator: never imported by the BFF. */
@Module({})
export class SandboxModule {
  static register(config: SandboxConfig): DynamicModule {
    return {
      module: SandboxModule,
      imports: [SandboxCoreModule.register(config), OAuthModule, BerlinGroupModule, PsuModule, AdminModule],
      providers: [
        { provide: APP_GUARD, useClass: GatewayGuard },
        { provide: APP_FILTER, useClass: SandboxExceptionFilter },
      ],
    };
  }
}
