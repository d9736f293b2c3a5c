import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * The deadline of the work a bank call belongs to (a user's request, a poll), as an absolute
 * `Date.now()` value carried through async calls. Every bank call made inside `withDeadline` ends by
 * it — time spent waiting for a free slot or a socket, refreshing the token, retrying after a 5xx,
 * following transaction pages — so one slow bank can never hold a request longer than its budget.
 * Nested deadlines can only shorten the outer one.
 */
const store = new AsyncLocalStorage<number>();

export function withDeadline<T>(deadlineMs: number, work: () => T): T {
  const outer = store.getStore();
  return store.run(outer === undefined ? deadlineMs : Math.min(outer, deadlineMs), work);
}

/** The current deadline, if the caller runs inside one. */
export function currentDeadline(): number | undefined {
  return store.getStore();
}

/** Milliseconds left before the current deadline, or before `fallbackMs` from now when there is none (never negative). */
export function remainingMs(fallbackMs: number): number {
  const deadline = store.getStore();
  const own = Date.now() + fallbackMs;
  return Math.max(0, (deadline === undefined ? own : Math.min(deadline, own)) - Date.now());
}
