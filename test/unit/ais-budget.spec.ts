import { addDays } from '../../src/aspsp/berlin-group/dates.js';
import {
  accountsToRefresh,
  budgetState,
  mayCharge,
  nextRefreshAfter,
  refreshRange,
  usedUnits,
  type BudgetUsage,
  type ResourceUsage,
} from '../../src/modules/ais/budget.js';

const T0 = new Date('2026-03-10T12:00:00Z');
const ago = (hours: number) => new Date(T0.getTime() - hours * 3_600_000);
const TODAY = '2026-03-10';

function use(resource: string, calls: number, reads = calls, oldestHoursAgo = 5): ResourceUsage {
  return { resource, calls, reads, oldestCallAt: ago(oldestHoursAgo), oldestReadAt: reads > 0 ? ago(oldestHoursAgo) : null };
}

function usage(resources: ResourceUsage[], limit = 4, blockedUntil: Date | null = null): BudgetUsage {
  return { limit, resources, blockedUntil };
}

/** One refresh of two accounts: the list, then each account's transactions (the first one in two pages). */
const oneRefresh = usage([use('/accounts', 1), use('/accounts/A/transactions', 2, 1), use('/accounts/B/transactions', 1)]);

describe('AIS budget rules', () => {
  it('counts every request per call, and the most-read resource per resource (pages continue a read)', () => {
    expect(usedUnits(oneRefresh, 'per_call')).toBe(4);
    expect(usedUnits(oneRefresh, 'per_resource')).toBe(1);
    expect(usedUnits(oneRefresh, 'per_resource', '/accounts/A/transactions')).toBe(1);
    expect(usedUnits(usage([]), 'per_call')).toBe(0);
    expect(usedUnits(usage([]), 'per_resource')).toBe(0);
  });

  it('counts a row from before per-call charging (resource *) against every resource', () => {
    const legacy = usage([use('*', 1), use('/accounts', 1)]);
    expect(usedUnits(legacy, 'per_resource', '/accounts')).toBe(2);
    expect(usedUnits(legacy, 'per_resource', '/accounts/A/transactions')).toBe(1);
    expect(usedUnits(usage([use('*', 3)]), 'per_resource')).toBe(3);
  });

  it('refuses the use past frequencyPerDay: per call any request, per resource only a first page of a spent resource', () => {
    const three = usage([use('/accounts', 1), use('/accounts/A/transactions', 2, 1)]);
    expect(mayCharge(three, 'per_call', { resource: '/accounts/A/transactions', page: 3 })).toBe(true);
    expect(mayCharge(oneRefresh, 'per_call', { resource: '/accounts/B/transactions', page: 1 })).toBe(false);
    expect(mayCharge(oneRefresh, 'per_call', { resource: '/accounts/A/transactions', page: 2 })).toBe(false);
    const spentList = usage([use('/accounts', 4), use('/accounts/A/transactions', 4)]);
    expect(mayCharge(spentList, 'per_resource', { resource: '/accounts', page: 1 })).toBe(false);
    expect(mayCharge(spentList, 'per_resource', { resource: '/accounts/A/transactions', page: 2 })).toBe(true);
    expect(mayCharge(spentList, 'per_resource', { resource: '/accounts/B/transactions', page: 1 })).toBe(true);
  });

  it('reports limit, used, remaining and when a use comes back: the oldest use turns 24 h old, or the bank’s Retry-After', () => {
    expect(budgetState(usage([]), 'per_call', T0)).toEqual({ limit: 4, used: 0, remaining: 4, counting: 'per_call' });
    expect(budgetState(usage([use('/accounts', 1, 1, 20), use('/accounts/A/transactions', 1, 1, 3)]), 'per_call', T0)).toEqual({
      limit: 4,
      used: 2,
      remaining: 2,
      counting: 'per_call',
      nextUnitAt: new Date(ago(20).getTime() + 86_400_000),
    });
    const blocked = budgetState(usage([use('/accounts', 1)], 4, new Date(T0.getTime() + 600_000)), 'per_call', T0);
    expect(blocked).toMatchObject({ used: 1, remaining: 0, nextUnitAt: new Date(T0.getTime() + 600_000) });
    // Per resource, remaining grows once every most-read resource has rolled.
    const perResource = budgetState(
      usage([use('/accounts', 2, 2, 20), use('/accounts/A/transactions', 2, 2, 10), use('/accounts/B/transactions', 1, 1, 22)]),
      'per_resource',
      T0,
    );
    expect(perResource).toEqual({ limit: 4, used: 2, remaining: 2, counting: 'per_resource', nextUnitAt: new Date(ago(10).getTime() + 86_400_000) });
  });

  it('refreshes the least recently read accounts first, as many as the uses left per call, every one with a read left per resource', () => {
    const accounts = [
      { resourceId: 'A', transactionsFetchedAt: ago(2), position: 0 },
      { resourceId: 'B', transactionsFetchedAt: null, position: 1 },
      { resourceId: 'C', transactionsFetchedAt: ago(30), position: 2 },
      { resourceId: 'D', transactionsFetchedAt: null, position: 3 },
    ];
    const afterList = usage([use('/accounts', 1)]);
    expect(accountsToRefresh(afterList, 'per_call', accounts).map((a) => a.resourceId)).toEqual(['B', 'D', 'C']);
    expect(accountsToRefresh(usage([use('/accounts', 1)], 1), 'per_call', accounts)).toEqual([]);
    expect(accountsToRefresh(afterList, 'per_resource', accounts).map((a) => a.resourceId)).toEqual(['B', 'D', 'C', 'A']);
    const cSpent = usage([use('/accounts', 1), use('/accounts/C/transactions', 4)]);
    expect(accountsToRefresh(cSpent, 'per_resource', accounts).map((a) => a.resourceId)).toEqual(['B', 'D', 'A']);
  });

  it('reads since shortly before the last refresh, never further back than the lookback, and a short window first under per_call', () => {
    expect(refreshRange({ transactionsFetchedAt: null, transactionsFrom: null }, 'per_call', TODAY)).toEqual({
      dateFrom: addDays(TODAY, -7),
      dateTo: TODAY,
      bookingStatus: 'both',
    });
    expect(refreshRange({ transactionsFetchedAt: null, transactionsFrom: null }, 'per_resource', TODAY).dateFrom).toBe(addDays(TODAY, -90));
    expect(refreshRange({ transactionsFetchedAt: ago(6), transactionsFrom: addDays(TODAY, -90) }, 'per_call', TODAY).dateFrom).toBe(addDays(TODAY, -3));
    // The stored copy started later than the overlap: read from where it starts (no gap, nothing re-read needlessly).
    expect(refreshRange({ transactionsFetchedAt: ago(6), transactionsFrom: addDays(TODAY, -1) }, 'per_call', TODAY).dateFrom).toBe(addDays(TODAY, -1));
    // Last read a month ago: per call only the last week (the stored copy then starts there).
    expect(refreshRange({ transactionsFetchedAt: ago(24 * 30), transactionsFrom: addDays(TODAY, -120) }, 'per_call', TODAY).dateFrom).toBe(addDays(TODAY, -7));
  });

  it('paces the next refresh by the uses spent: the day’s budget spread over the day', () => {
    expect(nextRefreshAfter(4, 4, T0).getTime() - T0.getTime()).toBe(86_400_000 + 60_000);
    expect(nextRefreshAfter(1, 4, T0).getTime() - T0.getTime()).toBe(6 * 3_600_000 + 60_000);
    expect(nextRefreshAfter(2, 4, T0).getTime() - T0.getTime()).toBe(12 * 3_600_000 + 60_000);
    expect(nextRefreshAfter(1, 1, T0).getTime() - T0.getTime()).toBe(86_400_000 + 60_000);
    expect(nextRefreshAfter(0, 4, T0).getTime() - T0.getTime()).toBe(6 * 3_600_000 + 60_000);
  });
});
