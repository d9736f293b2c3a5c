import { Injectable } from '@nestjs/common';

const DAY_MS = 24 * 3600 * 1000;

/**
 * The sandbox clock: real time plus an offset that only moves forward (`POST /admin/clock`).
 * Everything time-based in the simulator reads it: code and token expiry, the Flowe 90-day re-login,
 * consent validUntil, the rolling 24 h frequencyPerDay window and payment settlement.
 */
@Injectable()
export class SandboxClock {
  private offsetMs = 0;

  nowMs(): number {
    return Date.now() + this.offsetMs;
  }

  now(): Date {
    return new Date(this.nowMs());
  }

  /** Today's date in UTC (YYYY-MM-DD), the reference the Flowe guide uses for validUntil. */
  today(): string {
    return isoDate(this.nowMs());
  }

  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }

  reset(): void {
    this.offsetMs = 0;
  }
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Adds whole days to a YYYY-MM-DD date. */
export function addDays(date: string, days: number): string {
  return isoDate(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS);
}

/** True for a real calendar date written YYYY-MM-DD. */
export function isIsoDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && isoDate(ms) === value;
}
