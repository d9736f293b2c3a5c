/**
 * Advisory lock keys the outbox trigger takes (migration OutboxCommitOrder): a writer holds
 * (OUTBOX_WRITING, 0) from before it draws an id, and (OUTBOX_ID, low 32 bits of the id) once it
 * has one, both until its transaction ends.
 */
export const OUTBOX_WRITING = 7311301;
export const OUTBOX_ID = 7311302;

/** An outbox advisory lock as pg_locks shows it: the holder's pid, the first key, the second key as an unsigned 32-bit number. */
export interface OutboxLock {
  pid: number;
  key: number;
  low: number;
}

const SPAN = 2n ** 32n;

/**
 * The lowest id that may still appear (every id below it is committed or rolled back for good),
 * or undefined when that cannot be known right now: a writer has announced itself but not yet
 * drawn its id (a matter of microseconds; ask again).
 *
 * `drawnBefore` is the sequence's last value read *before* the locks were: an id above it was
 * drawn after the locks were read, by a writer that was then still in flight or not yet started,
 * so it is not settled. Ids in flight are known by their low 32 bits only; in-flight ids lie within
 * 2^31 of `drawnBefore`, which makes the full id unambiguous.
 */
export function outboxWatermark(drawnBefore: bigint, locks: readonly OutboxLock[]): bigint | undefined {
  const drawing = new Set(locks.filter((l) => l.key === OUTBOX_WRITING).map((l) => l.pid));
  let lowest = drawnBefore + 1n;
  for (const lock of locks) {
    if (lock.key !== OUTBOX_ID) continue;
    drawing.delete(lock.pid);
    const id = nearest(drawnBefore, BigInt(lock.low));
    if (id < lowest) lowest = id;
  }
  return drawing.size > 0 ? undefined : lowest;
}

/** The number congruent to `low` modulo 2^32 closest to `around`. */
function nearest(around: bigint, low: bigint): bigint {
  let delta = (((low - around) % SPAN) + SPAN) % SPAN;
  if (delta >= SPAN / 2n) delta -= SPAN;
  return around + delta;
}
