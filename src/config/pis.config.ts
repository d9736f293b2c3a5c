import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { Integer } from './rules.js';

class PisEnv {
  /**
   * How long a repeated payment request waits for the first one with the same Idempotency-Key to
   * finish before it is answered 409 + Retry-After. Waiting lets a retrying frontend get the same
   * answer as the first request instead of an error.
   */
  @Integer(0, 60_000)
  PIS_IDEMPOTENCY_WAIT_MS = 5_000;
}

export interface PisConfig {
  idempotencyWaitMs: number;
}

export const pisConfig = defineConfig('pis', (env, problems): PisConfig => {
  const raw = validateEnv(PisEnv, pickEnv(env, Object.keys(new PisEnv())), problems);
  problems.throwIfAny();
  return { idempotencyWaitMs: raw.PIS_IDEMPOTENCY_WAIT_MS };
});
