import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import { LoggingModule } from './common/logging/logger.module.js';
import { MetricsModule } from './common/metrics/metrics.module.js';
import { MetricsService } from './common/metrics/metrics.service.js';
import { CONFIG_NAMESPACES, databaseConfig, type Env } from './config/index.js';
import type { ConfigOf } from './config/define-config.js';
import { QueryCountingLogger } from './database/query-counting.logger.js';
import { typeormOptions } from './database/typeorm-options.js';
import { HealthModule } from './health/health.module.js';
import { appConfig } from './config/app.config.js';
import { AisModule } from './modules/ais/ais.module.js';
import { PisModule } from './modules/pis/pis.module.js';
import { BankLoginModule } from './modules/bank-login/bank-login.module.js';
import { EventsModule } from './modules/events/events.module.js';
import { SchedulerModule } from './modules/scheduler/scheduler.module.js';
import { IdentityModule, SandboxLoginModule } from './modules/identity/index.js';
import { FairnessModule } from './modules/fairness/fairness.module.js';
import { DemoModule } from './modules/demo/demo.module.js';
import { OpsModule } from './ops/ops.module.js';

export interface AppModuleOptions {
  /** The environment the configuration is read from (process.env in production, a map in tests). */
  env: Env;
  /** Resolved connection string: DATABASE_URL, or the embedded server's. */
  databaseUrl: string;
}

@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: CONFIG_NAMESPACES.map((n) => n.load(options.env)) }),
        LoggingModule,
        MetricsModule,
        TypeOrmModule.forRootAsync({
          inject: [databaseConfig.KEY, MetricsService],
          useFactory: (db: ConfigOf<typeof databaseConfig>, metrics: MetricsService) => ({
            ...typeormOptions(options.databaseUrl, db.poolMax, [], db.limits),
            autoLoadEntities: true,
            migrationsRun: false,
            logger: new QueryCountingLogger(() => metrics.dbQueries.inc()),
          }),
        }),
        // Timers of the poll worker, the webhook dispatcher and housekeeping (a global registry).
        ScheduleModule.forRoot(),
        HealthModule,
        // Request deadlines for bank work and per-user API limits (before identity's guards use them).
        FairnessModule,
        OpsModule,
        IdentityModule,
        BankLoginModule,
        AisModule,
        PisModule,
        EventsModule,
        SchedulerModule,
        // The demo login and the demo page exist only in sandbox mode.
        ...(appConfig.parse(options.env).mode === 'sandbox' ? [SandboxLoginModule, DemoModule] : []),
      ],
    };
  }
}
