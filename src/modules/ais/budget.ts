import type { TransactionRange } from '../../aspsp/berlin-group/ais.js';
import { addDays, utcDate } from '../../aspsp/berlin-group/dates.js';
import type { BudgetCounting } from '../../config/banks.config.js';

/**
 * The unattended budget of a consent, as pure rules over what the ledger (`ais_unattended_reads`)
 * holds for its rolling 24 h window: how many uses are spent and left under the bank's counting
 * rule, whether one more request may be charged, which accounts a refresh can afford, and when the
 * next refresh should run. docs/design.md, "Account information", explains the plan.
 */

export const DAY_MS = 86_400_000;

/** The ledger's resource for rows written before uses were counted per call: it stands for every resource. */
export const ANY_RESOURCE = '*';

/** The requests charged in the window for one resource of one consent. */
export interface ResourceUsage {
  resource: string;
  /** Every request (every page). */
  calls: number;
  /** First pages only: the reads a `per_resource` bank counts. */
  reads: number;
  oldestCallAt: Date;
  oldestReadAt: Date | null;
}

export interface BudgetUsage {
  /** The consent's frequencyPerDay. */
  limit: number;
  resources: ResourceUsage[];
  /** The bank answered 429: nothing unattended before this. */
  blockedUntil: Date | null;
}

export interface BudgetState {
  limit: number;
  used: number;
  remaining: number;
  counting: BudgetCounting;
  /** When `remaining` next grows: the bank's Retry-After, or when the oldest counted use leaves the window. */
  nextUnitAt?: Date;
}

/** Reads of `resource` a per-resource bank has counted (legacy whole-refresh rows count for every resource). */
function readsOf(usage: BudgetUsage, resource: string): number {
  return usage.resources.filter((r) => r.resource === resource || r.resource === ANY_RESOURCE).reduce((n, r) => n + r.reads, 0);
}

function callsOf(usage: BudgetUsage): number {
  return usage.resources.reduce((n, r) => n + r.calls, 0);
}

/**
 * Uses spent: `per_call`, every request in the window; `per_resource`, the most-read resource's
 * reads (a refresh reads each resource once, so this is the number of refreshes' worth spent).
 */
export function usedUnits(usage: BudgetUsage, counting: BudgetCounting, resource?: string): number {
  if (counting === 'per_call') return callsOf(usage);
  if (resource !== undefined) return readsOf(usage, resource);
  const resources = usage.resources.filter((r) => r.resource !== ANY_RESOURCE);
  return resources.length === 0 ? readsOf(usage, ANY_RESOURCE) : Math.max(...resources.map((r) => readsOf(usage, r.resource)));
}

export function budgetState(usage: BudgetUsage, counting: BudgetCounting, now: Date): BudgetState {
  const used = usedUnits(usage, counting);
  const blocked = usage.blockedUntil !== null && usage.blockedUntil > now;
  const state: BudgetState = { limit: usage.limit, used, remaining: blocked ? 0 : Math.max(0, usage.limit - used), counting };
  const nextUnitAt = blocked ? usage.blockedUntil! : used > 0 ? windowRollsAt(usage, counting, used) : undefined;
  return nextUnitAt ? { ...state, nextUnitAt } : state;
}

/** When the count next drops: the oldest counted request turns 24 h old (for `per_resource`, on every most-read resource). */
function windowRollsAt(usage: BudgetUsage, counting: BudgetCounting, used: number): Date | undefined {
  if (counting === 'per_call') return new Date(Math.min(...usage.resources.map((r) => r.oldestCallAt.getTime())) + DAY_MS);
  const legacy = usage.resources.find((r) => r.resource === ANY_RESOURCE)?.oldestReadAt?.getTime();
  const atMax = usage.resources.filter((r) => r.resource !== ANY_RESOURCE && readsOf(usage, r.resource) === used).map((r) => r.oldestReadAt?.getTime() ?? 0);
  const oldest = [...atMax, ...(legacy === undefined ? [] : [legacy])];
  return oldest.length === 0 ? undefined : new Date(Math.max(...oldest) + DAY_MS);
}

/** One request about to carry the Consent-ID unattended. */
export interface ChargeRequest {
  resource: string;
  page: number;
}

/**
 * Whether the request may go: `per_call`, when one more use fits in the window (a later page takes
 * a use like any request: the accounts it leaves without one go first next time); `per_resource`,
 * when its resource has a read left (a later page continues its read and is never refused).
 */
export function mayCharge(usage: BudgetUsage, counting: BudgetCounting, req: ChargeRequest): boolean {
  if (counting === 'per_call') return callsOf(usage) + 1 <= usage.limit;
  return req.page > 1 || readsOf(usage, req.resource) + 1 <= usage.limit;
}

/** An account a refresh may read, with when its transactions were last read. */
export interface RefreshCandidate {
  resourceId: string;
  transactionsFetchedAt: Date | null;
  /** The bank's order, the tie-break. */
  position: number;
}

/**
 * The accounts whose transactions this refresh reads, after the account list (with balances) has
 * been read and charged: least recently refreshed first (never read first), so when the budget
 * cannot cover every account, the ones left out go first next time. `per_call`: as many as the
 * units left (one each: a read since the last refresh is one page); `per_resource`: every account
 * whose transactions still have a read left.
 */
export function accountsToRefresh<T extends RefreshCandidate>(usage: BudgetUsage, counting: BudgetCounting, candidates: readonly T[]): T[] {
  const fairest = [...candidates].sort(
    (a, b) => (a.transactionsFetchedAt?.getTime() ?? -Infinity) - (b.transactionsFetchedAt?.getTime() ?? -Infinity) || a.position - b.position,
  );
  if (counting === 'per_call') return fairest.slice(0, Math.max(0, usage.limit - callsOf(usage)));
  return fairest.filter((c) => readsOf(usage, transactionsResource(c.resourceId)) < usage.limit);
}

export function transactionsResource(resourceId: string): string {
  return `/accounts/${encodeURIComponent(resourceId)}/transactions`;
}

export function balancesResource(resourceId: string): string {
  return `/accounts/${encodeURIComponent(resourceId)}/balances`;
}

export const ACCOUNTS_RESOURCE = '/accounts';

/** Days re-read before the last refresh: a booking can arrive dated a day or two back (pending → booked). */
export const REFRESH_OVERLAP_DAYS = 3;
/**
 * The furthest back an unattended read goes: a week when every page is a use (`per_call`: one page
 * of an ordinary account), the usual 90 days when pages are free. Anything older is read attended,
 * which costs no budget, when the user asks for it.
 */
export const UNATTENDED_LOOKBACK_DAYS: Readonly<Record<BudgetCounting, number>> = { per_call: 7, per_resource: 90 };

/**
 * The range an unattended refresh reads for an account: from shortly before its last read (the
 * stored copy stays one unbroken window), never further back than the lookback, to today.
 */
export function refreshRange(
  account: { transactionsFetchedAt: Date | null; transactionsFrom: string | null },
  counting: BudgetCounting,
  today = utcDate(),
): TransactionRange {
  const earliest = addDays(today, -UNATTENDED_LOOKBACK_DAYS[counting]);
  let dateFrom = earliest;
  if (account.transactionsFetchedAt !== null && account.transactionsFrom !== null) {
    const sinceLast = addDays(utcDate(account.transactionsFetchedAt), -REFRESH_OVERLAP_DAYS);
    dateFrom = [sinceLast, account.transactionsFrom, earliest].reduce((a, b) => (a > b ? a : b));
  }
  return { dateFrom: dateFrom > today ? today : dateFrom, dateTo: today, bookingStatus: 'both' };
}

/** A minute beyond the even spacing, so clock skew never makes a refresh land inside the window. */
export const PACE_MARGIN_MS = 60_000;

/**
 * When the next unattended refresh should run after one that spent `units` of the consent's budget:
 * the budget spread evenly over the day (24 h / frequencyPerDay per unit), so a refresh that spent the
 * whole day's uses waits a day and one that spent one use waits a quarter of it (4 a day). A failed
 * refresh is paced the same way, so an outage cannot burn the day's budget in minutes.
 */
export function nextRefreshAfter(units: number, limit: number, now: Date): Date {
  return new Date(now.getTime() + (Math.max(1, units) * DAY_MS) / Math.max(1, limit) + PACE_MARGIN_MS);
}
