import { Inject, Injectable } from '@nestjs/common';
import { remainingMs } from '../../aspsp/http/deadline.js';
import { Slots } from '../../common/concurrency/slots.js';
import { AppError } from '../../common/errors/app-error.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import type { ConfigOf } from '../../config/define-config.js';
import { fairnessConfig } from '../../config/fairness.config.js';
import type { Connection } from './connection.entity.js';

/** How many callers may queue behind one user's or connection's running bank calls before the next is refused at once. */
const MAX_WAITING = 1000;
/** A slot that comes with less time than this left before the deadline is not worth a bank call. */
const MIN_CALL_MS = 100;

/**
 * Each user's and each connection's share of the banks, on this replica: at most
 * BANK_CALLS_PER_USER (and BANK_CALLS_PER_CONNECTION) bank calls run at once; more wait their
 * turn in order, but only until the deadline of the work they belong to (the user's request,
 * see deadline.ts). A call still waiting then is refused with 429 `rate_limited` and Retry-After:
 * it is the user's own load, not the bank's failure, so one user's burst queues behind itself and
 * never in front of another user's read.
 */
@Injectable()
export class BankCallGate {
  private readonly users = new Map<string, Slots>();
  private readonly connections = new Map<string, Slots>();

  constructor(
    @Inject(fairnessConfig.KEY) private readonly config: ConfigOf<typeof fairnessConfig>,
    private readonly metrics: BankMetrics,
  ) {}

  async run<T>(connection: Pick<Connection, 'id' | 'userId' | 'aspspId'>, work: () => Promise<T>): Promise<T> {
    const user = this.slotsOf(this.users, connection.userId, this.config.bankCallsPerUser);
    const link = this.slotsOf(this.connections, connection.id, this.config.bankCallsPerConnection);
    await this.take(user, connection.aspspId, 'user');
    try {
      await this.take(link, connection.aspspId, 'connection');
      try {
        return await work();
      } finally {
        this.give(this.connections, connection.id, link);
      }
    } finally {
      this.give(this.users, connection.userId, user);
    }
  }

  private async take(slots: Slots, aspspId: string, limit: 'user' | 'connection'): Promise<void> {
    if (await slots.acquire(remainingMs(this.config.apiBankDeadlineMs))) {
      // A turn that comes with no time left for the call is given back: the answer is the user's load, not a bank timeout.
      if (remainingMs(this.config.apiBankDeadlineMs) >= MIN_CALL_MS) return;
      slots.release();
    }
    this.metrics.callShed(aspspId, limit);
    throw new AppError('rate_limited', `${aspspId}: too many bank calls for this ${limit} at once; try again shortly`, { aspspId, retryAfterSeconds: 1 });
  }

  private slotsOf(map: Map<string, Slots>, key: string, capacity: number): Slots {
    let slots = map.get(key);
    if (!slots) {
      slots = new Slots(capacity, MAX_WAITING);
      map.set(key, slots);
    }
    return slots;
  }

  /** Releases, and drops an idle entry so the maps hold only users and connections with calls running or waiting. */
  private give(map: Map<string, Slots>, key: string, slots: Slots): void {
    slots.release();
    if (slots.idle && map.get(key) === slots) map.delete(key);
  }
}
