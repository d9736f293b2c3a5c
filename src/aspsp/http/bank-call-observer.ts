import type { BankFailureCause } from '../bank-error.js';

/** Which of a bank's endpoints a call went to: its login server (token endpoint) or its API. Each has its own circuit. */
export type BankEndpoint = 'token' | 'api';

/** A circuit's state as a number for a gauge: 0 closed, 1 half-open, 2 open. */
export type CircuitStateName = 'closed' | 'half_open' | 'open';

/** One bank call's outcome, as the HTTP client saw it. */
export interface BankCallRecord {
  aspspId: string;
  /** What was asked: `token`, `consent`, `consent-status`, `accounts`, `balances`, `transactions`, `payment`, `payment-status`, … */
  operation: string;
  /** `2xx`, `3xx`, `4xx`, `5xx`, or `none` when no answer came (timeout, refused, reset). */
  statusClass: string;
  durationMs: number;
}

/**
 * What the bank HTTP client reports, so the metrics module can count it without the bank port
 * knowing Prometheus. Every method must be cheap and must never throw.
 */
export interface BankCallObserver {
  callFinished(record: BankCallRecord): void;
  callFailed(aspspId: string, operation: string, cause: BankFailureCause): void;
  rateLimited(aspspId: string, operation: string): void;
  circuitChanged(aspspId: string, endpoint: BankEndpoint, state: CircuitStateName): void;
}

export const NO_OBSERVER: BankCallObserver = {
  callFinished: () => undefined,
  callFailed: () => undefined,
  rateLimited: () => undefined,
  circuitChanged: () => undefined,
};
