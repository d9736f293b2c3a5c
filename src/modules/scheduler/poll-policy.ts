import { ExponentialBackoff, halfJitterGenerator, type IBackoff } from 'cockatiel';
import { BankError } from '../../aspsp/bank-error.js';
import { AppError } from '../../common/errors/app-error.js';
import { isDatabaseUnavailable } from '../../database/database-errors.js';
import type { SchedulerConfig } from '../../config/scheduler.config.js';
import type { PollResult } from '../polling/poll-handlers.js';
import type { ClaimedItem, PollKind, PollRecord } from '../polling/poll-queue.store.js';

/** Statuses after which the bank will not change its answer (Berlin Group consent statuses, ISO 20022). */
export const FINAL_STATUSES: Readonly<Record<PollKind, ReadonlySet<string>>> = {
  consent: new Set(['valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp']),
  // ACSC and ACCC are not final: clearing can still reject a settled payment. The PIS handler
  // says when it is done with one (its settlement window closed).
  payment: new Set(['RJCT', 'CANC']),
  'ais-refresh': new Set(),
};

export type PollAttempt = { ok: true; result: PollResult } | { ok: false; error: unknown };

export type PollDecision = { action: 'remove'; outcome: string; status?: string } | { action: 'reschedule'; record: PollRecord };

/**
 * When to poll an item next, from what the last poll gave. Pure (no I/O) apart from jitter, so
 * every rule is unit-tested:
 * - success: 1 s (SCHEDULER_MIN_INTERVAL_MS) during the first minute, then each interval is
 *   (factor - 1) × the time since the fast phase ended, i.e. intervals grow ×factor per poll, up to
 *   the cap; payments past their slow-after point are polled every SCHEDULER_PAYMENT_SLOW_INTERVAL_SECONDS;
 * - final statuses end polling (a payment's handler decides when a settled or accepted one is done);
 * - 429: not before Retry-After (or the configured window); 5xx, timeouts, an open circuit and
 *   anything else: exponential backoff with jitter (cockatiel) growing with consecutive failures;
 * - an unattended AIS refresh runs when its handler says (paced by the budget it spent, or when
 *   the budget's window rolls); one that fails before spending any budget (the token could not be
 *   refreshed, the circuit is open) waits the longest error backoff (SCHEDULER_ERROR_MAX_BACKOFF_SECONDS);
 * - CONSENT_* errors end consent and AIS-refresh items (the consent is unusable); a resource
 *   that no longer exists (`not_found`) ends any item.
 */
export class PollPolicy {
  private readonly backoff: ExponentialBackoff<unknown>;

  constructor(private readonly config: SchedulerConfig) {
    // Half jitter: the n-th consecutive failure waits between d/2 and d, d = 2 × min interval × 2^(n-1).
    this.backoff = new ExponentialBackoff({ generator: halfJitterGenerator, initialDelay: 2 * config.minIntervalMs, maxDelay: config.errorMaxBackoffMs });
  }

  deadlinePassed(item: ClaimedItem, now: Date): boolean {
    const deadline = this.deadlineOf(item);
    return deadline !== undefined && now.getTime() >= deadline;
  }

  decide(item: ClaimedItem, now: Date, attempt: PollAttempt): PollDecision {
    return attempt.ok ? this.afterSuccess(item, now, attempt.result) : this.afterError(item, now, attempt.error);
  }

  private afterSuccess(item: ClaimedItem, now: Date, result: PollResult): PollDecision {
    const status = result.status;
    if (result.final || FINAL_STATUSES[item.kind].has(status)) return { action: 'remove', outcome: 'final', status };
    let delayMs = item.kind === 'ais-refresh' ? this.config.aisRefreshFallbackMs : this.regularInterval(item, now);
    if (result.nextPollAt)
      delayMs = item.kind === 'ais-refresh' ? result.nextPollAt.getTime() - now.getTime() : Math.max(delayMs, result.nextPollAt.getTime() - now.getTime());
    return { action: 'reschedule', record: { delayMs: Math.max(delayMs, this.config.minIntervalMs), failures: 0, outcome: 'ok', status } };
  }

  private afterError(item: ClaimedItem, now: Date, error: unknown): PollDecision {
    if (error instanceof AppError && error.code === 'not_found') return { action: 'remove', outcome: 'gone' };
    if (error instanceof BankError && error.kind === 'consent_invalid' && item.kind !== 'payment') return { action: 'remove', outcome: 'consent_invalid' };
    const failures = item.failures + 1;
    // An unattended refresh is never urgent: after a failure (one that spent budget is not an error
    // here: the AIS handler paces it itself) it waits the longest error backoff.
    const regular = item.kind === 'ais-refresh' ? this.config.errorMaxBackoffMs : this.regularInterval(item, now);
    let delayMs = Math.max(regular, this.errorBackoff(failures));
    const retryAfterMs = error instanceof BankError && error.details.retryAfterSeconds ? error.details.retryAfterSeconds * 1000 : undefined;
    if (error instanceof BankError && error.kind === 'rate_limited') delayMs = Math.max(delayMs, retryAfterMs ?? this.config.rateLimitWindowMs);
    else if (retryAfterMs) delayMs = Math.max(delayMs, Math.min(retryAfterMs, this.config.errorMaxBackoffMs));
    const outcome = error instanceof BankError ? error.kind : isDatabaseUnavailable(error) ? 'database_unavailable' : 'error';
    return { action: 'reschedule', record: { delayMs: Math.max(delayMs, this.config.minIntervalMs), failures, outcome, status: null } };
  }

  /** The interval between successful polls at this point of the item's life. */
  regularInterval(item: Pick<ClaimedItem, 'kind' | 'startedAt' | 'deadlineAt'>, now: Date): number {
    const { minIntervalMs, maxIntervalMs, fastPhaseMs, backoffFactor } = this.config;
    const elapsed = now.getTime() - item.startedAt.getTime();
    let interval = elapsed < fastPhaseMs ? minIntervalMs : clamp((elapsed - fastPhaseMs) * (backoffFactor - 1), minIntervalMs, maxIntervalMs);
    const deadline = this.deadlineOf(item);
    const pastDeadline = deadline !== undefined && now.getTime() >= deadline;
    if (pastDeadline && item.kind === 'payment') interval = Math.max(interval, this.config.paymentSlowIntervalMs);
    // A consent past its deadline that its handler did not settle: keep asking, but slowly.
    if (pastDeadline && item.kind === 'consent') interval = maxIntervalMs;
    return interval;
  }

  errorBackoff(failures: number): number {
    let step: IBackoff<unknown> = this.backoff.next();
    for (let i = 1; i < Math.min(failures, 32); i++) step = step.next(undefined);
    return step.duration;
  }

  private deadlineOf(item: Pick<ClaimedItem, 'kind' | 'startedAt' | 'deadlineAt'>): number | undefined {
    if (item.deadlineAt) return item.deadlineAt.getTime();
    if (item.kind === 'consent') return item.startedAt.getTime() + this.config.consentDeadlineMs;
    if (item.kind === 'payment') return item.startedAt.getTime() + this.config.paymentSlowAfterMs;
    return undefined;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
