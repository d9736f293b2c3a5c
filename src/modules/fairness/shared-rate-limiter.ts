import { Inject, Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import type { ConfigOf } from '../../config/define-config.js';
import { fairnessConfig } from '../../config/fairness.config.js';
import { RateLimitStore } from './rate-limit.store.js';
import type { RateDecision, UserRateLimiter } from './user-rate-limiter.js';

interface Window {
  key: string;
  start: number;
  /** The shared total as PostgreSQL last returned it (every replica's hits, ours included). */
  known: number;
  /** Hits on this replica not yet added to the shared total. */
  pending: number;
}

/** Sync rounds between deletions of ended windows. */
const PRUNE_EVERY = 100;

/**
 * Per-user request counts shared by every replica through PostgreSQL, without a database round
 * trip per request: each replica counts locally, and every RATE_LIMIT_SYNC_MS adds its counts to
 * the shared ones in one statement and reads the totals back. A request is refused when the last
 * known shared total plus this replica's unsent hits is over the limit, so the limit holds across
 * replicas up to what the other replicas admitted since their last sync (bounded by the limit rate
 * times the sync interval). Fixed windows, aligned to the epoch.
 */
@Injectable()
export class SharedUserRateLimiter implements UserRateLimiter, OnApplicationShutdown {
  private readonly logger = new Logger(SharedUserRateLimiter.name);
  private readonly windows = new Map<string, Window>();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly limit: number;
  private readonly windowMs: number;
  private syncing: Promise<void> | undefined;
  private rounds = 0;

  constructor(
    private readonly store: RateLimitStore,
    @Inject(fairnessConfig.KEY) config: ConfigOf<typeof fairnessConfig>,
  ) {
    this.limit = config.rateLimit.perUser;
    this.windowMs = config.rateLimit.windowMs;
    // Only when chosen: otherwise the in-memory limiter serves a single replica.
    if (config.rateLimit.store !== 'postgres') return;
    this.timer = setInterval(() => void this.sync(), config.rateLimit.syncMs);
    this.timer.unref();
  }

  consume(userId: string): Promise<RateDecision> {
    const now = Date.now();
    const start = Math.floor(now / this.windowMs) * this.windowMs;
    let window = this.windows.get(userId);
    if (!window || window.start !== start) {
      window = { key: userId, start, known: 0, pending: 0 };
      this.windows.set(userId, window);
    }
    const retryAfterSeconds = Math.max(1, Math.ceil((start + this.windowMs - now) / 1000));
    if (window.known + window.pending >= this.limit) return Promise.resolve({ allowed: false, retryAfterSeconds });
    window.pending++;
    return Promise.resolve({ allowed: true, retryAfterSeconds });
  }

  /** One round: this replica's hits out, everyone's totals back. Public for tests. */
  sync(): Promise<void> {
    this.syncing ??= this.syncOnce().finally(() => (this.syncing = undefined));
    return this.syncing;
  }

  private async syncOnce(): Promise<void> {
    const now = Date.now();
    const live = [...this.windows.values()].filter((w) => {
      if (w.start + this.windowMs > now) return true;
      this.windows.delete(w.key);
      return false;
    });
    if (live.length === 0) return;
    const sent = new Map(live.map((w) => [w, w.pending]));
    try {
      const totals = await this.store.add(live.map((w) => ({ key: w.key, windowStart: w.start, hits: w.pending })));
      const byKey = new Map(totals.map((t) => [`${t.key}@${t.windowStart}`, t.hits]));
      for (const window of live) {
        const total = byKey.get(`${window.key}@${window.start}`);
        if (total === undefined) continue;
        window.known = total;
        window.pending -= sent.get(window)!;
      }
      if (++this.rounds % PRUNE_EVERY === 0) await this.store.prune(now - Math.max(this.windowMs, 3_600_000));
    } catch (error) {
      // Counting goes on locally; the next round sends what this one could not.
      this.logger.warn({ err: error }, 'could not share the rate-limit counts');
    }
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }
}
