import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { AppError } from '../../common/errors/app-error.js';
import type { ConfigOf } from '../../config/define-config.js';
import { fairnessConfig } from '../../config/fairness.config.js';
import type { AuthenticatedRequest } from '../identity/authenticated-user.js';
import { USER_RATE_LIMITER, type UserRateLimiter } from './user-rate-limiter.js';

/**
 * The per-user API rate limit, keyed by the authenticated user: it runs right after the user
 * guard (see `Authenticated()`), before any handler, store or bank is touched. Beyond the limit:
 * 429 `rate_limited` problem+json with Retry-After (seconds until the user's window ends).
 */
@Injectable()
export class UserRateLimitGuard implements CanActivate {
  constructor(
    @Inject(USER_RATE_LIMITER) private readonly limiter: UserRateLimiter,
    @Inject(fairnessConfig.KEY) private readonly config: ConfigOf<typeof fairnessConfig>,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { perUser, windowMs } = this.config.rateLimit;
    const user = context.switchToHttp().getRequest<AuthenticatedRequest>().user;
    if (perUser === 0 || !user) return true;
    const decision = await this.limiter.consume(user.id);
    if (decision.allowed) return true;
    void context.switchToHttp().getResponse<FastifyReply>().header('Retry-After', String(decision.retryAfterSeconds));
    throw new AppError(
      'rate_limited',
      `Too many requests: at most ${perUser} every ${Math.round(windowMs / 1000)} s per user; retry in ${decision.retryAfterSeconds} s`,
      {
        retryAfterSeconds: decision.retryAfterSeconds,
      },
    );
  }
}
