import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';

/** What the guard learns for one request of a user. */
export interface RateDecision {
  allowed: boolean;
  /** Seconds until the user's window ends (when refused: the Retry-After). */
  retryAfterSeconds: number;
}

/** Counts a user's API requests; `consume` never throws for a refusal. */
export interface UserRateLimiter {
  consume(userId: string): Promise<RateDecision>;
}

export const USER_RATE_LIMITER = Symbol('USER_RATE_LIMITER');

/** One replica: rate-limiter-flexible's in-memory fixed window. */
export class MemoryUserRateLimiter implements UserRateLimiter {
  private readonly limiter: RateLimiterMemory;

  constructor(points: number, windowMs: number) {
    this.limiter = new RateLimiterMemory({ keyPrefix: 'api-user', points, duration: Math.max(1, Math.round(windowMs / 1000)) });
  }

  async consume(userId: string): Promise<RateDecision> {
    try {
      const res = await this.limiter.consume(userId, 1);
      return { allowed: true, retryAfterSeconds: Math.ceil(res.msBeforeNext / 1000) };
    } catch (refusal) {
      if (!(refusal instanceof RateLimiterRes)) throw refusal;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(refusal.msBeforeNext / 1000)) };
    }
  }
}
