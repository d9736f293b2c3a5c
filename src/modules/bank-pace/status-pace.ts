import { setTimeout as delay } from 'node:timers/promises';
import { Injectable } from '@nestjs/common';
import { remainingMs } from '../../aspsp/http/deadline.js';
import { AspspRegistry } from '../../aspsp/aspsp.registry.js';
import { BankMetrics } from '../../common/metrics/bank.metrics.js';
import { StatusReadStore } from './status-read.store.js';

/**
 * Headroom over the bank's interval: the claim is taken just before the request leaves, and two
 * requests can take slightly different times to reach the bank.
 */
const MARGIN_MS = 100;
/** How long a status ask waits for the interval to end before serving the stored status instead. */
const DEFAULT_WAIT_MS = 300;
/** Time the request itself needs after the wait. */
const MIN_LEFT_MS = 500;

/**
 * The banks' one-status-request-per-second rule (Flowe guide 4.1 step 5 and 4.2 step 3; assumed
 * for ConnectPay), for every path that asks — the scheduler's polls and the user's `?refresh=true`
 * alike, on every replica: before a status request the caller claims the resource in PostgreSQL;
 * when it was asked less than `<ID>_STATUS_MIN_INTERVAL_MS` ago the caller waits for the interval
 * to end if that is soon, else serves the status it has stored (that answer is at most a second old).
 */
@Injectable()
export class StatusPace {
  constructor(
    private readonly store: StatusReadStore,
    private readonly aspsps: AspspRegistry,
    private readonly metrics: BankMetrics,
  ) {}

  /**
   * True: ask the bank now. False: the resource was just asked; use the stored status. When the
   * interval ends within `waitUpToMs` (and the current deadline), waits for it and asks: the
   * scheduler's one-second cadence and a refresh right after a poll then both reach the bank.
   */
  async mayAsk(aspspId: string, resource: 'consent' | 'payment', bankResourceId: string, waitUpToMs = DEFAULT_WAIT_MS): Promise<boolean> {
    const interval = this.aspsps.get(aspspId).bank.statusMinIntervalMs;
    if (interval <= 0) return true;
    const key = `${aspspId}|${resource}|${bankResourceId}`;
    let attempt = await this.store.claim(key, interval + MARGIN_MS);
    // Time left before the work's deadline (an hour when it has none), less what the request needs.
    const room = remainingMs(3_600_000) - MIN_LEFT_MS;
    if (!attempt.claimed && attempt.waitMs <= Math.min(waitUpToMs, room)) {
      await delay(attempt.waitMs + 5);
      attempt = await this.store.claim(key, interval + MARGIN_MS);
    }
    if (attempt.claimed) return true;
    this.metrics.statusDeferred(aspspId, `${resource}-status`);
    return false;
  }
}
