import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { BankFailureCause } from '../../aspsp/bank-error.js';
import type { BankCallObserver, BankCallRecord, BankEndpoint, CircuitStateName } from '../../aspsp/http/bank-call-observer.js';
import { MetricsService } from './metrics.service.js';

/** cockatiel's numbering, kept so dashboards keep working: 0 closed, 1 open, 2 half-open. */
const CIRCUIT_VALUES: Readonly<Record<CircuitStateName, number>> = { closed: 0, open: 1, half_open: 2 };

export type TokenRefreshOutcome = 'ok' | 'grant_refused' | 'failed' | 'skipped_refused_after_refresh';

/**
 * What a bank integration needs to be run, per bank (`aspsp`) and operation (`token`, `consent`,
 * `consent-status`, `accounts`, `balances`, `transactions`, `payment`, `payment-status`, …): call
 * latency by status class, failures by cause (a refused subscription key, an expired client secret,
 * a TLS refusal each have their own), timeouts, 429s received, each endpoint's circuit state and
 * transitions, token refreshes by outcome, and what our own fairness rules saved the banks
 * (coalesced calls, status reads served from storage) or refused (calls over a user's share).
 */
@Injectable()
export class BankMetrics implements BankCallObserver {
  private readonly duration: Histogram<'aspsp' | 'operation' | 'status_class'>;
  private readonly errors: Counter<'aspsp' | 'operation' | 'cause'>;
  private readonly timeouts: Counter<'aspsp' | 'operation'>;
  private readonly rateLimitedTotal: Counter<'aspsp' | 'operation'>;
  private readonly circuit: Gauge<'aspsp' | 'endpoint'>;
  private readonly transitions: Counter<'aspsp' | 'endpoint' | 'to'>;
  private readonly refreshes: Counter<'aspsp' | 'outcome'>;
  private readonly coalesced: Counter<'aspsp' | 'operation'>;
  private readonly statusFromStorage: Counter<'aspsp' | 'operation'>;
  private readonly shed: Counter<'aspsp' | 'limit'>;
  private readonly requestsCoalesced: Counter<'resource'>;
  private readonly known = new Set<string>();

  constructor(metrics: MetricsService) {
    const registers = [metrics.registry];
    this.duration = new Histogram({
      name: 'bank_call_duration_seconds',
      help: 'Bank calls by bank, operation and HTTP status class (none: no answer), with their latency',
      labelNames: ['aspsp', 'operation', 'status_class'],
      buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 30],
      registers,
    });
    this.errors = new Counter({
      name: 'bank_errors_total',
      help: 'Failed bank calls by bank, operation and cause',
      labelNames: ['aspsp', 'operation', 'cause'],
      registers,
    });
    this.timeouts = new Counter({ name: 'bank_timeouts_total', help: 'Bank calls that ran out of time', labelNames: ['aspsp', 'operation'], registers });
    this.rateLimitedTotal = new Counter({
      name: 'bank_rate_limited_total',
      help: 'HTTP 429 answers received from a bank',
      labelNames: ['aspsp', 'operation'],
      registers,
    });
    this.circuit = new Gauge({
      name: 'bank_circuit_state',
      help: 'Circuit breaker state per bank and endpoint: 0 closed, 1 open, 2 half-open',
      labelNames: ['aspsp', 'endpoint'],
      registers,
    });
    this.transitions = new Counter({
      name: 'bank_circuit_transitions_total',
      help: 'Circuit breaker state changes per bank and endpoint',
      labelNames: ['aspsp', 'endpoint', 'to'],
      registers,
    });
    this.refreshes = new Counter({
      name: 'bank_token_refreshes_total',
      help: 'Access-token refreshes by bank and outcome',
      labelNames: ['aspsp', 'outcome'],
      registers,
    });
    this.coalesced = new Counter({
      name: 'bank_calls_coalesced_total',
      help: 'Requests answered by a bank call another request had already started',
      labelNames: ['aspsp', 'operation'],
      registers,
    });
    this.statusFromStorage = new Counter({
      name: 'bank_status_reads_deferred_total',
      help: 'Status refreshes answered from storage because the resource was asked less than the bank allows ago',
      labelNames: ['aspsp', 'operation'],
      registers,
    });
    this.requestsCoalesced = new Counter({
      name: 'api_requests_coalesced_total',
      help: 'API reads answered together with an identical one of the same user already in flight (one bank call, one read of the store)',
      labelNames: ['resource'],
      registers,
    });
    this.shed = new Counter({
      name: 'bank_calls_shed_total',
      help: "Bank calls refused because a user's or connection's share was in use until the deadline",
      labelNames: ['aspsp', 'limit'],
      registers,
    });
  }

  callFinished(record: BankCallRecord): void {
    this.duration.observe({ aspsp: record.aspspId, operation: record.operation, status_class: record.statusClass }, record.durationMs / 1000);
  }

  callFailed(aspspId: string, operation: string, cause: BankFailureCause): void {
    this.errors.inc({ aspsp: aspspId, operation, cause });
    if (cause === 'timeout' || cause === 'deadline_exceeded') this.timeouts.inc({ aspsp: aspspId, operation });
  }

  rateLimited(aspspId: string, operation: string): void {
    this.rateLimitedTotal.inc({ aspsp: aspspId, operation });
  }

  /** The first report of a circuit is its initial state, not a transition. */
  circuitChanged(aspspId: string, endpoint: BankEndpoint, state: CircuitStateName): void {
    this.circuit.set({ aspsp: aspspId, endpoint }, CIRCUIT_VALUES[state]);
    const key = `${aspspId}|${endpoint}`;
    if (!this.known.has(key)) {
      this.known.add(key);
      if (state === 'closed') return;
    }
    this.transitions.inc({ aspsp: aspspId, endpoint, to: state });
  }

  tokenRefreshed(aspspId: string, outcome: TokenRefreshOutcome): void {
    this.refreshes.inc({ aspsp: aspspId, outcome });
  }

  callCoalesced(aspspId: string, operation: string): void {
    this.coalesced.inc({ aspsp: aspspId, operation });
  }

  requestCoalesced(resource: string): void {
    this.requestsCoalesced.inc({ resource });
  }

  statusDeferred(aspspId: string, operation: string): void {
    this.statusFromStorage.inc({ aspsp: aspspId, operation });
  }

  callShed(aspspId: string, limit: 'user' | 'connection'): void {
    this.shed.inc({ aspsp: aspspId, limit });
  }
}
