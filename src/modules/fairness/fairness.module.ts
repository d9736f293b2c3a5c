import { Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import type { ConfigOf } from '../../config/define-config.js';
import { fairnessConfig } from '../../config/fairness.config.js';
import { BankDeadlineInterceptor } from './bank-deadline.interceptor.js';
import { RateLimitStore } from './rate-limit.store.js';
import { SharedUserRateLimiter } from './shared-rate-limiter.js';
import { UserRateLimitGuard } from './user-rate-limit.guard.js';
import { MemoryUserRateLimiter, USER_RATE_LIMITER } from './user-rate-limiter.js';

/**
 * How the service is shared between users: one deadline per API request for its bank work
 * (`BankDeadlineInterceptor`), and the per-user API rate limit (`UserRateLimitGuard`, applied by
 * `Authenticated()` after the user guard), counted in memory on one replica (rate-limiter-flexible)
 * or shared through PostgreSQL (`RATE_LIMIT_STORE=postgres`; `api_rate_limits`, owned by
 * `RateLimitStore`). `IdentityModule` re-exports it, so every module whose controllers carry
 * `@Authenticated()` finds the limiter for the guard it applies. Per-user and
 * per-connection bank call slots are the connections module's `BankCallGate`.
 */
@Module({
  providers: [
    RateLimitStore,
    SharedUserRateLimiter,
    UserRateLimitGuard,
    {
      provide: USER_RATE_LIMITER,
      inject: [fairnessConfig.KEY, SharedUserRateLimiter],
      useFactory: (config: ConfigOf<typeof fairnessConfig>, shared: SharedUserRateLimiter) =>
        config.rateLimit.store === 'postgres' ? shared : new MemoryUserRateLimiter(Math.max(1, config.rateLimit.perUser), config.rateLimit.windowMs),
    },
    { provide: APP_INTERCEPTOR, useClass: BankDeadlineInterceptor },
  ],
  exports: [USER_RATE_LIMITER, UserRateLimitGuard],
})
export class FairnessModule {}
