import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { Integer, OneOf } from './rules.js';

export const RATE_LIMIT_STORES = ['memory', 'postgres'] as const;
export type RateLimitStore = (typeof RATE_LIMIT_STORES)[number];

class FairnessEnv {
  /**
   * The total time a user's request may spend on bank work — waiting for its share of bank calls,
   * the calls, token refreshes, retries — after which it is answered (504/503/429) whatever is left.
   */
  @Integer(500, 120_000) API_BANK_DEADLINE_MS = 10_000;
  /** Bank calls one user may have running at once on this replica (more wait, up to the deadline). */
  @Integer(1, 1000) BANK_CALLS_PER_USER = 4;
  /** Bank calls one connection may have running at once on this replica. */
  @Integer(1, 1000) BANK_CALLS_PER_CONNECTION = 2;
  /** API requests one user may make per window (429 with Retry-After beyond); 0 = no limit. */
  @Integer(0, 1_000_000) RATE_LIMIT_PER_USER = 300;
  @Integer(1, 3600) RATE_LIMIT_WINDOW_SECONDS = 60;
  /** `memory`: one replica; `postgres`: counts shared by every replica (batched, see docs/design.md "Fairness"). */
  @OneOf(RATE_LIMIT_STORES) RATE_LIMIT_STORE: RateLimitStore = 'memory';
  /** `postgres` store: how often a replica adds its counts to the shared ones and reads theirs back. */
  @Integer(20, 600_000) RATE_LIMIT_SYNC_MS = 200;
}

const NAMES = Object.keys(new FairnessEnv());

export interface FairnessConfig {
  apiBankDeadlineMs: number;
  bankCallsPerUser: number;
  bankCallsPerConnection: number;
  rateLimit: { perUser: number; windowMs: number; store: RateLimitStore; syncMs: number };
}

/** How the BFF shares the banks between users: deadlines, concurrent bank calls, per-user API limits. */
export const fairnessConfig = defineConfig('fairness', (env, problems): FairnessConfig => {
  const raw = validateEnv(FairnessEnv, pickEnv(env, NAMES), problems);
  problems.throwIfAny();
  return {
    apiBankDeadlineMs: raw.API_BANK_DEADLINE_MS,
    bankCallsPerUser: raw.BANK_CALLS_PER_USER,
    bankCallsPerConnection: raw.BANK_CALLS_PER_CONNECTION,
    rateLimit: {
      perUser: raw.RATE_LIMIT_PER_USER,
      windowMs: raw.RATE_LIMIT_WINDOW_SECONDS * 1000,
      store: raw.RATE_LIMIT_STORE,
      syncMs: raw.RATE_LIMIT_SYNC_MS,
    },
  };
});
