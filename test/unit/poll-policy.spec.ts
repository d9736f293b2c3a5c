import { BankError } from '../../src/aspsp/bank-error.js';
import { AppError } from '../../src/common/errors/app-error.js';
import { ConfigError } from '../../src/config/define-config.js';
import { schedulerConfig } from '../../src/config/scheduler.config.js';
import { PollPolicy } from '../../src/modules/scheduler/poll-policy.js';
import type { ClaimedItem, PollKind } from '../../src/modules/polling/poll-queue.store.js';

const config = schedulerConfig.parse({});
const policy = new PollPolicy(config);
const T0 = new Date('2026-01-01T10:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function item(kind: PollKind, overrides: Partial<ClaimedItem> = {}): ClaimedItem {
  return {
    kind,
    resourceId: 'r',
    aspspId: 'flowe',
    nextPollAt: T0,
    attempts: 0,
    failures: 0,
    startedAt: T0,
    deadlineAt: null,
    lastStatus: null,
    statusSince: null,
    claimedAt: T0,
    ...overrides,
  };
}

function delayAfter(i: ClaimedItem, now: Date, attempt: Parameters<PollPolicy['decide']>[2]): number {
  const decision = policy.decide(i, now, attempt);
  if (decision.action !== 'reschedule') throw new Error(`expected a reschedule, got ${decision.outcome}`);
  return decision.record.delayMs;
}

const ok = (status: string, final = false) => ({ ok: true as const, result: { final, status } });
const failed = (error: unknown) => ({ ok: false as const, error });

describe('poll policy', () => {
  it('polls every second during the first minute, then backs off ×1.5 per poll to the cap', () => {
    for (const s of [0, 1, 30, 59]) expect(delayAfter(item('payment'), at(s), ok('RCVD'))).toBe(1000);
    // After the fast phase each interval is half the time since it ended: t → 1.5 t per poll.
    expect(delayAfter(item('payment'), at(64), ok('RCVD'))).toBe(2000);
    expect(delayAfter(item('payment'), at(66), ok('RCVD'))).toBe(3000);
    expect(delayAfter(item('payment'), at(69), ok('RCVD'))).toBe(4500);
    expect(delayAfter(item('consent'), at(600), ok('received'))).toBe(config.maxIntervalMs);
  });

  it('never schedules below the one-second floor, even when a handler asks for sooner', () => {
    expect(delayAfter(item('payment'), at(0), { ok: true, result: { final: false, status: 'RCVD', nextPollAt: at(0.1) } })).toBe(1000);
    expect(delayAfter(item('ais-refresh'), at(0), { ok: true, result: { final: false, status: 'refreshed', nextPollAt: at(-5) } })).toBe(1000);
  });

  it('ends polling at final statuses, whatever the handler says about finality', () => {
    for (const status of ['valid', 'rejected', 'revokedByPsu', 'expired', 'terminatedByTpp'])
      expect(policy.decide(item('consent'), at(1), ok(status))).toMatchObject({ action: 'remove', outcome: 'final' });
    for (const status of ['RJCT', 'CANC']) expect(policy.decide(item('payment'), at(1), ok(status))).toMatchObject({ action: 'remove', outcome: 'final' });
    expect(policy.decide(item('payment'), at(1), ok('PDNG', true))).toMatchObject({ action: 'remove' });
    expect(policy.decide(item('payment'), at(1), ok('ACSP'))).toMatchObject({ action: 'reschedule' });
  });

  it('keeps polling settled and accepted payments until their handler says it is done: clearing can reject after ACSC', () => {
    for (const status of ['ACSC', 'ACCC']) expect(policy.decide(item('payment'), at(1), ok(status))).toMatchObject({ action: 'reschedule' });
    // Days of ACSP are not given up on (no cap): only the handler's `final` ends them.
    const acsp = item('payment', { lastStatus: 'ACSP', statusSince: at(0) });
    expect(policy.decide(acsp, at(10 * 86_400), ok('ACSP'))).toMatchObject({ action: 'reschedule' });
    expect(policy.decide(acsp, at(10 * 86_400), ok('ACSP', true))).toMatchObject({ action: 'remove', outcome: 'final' });
    // A settled payment's handler asks for the slow schedule.
    expect(delayAfter(item('payment'), at(5), { ok: true, result: { final: false, status: 'ACSC', nextPollAt: at(5 + 3600) } })).toBe(3600_000);
  });

  it('marks consents past their deadline (default or their own) and slows payments past theirs, never giving them up', () => {
    expect(policy.deadlinePassed(item('consent'), at(config.consentDeadlineMs / 1000 - 1))).toBe(false);
    expect(policy.deadlinePassed(item('consent'), at(config.consentDeadlineMs / 1000))).toBe(true);
    expect(policy.deadlinePassed(item('consent', { deadlineAt: at(30) }), at(30))).toBe(true);
    const slow = at(config.paymentSlowAfterMs / 1000 + 1);
    expect(delayAfter(item('payment'), slow, ok('RCVD'))).toBe(config.paymentSlowIntervalMs);
    expect(delayAfter(item('payment'), slow, failed(new BankError('flowe', 'transient', '503')))).toBeGreaterThanOrEqual(config.paymentSlowIntervalMs);
  });

  it('waits at least Retry-After after a 429, or the configured window without one', () => {
    const limited = (retryAfterSeconds?: number) => new BankError('flowe', 'rate_limited', '429', { status: 429, retryAfterSeconds });
    expect(delayAfter(item('payment'), at(1), failed(limited(7)))).toBeGreaterThanOrEqual(7000);
    expect(delayAfter(item('payment'), at(1), failed(limited()))).toBeGreaterThanOrEqual(config.rateLimitWindowMs);
  });

  it('backs off exponentially with jitter on 5xx and timeouts, growing with consecutive failures up to the cap', () => {
    const samples = (failures: number) =>
      Array.from({ length: 200 }, () => delayAfter(item('payment', { failures: failures - 1 }), at(1), failed(new BankError('flowe', 'transient', '503'))));
    for (const [failures, low, high] of [
      [1, 1000, 2000],
      [2, 2000, 4000],
      [3, 4000, 8000],
    ]) {
      const delays = samples(failures);
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(low);
      expect(Math.max(...delays)).toBeLessThan(high);
      expect(new Set(delays).size).toBeGreaterThan(50); // jittered, not lock-step
    }
    expect(Math.max(...samples(30))).toBeLessThanOrEqual(config.errorMaxBackoffMs);
    const decision = policy.decide(item('payment', { failures: 4 }), at(1), failed(new BankError('flowe', 'timeout', 'slow')));
    expect(decision).toMatchObject({ action: 'reschedule', record: { failures: 5, outcome: 'timeout', status: null } });
    expect(policy.decide(item('payment', { failures: 4 }), at(1), ok('RCVD'))).toMatchObject({ record: { failures: 0 } });
  });

  it('backs off the same way when the database is unavailable, and says so in the outcome', () => {
    const down = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    const decision = policy.decide(item('payment'), at(1), failed(down));
    expect(decision).toMatchObject({ action: 'reschedule', record: { failures: 1, outcome: 'database_unavailable', status: null } });
    expect(policy.decide(item('payment'), at(1), failed(new Error('a bug')))).toMatchObject({ record: { outcome: 'error' } });
  });

  it('honours an open circuit: no poll before the breaker half-opens', () => {
    const open = new BankError('flowe', 'unavailable', 'circuit open', { retryAfterSeconds: 10 });
    expect(delayAfter(item('payment'), at(1), failed(open))).toBeGreaterThanOrEqual(10_000);
  });

  it('drops items whose resource is gone, and consent items whose consent the bank refuses', () => {
    expect(policy.decide(item('payment'), at(1), failed(AppError.notFound('Payment')))).toMatchObject({ action: 'remove', outcome: 'gone' });
    const refused = new BankError('flowe', 'consent_invalid', 'CONSENT_INVALID', { bankCode: 'CONSENT_INVALID' });
    expect(policy.decide(item('ais-refresh'), at(1), failed(refused))).toMatchObject({ action: 'remove', outcome: 'consent_invalid' });
    expect(policy.decide(item('consent'), at(1), failed(refused))).toMatchObject({ action: 'remove' });
    expect(policy.decide(item('payment'), at(1), failed(refused))).toMatchObject({ action: 'reschedule' });
  });

  it('spaces unattended AIS refreshes as the AIS service says, with a fallback of 24 h / 4', () => {
    expect(delayAfter(item('ais-refresh'), at(0), { ok: true, result: { final: false, status: 'refreshed', nextPollAt: at(8 * 3600) } })).toBe(8 * 3600_000);
    expect(delayAfter(item('ais-refresh'), at(0), ok('refreshed'))).toBe(6 * 3600_000);
    expect(policy.decide(item('ais-refresh'), at(0), ok('not_valid', true))).toMatchObject({ action: 'remove' });
    // A failed refresh may have spent a unit: no quick retries that would burn the day's budget.
    expect(delayAfter(item('ais-refresh'), at(0), failed(new BankError('flowe', 'transient', '503')))).toBe(config.errorMaxBackoffMs);
  });

  it('refuses a configuration that would poll faster than the banks allow', () => {
    expect(() => schedulerConfig.parse({ SCHEDULER_MIN_INTERVAL_MS: '500' })).toThrow(ConfigError);
    expect(() => schedulerConfig.parse({ SCHEDULER_MIN_INTERVAL_MS: '500' })).toThrow(/SCHEDULER_MIN_INTERVAL_MS/);
    expect(() => schedulerConfig.parse({ SCHEDULER_ENABLED: 'maybe' })).toThrow(/SCHEDULER_ENABLED/);
  });
});
