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

  /**
   * How long after the bank accepted a payment (ACSP, or ACSC straight away) it is still watched:
   * ACSC depends on cut-off times and clearing can still return a pac.002 RJCT after ACSC (Flowe
   * guide 4.2), so neither ACSP nor ACSC is the end. When the window closes the payment says so.
   */
  @Integer(60, 90 * 86_400)
  PIS_SETTLEMENT_WINDOW_SECONDS = 5 * 86_400;

  /** How often a settled (ACSC, ACCC) payment is asked about during the window. */
  @Integer(1, 86_400)
  PIS_SETTLED_POLL_SECONDS = 3600;

  /**
   * A payment whose initiation outcome is unknown is looked for on the debtor account's statement
   * (by its end-to-end id) this long after it was made: a statement read after this that does not
   * show it means the bank does not have it (the PSU can no longer approve it).
   */
  @Integer(10, 30 * 86_400)
  PIS_RECONCILE_WINDOW_SECONDS = 3 * 86_400;

  /** How often the stored statement is looked at meanwhile (a database read: no bank call). */
  @Integer(1, 86_400)
  PIS_RECONCILE_POLL_SECONDS = 900;
}

export interface PisConfig {
  idempotencyWaitMs: number;
  settlementWindowMs: number;
  settledPollMs: number;
  reconcileWindowMs: number;
  reconcilePollMs: number;
}

export const pisConfig = defineConfig('pis', (env, problems): PisConfig => {
  const raw = validateEnv(PisEnv, pickEnv(env, Object.keys(new PisEnv())), problems);
  problems.throwIfAny();
  return {
    idempotencyWaitMs: raw.PIS_IDEMPOTENCY_WAIT_MS,
    settlementWindowMs: raw.PIS_SETTLEMENT_WINDOW_SECONDS * 1000,
    settledPollMs: raw.PIS_SETTLED_POLL_SECONDS * 1000,
    reconcileWindowMs: raw.PIS_RECONCILE_WINDOW_SECONDS * 1000,
    reconcilePollMs: raw.PIS_RECONCILE_POLL_SECONDS * 1000,
  };
});
