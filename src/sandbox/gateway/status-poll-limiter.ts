import { Injectable } from '@nestjs/common';
import { SandboxClock } from '../clock/sandbox-clock.js';

/**
 * "TPP can now start polling with a reasonable frequency (no more than 1/sec)" (Flowe guide 4.1 step 5
 * and 4.2 step 3): the status endpoints answer 429 to a request for the same resource less than the
 * bank's `statusPollMinIntervalMs` after the last one they answered. Refused requests do not move the
 * window. Timed by the sandbox clock, so a test can step over the interval with `POST /admin/clock`.
 */
@Injectable()
export class StatusPollLimiter {
  private readonly last = new Map<string, number>();

  constructor(private readonly clock: SandboxClock) {}

  /** True when the request may be answered (and records it); false when it comes too soon. */
  admit(key: string, minIntervalMs: number): boolean {
    if (minIntervalMs <= 0) return true;
    const now = this.clock.nowMs();
    const previous = this.last.get(key);
    if (previous !== undefined && now - previous < minIntervalMs) return false;
    if (this.last.size > 50_000) this.last.clear();
    this.last.set(key, now);
    return true;
  }

  reset(): void {
    this.last.clear();
  }
}
