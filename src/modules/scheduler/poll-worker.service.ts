import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { BankError } from '../../aspsp/bank-error.js';
import { AppError } from '../../common/errors/app-error.js';
import { databaseUnavailability } from '../../database/database-errors.js';
import { schedulerConfig } from '../../config/scheduler.config.js';
import type { ConfigOf } from '../../config/define-config.js';
import { PollHandlers, type PollContext } from '../polling/poll-handlers.js';
import { PollPolicy, type PollAttempt, type PollDecision } from './poll-policy.js';
import { PollQueue, type ClaimedItem } from '../polling/poll-queue.store.js';
import { SchedulerMetrics } from './scheduler.metrics.js';

const INTERVAL_NAME = 'poll-worker';
const RENEWAL_NAME = 'poll-lease-renewal';
const MAX_DRAIN_MS = 10_000;

interface RunningPoll {
  item: ClaimedItem;
  started: number;
  done: Promise<void>;
}

/** A poll's outcome that could not be written (the database was unavailable): written again each tick. */
interface UnwrittenOutcome {
  item: ClaimedItem;
  decision: PollDecision;
  /** When the poll ended: the next poll is due `delayMs` after this, and never sooner than the 1 s floor. */
  polledAt: number;
  /** After this the lease has run out: another replica may own the item, so this one stops trying. */
  leaseEndsAt: number;
}

/**
 * Each tick (SCHEDULER_TICK_MS) claims as many due items as this replica has free poll slots,
 * polls each through its kind's handler, and writes the outcome and the next time while still
 * holding the lease. Any number of replicas can run this on one database: claims skip each
 * other's locked rows, a live lease keeps an item to one replica (renewed every third of
 * SCHEDULER_LEASE_SECONDS while its poll runs, up to SCHEDULER_MAX_POLL_SECONDS, so a slow bank
 * never lets a second replica in), and a replica killed mid-poll only delays its items until
 * their lease expires.
 *
 * The handler commits the status change (and its outbox event) in its own transaction; the next
 * time is written after. A crash between the two only means one more status poll, which the
 * handler answers without a new event because nothing changed.
 */
@Injectable()
export class PollWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(PollWorker.name);
  /** This replica in `poll_items.leased_by`: host, pid and a random part (two apps in one process differ). */
  readonly owner = `${hostname().slice(0, 60)}:${process.pid}:${randomBytes(4).toString('hex')}`;
  private readonly policy: PollPolicy;
  private readonly inFlight = new Map<string, RunningPoll>();
  private readonly unwritten = new Map<string, UnwrittenOutcome>();
  private ticking: Promise<number> | undefined;
  private stopped = false;

  constructor(
    @Inject(schedulerConfig.KEY) private readonly config: ConfigOf<typeof schedulerConfig>,
    private readonly queue: PollQueue,
    private readonly handlers: PollHandlers,
    private readonly metrics: SchedulerMetrics,
    private readonly schedulerRegistry: SchedulerRegistry,
  ) {
    this.policy = new PollPolicy(config);
  }

  onApplicationBootstrap(): void {
    if (!this.config.enabled) return;
    this.schedulerRegistry.addInterval(
      INTERVAL_NAME,
      setInterval(() => void this.tick(), this.config.tickMs),
    );
    this.schedulerRegistry.addInterval(
      RENEWAL_NAME,
      setInterval(() => void this.renewLeases(), (this.config.leaseSeconds * 1000) / 3),
    );
    this.logger.log({ owner: this.owner, tickMs: this.config.tickMs, concurrency: this.config.concurrency }, 'scheduler started');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.schedulerRegistry.doesExist('interval', INTERVAL_NAME)) this.schedulerRegistry.deleteInterval(INTERVAL_NAME);
    // Let a claim under way start its polls, and polls in flight write their outcome; whatever is
    // still running after this keeps its lease, which expires so another replica takes the item over.
    await this.ticking;
    let timer: NodeJS.Timeout | undefined;
    const polls = [...this.inFlight.values()].map((p) => p.done);
    await Promise.race([Promise.allSettled(polls), new Promise((done) => (timer = setTimeout(done, Math.min(MAX_DRAIN_MS, this.config.leaseSeconds * 1000))))]);
    clearTimeout(timer);
    if (this.schedulerRegistry.doesExist('interval', RENEWAL_NAME)) this.schedulerRegistry.deleteInterval(RENEWAL_NAME);
  }

  /** Polls currently running on this replica. */
  get busy(): number {
    return this.inFlight.size;
  }

  /**
   * One round: claims due items up to the free slots and starts their polls (without waiting for
   * them). Returns how many were claimed. Called by the interval; tests may call it directly.
   */
  async tick(): Promise<number> {
    if (this.ticking || this.stopped) return 0;
    this.ticking = this.claimAndStart().finally(() => (this.ticking = undefined));
    return this.ticking;
  }

  private async claimAndStart(): Promise<number> {
    try {
      await this.writeUnwrittenOutcomes();
      const limit = Math.min(this.config.batchSize, this.config.concurrency - this.inFlight.size);
      const items = await this.queue.claim({
        owner: this.owner,
        limit,
        leaseSeconds: this.config.leaseSeconds,
        minIntervalMs: this.config.minIntervalMs,
        kinds: this.handlers.kinds(),
      });
      for (const item of items) {
        const key = `${item.kind}:${item.resourceId}`;
        const running = { item, started: Date.now() } as RunningPoll;
        // Only this poll's own entry is removed (a stuck earlier poll of the same item may end later).
        running.done = this.poll(item).finally(() => this.inFlight.get(key) === running && this.inFlight.delete(key));
        this.inFlight.set(key, running);
      }
      return items.length;
    } catch (error) {
      this.logger.error({ err: error }, 'claiming poll items failed');
      return 0;
    }
  }

  /** Keeps the leases of running polls alive; a poll running past SCHEDULER_MAX_POLL_SECONDS is left to expire. */
  async renewLeases(): Promise<void> {
    const cutoff = Date.now() - this.config.maxPollMs;
    const running = [...this.inFlight.values()].filter((p) => p.started > cutoff).map((p) => p.item);
    try {
      await this.queue.renew(this.owner, running, this.config.leaseSeconds);
    } catch (error) {
      this.logger.warn({ err: error, items: running.length }, 'renewing poll leases failed');
    }
  }

  /** Never rejects: every failure is an outcome of the item. */
  private async poll(item: ClaimedItem): Promise<void> {
    const started = Date.now();
    this.metrics.lag.observe({ kind: item.kind }, Math.max(0, item.claimedAt.getTime() - item.nextPollAt.getTime()) / 1000);
    const context: PollContext = {
      kind: item.kind,
      resourceId: item.resourceId,
      aspspId: item.aspspId,
      attempts: item.attempts,
      startedAt: item.startedAt,
      deadlinePassed: this.policy.deadlinePassed(item, item.claimedAt),
      lastStatus: item.lastStatus,
    };
    let attempt: PollAttempt;
    try {
      const handler = this.handlers.get(item.kind);
      if (!handler) throw new Error(`no poll handler for ${item.kind}`);
      attempt = { ok: true, result: await handler(context) };
    } catch (error) {
      attempt = { ok: false, error };
    }
    // The database's clock, moved on by the time the poll took: deadlines and caps compare with it.
    const now = new Date(item.claimedAt.getTime() + (Date.now() - started));
    const decision = this.policy.decide(item, now, attempt);
    let outcome = decision.action === 'remove' ? decision.outcome : decision.record.outcome;
    try {
      if (!(await this.writeOutcome(item, decision))) outcome = 'lease_lost';
    } catch (error) {
      // This replica still holds the lease, so no other replica would poll the item before it
      // expires: the outcome is written again on every tick until the database takes it.
      this.logger.warn({ err: error, kind: item.kind, resourceId: item.resourceId }, 'writing a poll outcome failed; retrying every tick');
      this.unwritten.set(`${item.kind}:${item.resourceId}`, {
        item,
        decision,
        polledAt: Date.now(),
        leaseEndsAt: Date.now() + this.config.leaseSeconds * 1000,
      });
      outcome = 'write_failed';
    }
    this.metrics.polls.inc({ aspsp: item.aspspId, kind: item.kind, outcome });
    this.metrics.duration.observe({ aspsp: item.aspspId, kind: item.kind }, (Date.now() - started) / 1000);
    this.log(item, attempt, decision, outcome);
  }

  /** Removes the item or writes its next poll time, if this replica still holds its lease. */
  private async writeOutcome(item: ClaimedItem, decision: PollDecision): Promise<boolean> {
    if (decision.action === 'remove') {
      await this.queue.complete(this.owner, item);
      return true;
    }
    return this.queue.reschedule(this.owner, item, decision.record);
  }

  /**
   * Outcomes a database outage kept from being written, written now: the item is then due again
   * as its poll decided (counted from the poll, never sooner than the 1 s floor) instead of
   * waiting out a lease this live replica would otherwise hold for nothing.
   */
  private async writeUnwrittenOutcomes(): Promise<void> {
    for (const [key, pending] of this.unwritten) {
      if (Date.now() >= pending.leaseEndsAt) {
        this.unwritten.delete(key);
        continue;
      }
      const decision: PollDecision =
        pending.decision.action === 'remove'
          ? pending.decision
          : {
              action: 'reschedule',
              record: {
                ...pending.decision.record,
                delayMs: Math.max(this.config.minIntervalMs, pending.polledAt + pending.decision.record.delayMs - Date.now()),
              },
            };
      try {
        const written = await this.writeOutcome(pending.item, decision);
        this.unwritten.delete(key);
        this.logger.log(
          { kind: pending.item.kind, resourceId: pending.item.resourceId, written },
          written ? 'poll outcome written after the database came back' : 'poll outcome dropped: the lease was lost meanwhile',
        );
      } catch {
        return; // still unavailable: the next tick tries again
      }
    }
  }

  private log(item: ClaimedItem, attempt: PollAttempt, decision: PollDecision, outcome: string): void {
    const fields = { kind: item.kind, resourceId: item.resourceId, aspspId: item.aspspId, outcome, attempts: item.attempts + 1 };
    if (outcome === 'lease_lost') {
      this.logger.warn(fields, 'poll finished after its lease expired; another replica owns the item now');
    } else if (attempt.ok) {
      this.logger.debug(
        { ...fields, status: attempt.result.status, nextInMs: decision.action === 'reschedule' ? decision.record.delayMs : undefined },
        'polled',
      );
    } else if (attempt.error instanceof BankError || attempt.error instanceof AppError) {
      const bank =
        attempt.error instanceof BankError
          ? { bankCode: attempt.error.details.bankCode, bankStatus: attempt.error.details.status }
          : { code: attempt.error.code };
      this.logger.warn({ ...fields, ...bank, nextInMs: decision.action === 'reschedule' ? decision.record.delayMs : undefined }, 'poll failed');
    } else if (databaseUnavailability(attempt.error)) {
      this.logger.warn({ ...fields, reason: databaseUnavailability(attempt.error) }, 'poll failed: the database is unavailable');
    } else {
      this.logger.error({ ...fields, err: attempt.error }, 'poll handler threw');
    }
  }
}
