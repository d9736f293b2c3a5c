import { defineConfig, pickEnv, validateEnv } from './define-config.js';
import { Decimal, Flag, Integer } from './rules.js';

class SchedulerEnv {
  /** Off in tests (and on replicas that should only serve HTTP); polling items then simply wait. */
  @Flag() SCHEDULER_ENABLED = true;
  @Integer(20, 10_000) SCHEDULER_TICK_MS = 250;
  @Integer(1, 1000) SCHEDULER_BATCH_SIZE = 50;
  /** Polls in flight at once on one replica. */
  @Integer(1, 500) SCHEDULER_CONCURRENCY = 16;
  /** How long a claim lasts without renewal: a crashed replica's items resume elsewhere after this. Renewed while a poll runs. */
  @Integer(2, 3600) SCHEDULER_LEASE_SECONDS = 60;
  /**
   * A poll still running after this is taken for stuck: its lease is no longer renewed, so another
   * replica takes the item over once the lease ends. Until then a running poll keeps its lease.
   */
  @Integer(1, 3600) SCHEDULER_MAX_POLL_SECONDS = 300;
  /**
   * Floor between two polls of one item. Flowe's guide asks for at most one status request per
   * second (4.1 step 5, 4.2 step 3); ConnectPay's document names no rate, and we poll it no faster.
   */
  @Integer(1000, 3_600_000) SCHEDULER_MIN_INTERVAL_MS = 1000;
  @Integer(0, 86_400) SCHEDULER_FAST_PHASE_SECONDS = 60;
  @Decimal(1, 10) SCHEDULER_BACKOFF_FACTOR = 1.5;
  @Integer(1, 86_400) SCHEDULER_MAX_INTERVAL_SECONDS = 60;
  @Integer(1, 86_400) SCHEDULER_ERROR_MAX_BACKOFF_SECONDS = 300;
  /** Wait after a 429 that carries no Retry-After. */
  @Integer(1, 86_400) SCHEDULER_RATE_LIMIT_WINDOW_SECONDS = 60;
  /** A consent still `received` this long after creation is expired locally (reconsent required). */
  @Integer(1, 7 * 86_400) SCHEDULER_CONSENT_DEADLINE_SECONDS = 900;
  /** Payments are never given up (money may still move), but after this they are polled slowly. */
  @Integer(1, 30 * 86_400) SCHEDULER_PAYMENT_SLOW_AFTER_SECONDS = 3600;
  @Integer(1, 86_400) SCHEDULER_PAYMENT_SLOW_INTERVAL_SECONDS = 900;
  /** Next unattended AIS refresh when the AIS service does not say (24 h / the largest frequencyPerDay, 4). */
  @Integer(60, 86_400) SCHEDULER_AIS_REFRESH_FALLBACK_SECONDS = 21_600;
}

export interface SchedulerConfig {
  enabled: boolean;
  tickMs: number;
  batchSize: number;
  concurrency: number;
  leaseSeconds: number;
  maxPollMs: number;
  minIntervalMs: number;
  fastPhaseMs: number;
  backoffFactor: number;
  maxIntervalMs: number;
  errorMaxBackoffMs: number;
  rateLimitWindowMs: number;
  consentDeadlineMs: number;
  paymentSlowAfterMs: number;
  paymentSlowIntervalMs: number;
  aisRefreshFallbackMs: number;
}

export const schedulerConfig = defineConfig('scheduler', (env, problems): SchedulerConfig => {
  const raw = validateEnv(SchedulerEnv, pickEnv(env, Object.keys(new SchedulerEnv())), problems);
  if (raw.SCHEDULER_MAX_INTERVAL_SECONDS * 1000 < raw.SCHEDULER_MIN_INTERVAL_MS) {
    problems.add('SCHEDULER_MAX_INTERVAL_SECONDS must not be below SCHEDULER_MIN_INTERVAL_MS', 'SCHEDULER_MAX_INTERVAL_SECONDS');
  }
  problems.throwIfAny();
  return {
    enabled: raw.SCHEDULER_ENABLED,
    tickMs: raw.SCHEDULER_TICK_MS,
    batchSize: raw.SCHEDULER_BATCH_SIZE,
    concurrency: raw.SCHEDULER_CONCURRENCY,
    leaseSeconds: raw.SCHEDULER_LEASE_SECONDS,
    maxPollMs: raw.SCHEDULER_MAX_POLL_SECONDS * 1000,
    minIntervalMs: raw.SCHEDULER_MIN_INTERVAL_MS,
    fastPhaseMs: raw.SCHEDULER_FAST_PHASE_SECONDS * 1000,
    backoffFactor: raw.SCHEDULER_BACKOFF_FACTOR,
    maxIntervalMs: raw.SCHEDULER_MAX_INTERVAL_SECONDS * 1000,
    errorMaxBackoffMs: raw.SCHEDULER_ERROR_MAX_BACKOFF_SECONDS * 1000,
    rateLimitWindowMs: raw.SCHEDULER_RATE_LIMIT_WINDOW_SECONDS * 1000,
    consentDeadlineMs: raw.SCHEDULER_CONSENT_DEADLINE_SECONDS * 1000,
    paymentSlowAfterMs: raw.SCHEDULER_PAYMENT_SLOW_AFTER_SECONDS * 1000,
    paymentSlowIntervalMs: raw.SCHEDULER_PAYMENT_SLOW_INTERVAL_SECONDS * 1000,
    aisRefreshFallbackMs: raw.SCHEDULER_AIS_REFRESH_FALLBACK_SECONDS * 1000,
  };
});
