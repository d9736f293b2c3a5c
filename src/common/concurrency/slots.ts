/**
 * A counting semaphore whose waiters give up at their own deadline: `acquire` resolves true with a
 * slot, or false when none came free in time (or too many already wait). A released slot goes to
 * the longest waiter still waiting. (cockatiel's bulkhead would queue too, but a waiter that gave
 * up keeps its place and is skipped only when its turn comes, stalling the waiters behind it.)
 */
export class Slots {
  private active = 0;
  private readonly waiters: { grant: () => void }[] = [];

  constructor(
    readonly capacity: number,
    private readonly maxWaiting: number,
  ) {}

  get idle(): boolean {
    return this.active === 0 && this.waiters.length === 0;
  }

  acquire(waitMs: number): Promise<boolean> {
    if (this.active < this.capacity) {
      this.active++;
      return Promise.resolve(true);
    }
    if (waitMs <= 0 || this.waiters.length >= this.maxWaiting) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = {
        grant: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(waiter);
    });
  }

  /** Hands the slot to the next waiter, or frees it. */
  release(): void {
    const next = this.waiters.shift();
    if (next) next.grant();
    else this.active--;
  }
}
