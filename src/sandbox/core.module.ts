import { Global, Module, type DynamicModule } from '@nestjs/common';
import { SandboxClock } from './clock/sandbox-clock.js';
import { SANDBOX_CONFIG, type SandboxConfig } from './config.js';
import { SandboxDirectory } from './data/sandbox-directory.js';
import { ConfigFaultsService } from './faults/config-faults.service.js';
import { FaultsService } from './faults/faults.service.js';
import { QuirksService } from './faults/quirks.service.js';
import { RequestLogService } from './gateway/request-log.service.js';
import { StatusPollLimiter } from './gateway/status-poll-limiter.js';
import { BankModesService } from './modes/bank-modes.service.js';
import { OAuthStore } from './oauth/oauth-store.js';
import { TokenService } from './oauth/token.service.js';

const SHARED = [
  SandboxClock,
  SandboxDirectory,
  BankModesService,
  FaultsService,
  ConfigFaultsService,
  QuirksService,
  RequestLogService,
  StatusPollLimiter,
  OAuthStore,
  TokenService,
];

/** Config, modes, clock, demo data, OAuth state and the test knobs every other module uses. */
@Global()
@Module({})
export class SandboxCoreModule {
  static register(config: SandboxConfig): DynamicModule {
    return {
      module: SandboxCoreModule,
      providers: [{ provide: SANDBOX_CONFIG, useValue: config }, ...SHARED],
      exports: [SANDBOX_CONFIG, ...SHARED],
    };
  }
}
